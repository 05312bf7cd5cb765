"""Tracking out to the Squarespace sandbox: the cart is told once (also after a lost reply and a
"resend"), a refusal is kept on the shipment and the order and retried after a backoff, and
carrier names reach the cart as it expects them."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import CarrierNameMap, OrderEvent, OrderStatus, Shipment
from orders.services.tracking.push import shipments_resend
from tests.orders.tracking_helpers import (
    TWO_SKU_1,
    codes,
    deliver,
    fulfillment_posts,
    make_due,
    package,
    run_shipments,
    ship,
    tracking_at_cart,
)


def test_once_the_cart_has_the_tracking_a_second_run_pushes_nothing(wired):
    order = deliver(wired, lines=TWO_SKU_1)
    ship(wired, order.cust_ref, package("1ZONCE0001", ("SKU-1", 1)), package("1ZONCE0002", ("SKU-1", 1)))
    _, first = run_shipments(wired)
    posts_after_first = len(fulfillment_posts(wired.squarespace))

    _, second = run_shipments(wired)

    assert first.counts["shipments_pushed"] == 2, first.error
    assert posts_after_first == 2
    assert second.counts.get("shipments_pushed", 0) == 0
    assert len(fulfillment_posts(wired.squarespace)) == 2
    assert sorted(tracking_at_cart(wired.squarespace, order)) == ["1ZONCE0001", "1ZONCE0002"]


@pytest.mark.parametrize("mode", ["after", "after_drop"])
def test_when_the_push_reply_is_lost_the_next_run_finds_the_tracking_at_the_cart_and_sends_no_second_fulfillment(
    wired, mode
):
    order = deliver(wired)
    ship(wired, order.cust_ref, package("1ZLOST0001", ("SKU-1", 1)))
    wired.squarespace.fail_next(1, status=500, mode=mode, path_contains="/fulfillments", method="POST")

    _, lost = run_shipments(wired)

    parcel = order.shipments.get()
    assert tracking_at_cart(wired.squarespace, order) == ["1ZLOST0001"]  # the cart did take it
    assert parcel.push_status == Shipment.PushStatus.FAILED, lost.error
    assert parcel.next_push_at is not None
    assert OrderEvent.objects.filter(order=order, code="tracking_failed").exists()
    make_due(parcel)

    _, again = run_shipments(wired)

    parcel.refresh_from_db()
    order.refresh_from_db()
    assert again.counts["tracking_already_at_cart"] == 1, again.error
    assert again.counts.get("shipments_pushed", 0) == 0
    assert len(fulfillment_posts(wired.squarespace)) == 1
    assert tracking_at_cart(wired.squarespace, order) == ["1ZLOST0001"]
    assert parcel.push_status == Shipment.PushStatus.ACCEPTED
    assert order.status == OrderStatus.CONFIRMED


def test_resend_tracking_never_duplicates_what_the_cart_already_has(wired):
    order = deliver(wired, lines=TWO_SKU_1)
    ship(wired, order.cust_ref, package("1ZRSND0001", ("SKU-1", 1)), package("1ZRSND0002", ("SKU-1", 1)))
    run_shipments(wired)
    parcels = list(order.shipments.all())

    assert shipments_resend(shipment_ids=[p.pk for p in parcels]) == 2
    assert set(order.shipments.values_list("push_status", flat=True)) == {Shipment.PushStatus.PENDING}
    _, resent = run_shipments(wired)

    assert resent.counts["tracking_already_at_cart"] == 2, resent.error
    assert len(fulfillment_posts(wired.squarespace)) == 2
    assert sorted(tracking_at_cart(wired.squarespace, order)) == ["1ZRSND0001", "1ZRSND0002"]
    assert set(order.shipments.values_list("push_status", flat=True)) == {Shipment.PushStatus.ACCEPTED}


def test_the_admin_resend_tracking_action_does_not_duplicate_the_carts_tracking(wired, admin_client):
    order = deliver(wired)
    ship(wired, order.cust_ref, package("1ZADMN0001", ("SKU-1", 1)))
    run_shipments(wired)
    parcel = order.shipments.get()

    page = admin_client.post(
        reverse("admin:orders_shipment_changelist"),
        {"action": "resend_tracking", "_selected_action": [parcel.pk]},
        follow=True,
    )
    run_shipments(wired)

    assert page.status_code == 200
    assert "1 shipment(s) will be pushed again" in page.content.decode()
    assert len(fulfillment_posts(wired.squarespace)) == 1
    assert tracking_at_cart(wired.squarespace, order) == ["1ZADMN0001"]


def refuse_with_403(squarespace) -> None:
    squarespace.orders_read_only = True  # a key with Orders "Read" only


def refuse_with_400(squarespace) -> None:
    squarespace.fail_next(1, status=400, path_contains="/fulfillments", method="POST")


@pytest.mark.parametrize("refuse", [refuse_with_403, refuse_with_400], ids=["403_read_only_key", "400_refused"])
def test_a_cart_that_refuses_the_tracking_leaves_it_failed_on_the_shipment_and_order_then_a_later_run_pushes_it(
    wired, refuse
):
    order = deliver(wired)
    ship(wired, order.cust_ref, package("1ZRFSD0001", ("SKU-1", 1)))
    refuse(wired.squarespace)

    run_shipments(wired)

    parcel = order.shipments.get()
    order.refresh_from_db()
    assert parcel.push_status == Shipment.PushStatus.FAILED
    assert parcel.last_push_error
    assert parcel.push_attempts == 1
    assert parcel.next_push_at is not None and parcel.next_push_at > timezone.now()
    assert order.status == OrderStatus.SHIPPED  # nothing lost: shipped, not confirmed
    failure = OrderEvent.objects.filter(order=order, code="tracking_failed").get()
    assert "did not accept" in failure.message
    assert wired.squarespace.fulfillments_for(order.cart_order_id) == []

    wired.squarespace.orders_read_only = False
    posts_before = len(fulfillment_posts(wired.squarespace))
    _, too_early = run_shipments(wired)  # still inside the backoff: not tried again
    assert len(fulfillment_posts(wired.squarespace)) == posts_before
    assert too_early.counts.get("shipments_pushed", 0) == 0

    make_due(parcel)
    _, later = run_shipments(wired)

    parcel.refresh_from_db()
    order.refresh_from_db()
    assert later.counts["shipments_pushed"] == 1, later.error
    assert parcel.push_status == Shipment.PushStatus.ACCEPTED
    assert parcel.last_push_error == "" and parcel.next_push_at is None
    assert order.status == OrderStatus.CONFIRMED
    assert tracking_at_cart(wired.squarespace, order) == ["1ZRFSD0001"]
    assert codes(order)[-2:] == ["tracking_accepted", "confirmed"]


@pytest.mark.parametrize(
    ("mapping", "expected"),
    [(None, "FedEx"), ("Federal Express Ground", "Federal Express Ground")],
    ids=["default", "connection_mapping"],
)
def test_a_warehouse_carrier_code_reaches_the_cart_under_the_name_it_expects(wired, mapping, expected):
    if mapping:
        CarrierNameMap.objects.create(cart_connection=wired.cart, warehouse_carrier="fdx", cart_carrier=mapping)
    order = deliver(wired)
    ship(wired, order.cust_ref, package("771000009999", ("SKU-1", 1), carrier="FDX", service="2Day"))

    _, pushed = run_shipments(wired)

    assert pushed.counts["shipments_pushed"] == 1, pushed.error
    [fulfillment] = wired.squarespace.fulfillments_for(order.cart_order_id)
    assert fulfillment["carrierName"] == expected
    assert fulfillment["service"] == "2Day"
    assert fulfillment["trackingNumber"] == "771000009999"
    assert order.shipments.get().carrier == "FDX"  # kept as the warehouse said it
