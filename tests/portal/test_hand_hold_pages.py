"""Holding an order by hand and releasing it from the merchant's order page and the admin's: both go
through `orders.services.hand_hold`, the page shows the hold window, and Release queues the send."""

from __future__ import annotations

from django.urls import reverse

from orders.models import HoldCode, OrderEvent, OrderStatus
from tests.admin_helpers import messages_of
from tests.orders.helpers import order_for, order_posts, seed, sync
from tests.orders.test_hold_window import windowed


def windowed_order(wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    windowed(wired)
    cart_order = seed(wired.squarespace, "1001")
    sync(wired.cart)
    return order_for(wired.cart, cart_order)


def test_the_merchant_page_shows_the_window_holds_with_a_reason_and_releases_with_the_person(
    wired_client, wired, settings
):
    order = windowed_order(wired, settings)
    detail = reverse("portal:order_detail", args=[order.pk])

    page = wired_client.get(detail).content.decode()
    assert f"Waits until {order.hold_until:%H:%M} (hold window)" in page
    assert 'id="hand-hold-form"' in page and "Release early (send now)" in page

    refused = wired_client.post(reverse("portal:order_hand_hold", args=[order.pk]), {"reason": " "}, follow=True)
    assert refused.status_code == 200 and "give a reason" in refused.content.decode()

    wired_client.post(reverse("portal:order_hand_hold", args=[order.pk]), {"reason": "address check"})
    order.refresh_from_db()
    assert (order.status, order.hold_code) == (OrderStatus.ERROR, HoldCode.HELD_BY_HAND)
    assert OrderEvent.objects.get(order=order, code=HoldCode.HELD_BY_HAND).user.username == "wired-shopkeeper"
    page = wired_client.get(detail).content.decode()
    assert "Release (and send)" in page and 'id="hand-hold-form"' not in page

    response = wired_client.post(reverse("portal:order_release", args=[order.pk]), follow=True)

    assert response.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WMS  # the send job ran inline (test settings)
    assert len(order_posts(wired.bergen)) == 1
    assert OrderEvent.objects.get(order=order, code="hand_hold_released").user.username == "wired-shopkeeper"


def test_a_merchant_cannot_hold_an_order_already_at_the_warehouse(wired_client, wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    cart_order = seed(wired.squarespace, "1001")
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)

    response = wired_client.post(reverse("portal:order_hand_hold", args=[order.pk]), {"reason": "x"}, follow=True)

    assert "ask the warehouse to hold it" in response.content.decode().lower()
    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WMS


def test_the_admin_page_holds_and_releases_early_through_the_same_service(admin_client, admin_user, wired, settings):
    order = windowed_order(wired, settings)
    page = reverse("admin:orders_order_change", args=[order.pk])

    html = admin_client.get(page).content.decode()
    assert "(hold window)" in html and 'id="release-form"' in html

    response = admin_client.post(
        reverse("admin:orders_order_hold", args=[order.pk, "hand-hold"]), {"reason": "fraud check"}, follow=True
    )
    [(level, text)] = messages_of(response)
    assert level == "success" and "held by hand" in text
    event = OrderEvent.objects.get(order=order, code=HoldCode.HELD_BY_HAND)
    assert event.user == admin_user and "fraud check" in event.message

    admin_client.post(reverse("admin:orders_order_hold", args=[order.pk, "release"]))

    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WMS
    assert len(order_posts(wired.bergen)) == 1
