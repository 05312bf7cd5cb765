"""Holding an order by hand and releasing it from the merchant's order page in headless Chromium:
an order waiting in its hold window is held with a reason, then released, and sent once."""

from __future__ import annotations

import pytest

from orders.models import HoldCode, OrderStatus
from tests.browser.conftest import sign_in
from tests.orders.helpers import order_for, order_posts, seed, sync
from tests.portal.conftest import PASSWORD, merchant_user


def _wait_for_message(page, level: str) -> str:
    message = page.locator(f".messages .{level}").last
    message.wait_for()
    return message.inner_text()


@pytest.mark.browser
def test_a_merchant_holds_an_order_in_its_window_and_releases_it(page, wired, settings, screenshots_dir):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    wired.cart.hold_minutes = 60
    wired.cart.save()
    cart_order = seed(wired.squarespace, "7101")
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    user = merchant_user(wired.merchant, "shop-7101")
    sign_in(page, user.username, PASSWORD)
    page.goto(f"/merchant/orders/{order.pk}/")

    assert f"Waits until {order.hold_until:%H:%M} (hold window)" in page.locator("#hold-window").inner_text()
    page.get_by_role("button", name="Hold").click()  # no reason: the browser asks for one, nothing is posted
    order.refresh_from_db()
    assert order.status == OrderStatus.NEW

    page.get_by_label("Hold this order by hand, because").fill("customer may add an item")
    page.get_by_role("button", name="Hold").click()
    assert "is held by hand" in _wait_for_message(page, "success")
    assert "Held by hand by shop-7101: customer may add an item" in page.locator("#hold").inner_text()
    page.screenshot(path=str(screenshots_dir / "merchant-order-held-by-hand.png"), full_page=True)
    order.refresh_from_db()
    assert order.hold_code == HoldCode.HELD_BY_HAND
    sync(wired.cart)
    assert order_posts(wired.bergen) == []

    page.get_by_role("button", name="Release (and send)").click()
    assert "Send now: delivered 1 of 1." in _wait_for_message(page, "success")  # the job ran inline here
    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WMS
    assert len(order_posts(wired.bergen)) == 1
    assert order.events.get(code="hand_hold_released").user == user
