"""Fixing a held order from its own page in headless Chromium: the admin's order page and the
merchant's (desktop and 375 px), an alias picked from the warehouse's SKU list (an unknown one
refused), retry, send now (its job run inline here; with a real worker in test_sync_now), and an
edited ship-to."""

from __future__ import annotations

import pytest

from orders.models import OrderStatus
from tests.admin_helpers import import_order
from tests.browser.conftest import sign_in
from tests.browser.test_admin_tenancy import sign_in_to_admin
from tests.portal.conftest import PASSWORD, merchant_user


def _wait_for_message(page, level: str):
    message = page.locator(f".messagelist .{level}, .messages .{level}").last
    message.wait_for()
    return message.inner_text()


@pytest.mark.browser
def test_staff_fix_a_held_order_from_its_admin_page(page, admin_user, wired, screenshots_dir):
    held = import_order(wired, "7001", sku="TEE-BLK")
    sign_in_to_admin(page, admin_user)
    page.goto(f"/admin/orders/order/{held.pk}/change/")
    panel = page.locator("#hold-panel")
    assert "The warehouse does not know SKU 'TEE-BLK'" in panel.inner_text()
    page.screenshot(path=str(screenshots_dir / "admin-held-order.png"), full_page=True)

    panel.locator("#alias-sku-1").fill("NO-SUCH-SKU")
    panel.get_by_role("button", name="Save alias").click()
    assert "does not list SKU 'NO-SUCH-SKU'" in _wait_for_message(page, "error")

    page.locator("#alias-sku-1").fill("SKU-2")
    page.get_by_role("button", name="Save alias").click()
    assert "Order #7001 released" in _wait_for_message(page, "success")

    page.get_by_role("button", name="Send now").click()
    assert _wait_for_message(page, "success") == "Send now: delivered 1 of 1."  # the job ran inline here
    assert page.locator("#job").get_attribute("data-job-state") == "finished"
    held.refresh_from_db()
    assert held.status == OrderStatus.AT_WMS  # the task ran (synchronously, in tests)
    assert wired.bergen.order(held.cust_ref)["poNum"] == "7001"
    assert held.events.get(code="alias_saved").user == admin_user


@pytest.mark.browser
def test_staff_edit_the_ship_to_and_are_told_whether_it_will_go(page, admin_user, wired):
    held = import_order(wired, "7002", sku="TEE-BLK")
    sign_in_to_admin(page, admin_user)
    page.goto(f"/admin/orders/order/{held.pk}/change/")

    page.locator("#ship-to-edit summary").click()
    page.locator("#ship-to-form").get_by_label("City").fill("Jersey City")
    page.get_by_role("button", name="Save ship-to").click()

    text = _wait_for_message(page, "warning")
    assert text.startswith("Ship-to saved. Order #7002 is still held") and "TEE-BLK" in text
    held.refresh_from_db()
    assert held.ship_city == "Jersey City"
    assert "Ship-to edited by" in page.locator("body").inner_text()


def _merchant_fixes_a_held_order(page, wired, number: str) -> None:
    held = import_order(wired, number, sku="TEE-BLK")
    user = merchant_user(wired.merchant, f"shop-{number}")
    sign_in(page, user.username, PASSWORD)
    page.goto(f"/merchant/orders/{held.pk}/")

    page.locator("#alias-sku-1").fill("NOPE")
    page.get_by_role("button", name="Save alias").click()
    assert "does not list SKU 'NOPE'" in _wait_for_message(page, "error")

    page.locator("#alias-sku-1").fill("SKU-2")
    page.get_by_role("button", name="Save alias").click()
    assert f"Order #{number} released" in _wait_for_message(page, "success")

    send = page.get_by_role("button", name="Send now")
    box = send.bounding_box()
    assert box is not None and box["x"] + box["width"] <= page.viewport_size["width"]  # reachable on screen
    send.click()
    assert _wait_for_message(page, "success") == "Send now: delivered 1 of 1."  # the job ran inline here
    assert "Send now: delivered 1 of 1." in page.locator("#job").inner_text()
    held.refresh_from_db()
    assert held.status == OrderStatus.AT_WMS
    assert held.events.get(code="send_queued").user == user


@pytest.mark.browser
def test_a_merchant_fixes_a_held_order_from_its_page_on_a_desktop(page, wired):
    _merchant_fixes_a_held_order(page, wired, "7003")


@pytest.mark.browser
def test_a_merchant_fixes_a_held_order_from_its_page_on_a_phone(page, wired, screenshots_dir):
    page.set_viewport_size({"width": 375, "height": 740})
    _merchant_fixes_a_held_order(page, wired, "7004")
    page.screenshot(path=str(screenshots_dir / "merchant-order-375.png"), full_page=True)
