"""Tracking in from the Bergen sandbox: each parcel stored once, the order's status follows, and
bad input (a reference we never sent, an unreadable parcel) is named on the run without stopping it."""

from __future__ import annotations

from django.urls import reverse

from orders.models import Order, OrderEvent, OrderStatus, Shipment
from sync.return_path import cart_connection_push_tracking, warehouse_sync_shipments
from tests.orders.tracking_helpers import (
    SKU_1_AND_SKU_2,
    TWO_SKU_1,
    codes,
    deliver,
    fulfillment_posts,
    package,
    post_order_straight_to_bergen,
    run_shipments,
    ship,
    tracking_at_cart,
)


def test_each_warehouse_parcel_is_imported_once_even_when_read_again_in_the_overlap_window(wired):
    order = deliver(wired, lines=TWO_SKU_1)
    ship(wired, order.cust_ref, package("1ZAAA0001", ("SKU-1", 1)), package("1ZAAA0002", ("SKU-1", 1)))

    first, _ = run_shipments(wired)
    second, _ = run_shipments(wired)

    assert first.counts["shipments"] == 2, first.error
    assert second.counts.get("shipments", 0) == 0
    assert second.counts["known"] == 2  # read again (the windows overlap), recognised by id
    assert second.window_start < first.window_end
    parcels = Shipment.objects.filter(warehouse=wired.wms)
    assert parcels.count() == 2
    assert sorted(p.tracking_numbers[0] for p in parcels) == ["1ZAAA0001", "1ZAAA0002"]
    assert len({p.warehouse_shipment_id for p in parcels}) == 2
    assert OrderEvent.objects.filter(order=order, code="shipment").count() == 2


def test_an_order_shipped_in_two_parcels_becomes_shipped_then_confirmed_with_two_tracking_entries(wired):
    order = deliver(wired, lines=TWO_SKU_1)
    ship(wired, order.cust_ref, package("1ZBBB0001", ("SKU-1", 1)), package("1ZBBB0002", ("SKU-1", 1)))

    imported = warehouse_sync_shipments(warehouse=wired.wms)

    order.refresh_from_db()
    assert imported.counts["shipments"] == 2 and imported.counts["orders_shipped"] == 1, imported.error
    assert order.status == OrderStatus.SHIPPED
    assert order.partially_shipped is False
    assert order.shipments.count() == 2
    assert set(order.shipments.values_list("push_status", flat=True)) == {Shipment.PushStatus.PENDING}

    pushed = cart_connection_push_tracking(connection=wired.cart)

    order.refresh_from_db()
    assert pushed.status == "succeeded", pushed.error
    assert pushed.counts["shipments_pushed"] == 2
    assert order.status == OrderStatus.CONFIRMED
    assert sorted(tracking_at_cart(wired.squarespace, order)) == ["1ZBBB0001", "1ZBBB0002"]
    assert len(fulfillment_posts(wired.squarespace)) == 2
    for parcel in order.shipments.all():
        assert parcel.push_status == Shipment.PushStatus.ACCEPTED
        assert parcel.cart_accepted_at is not None
    history = codes(order)
    assert history.count("shipment") == 2
    steps = [c for c in history if c in ("shipment", "shipped", "tracking_accepted", "confirmed")]
    assert steps == ["shipment", "shipment", "shipped", "tracking_accepted", "tracking_accepted", "confirmed"]
    changes = [(e.from_status, e.to_status) for e in OrderEvent.objects.filter(order=order) if e.to_status]
    assert changes[-2:] == [(OrderStatus.AT_WMS, OrderStatus.SHIPPED), (OrderStatus.SHIPPED, OrderStatus.CONFIRMED)]


def test_an_order_with_only_some_lines_shipped_stays_at_the_warehouse_and_shows_partially_shipped(wired, admin_client):
    order = deliver(wired, lines=SKU_1_AND_SKU_2)
    ship(wired, order.cust_ref, package("1ZCCC0001", ("SKU-1", 1)))

    warehouse_run, _ = run_shipments(wired)

    order.refresh_from_db()
    assert warehouse_run.counts["shipments"] == 1
    assert warehouse_run.counts["orders_shipped"] == 0
    assert order.status == OrderStatus.AT_WMS
    assert order.partially_shipped is True
    assert "partially_shipped" in codes(order)
    page = admin_client.get(reverse("admin:orders_order_changelist"))
    assert page.status_code == 200
    assert "at warehouse, partially shipped" in page.content.decode()  # the status column, not the filter

    ship(wired, order.cust_ref, package("1ZCCC0002", ("SKU-2", 1)))  # the rest, later
    warehouse_run, cart_run = run_shipments(wired)

    order.refresh_from_db()
    assert warehouse_run.counts["orders_shipped"] == 1
    assert (order.status, order.partially_shipped) == (OrderStatus.CONFIRMED, False)
    assert sorted(tracking_at_cart(wired.squarespace, order)) == ["1ZCCC0001", "1ZCCC0002"]
    assert (
        "at warehouse, partially shipped"
        not in admin_client.get(reverse("admin:orders_order_changelist")).content.decode()
    )


def test_tracking_for_a_reference_we_never_sent_is_kept_unmatched_and_named_while_the_rest_goes_on(wired):
    ours = deliver(wired)
    post_order_straight_to_bergen(wired.bergen, "NOT-OURS-7")
    ship(wired, "NOT-OURS-7", package("1ZSTRANGER1", ("SKU-1", 1)))
    ship(wired, ours.cust_ref, package("1ZOURS0001", ("SKU-1", 1)))

    warehouse_run, cart_run = run_shipments(wired)

    stranger = Shipment.objects.get(warehouse=wired.wms, cust_ref="NOT-OURS-7")
    assert stranger.order is None
    assert stranger.push_status == Shipment.PushStatus.UNMATCHED
    assert stranger.tracking_numbers == ["1ZSTRANGER1"]
    assert warehouse_run.counts["unmatched"] == 1
    assert warehouse_run.status == "partial"
    assert "NOT-OURS-7" in warehouse_run.error and "1ZSTRANGER1" in warehouse_run.error
    ours.refresh_from_db()
    assert ours.status == OrderStatus.CONFIRMED, cart_run.error
    assert tracking_at_cart(wired.squarespace, ours) == ["1ZOURS0001"]
    assert len(fulfillment_posts(wired.squarespace)) == 1


def test_a_malformed_shipment_gives_a_clear_message_on_the_run_and_the_rest_goes_on(wired):
    broken = deliver(wired, "5001")
    fine = deliver(wired, "5002")
    ship(wired, broken.cust_ref, package(None, ("SKU-1", 1), carrier=None, service=None))
    ship(wired, fine.cust_ref, package("1ZFINE0001", ("SKU-1", 1)))

    warehouse_run, cart_run = run_shipments(wired)

    assert warehouse_run.counts["unreadable"] == 1
    assert warehouse_run.counts["shipments"] == 1
    assert warehouse_run.status == "partial"
    assert broken.cust_ref in warehouse_run.error
    assert "no tracking number or carrier" in warehouse_run.error
    assert not Shipment.objects.filter(order=broken).exists()
    broken.refresh_from_db()
    assert broken.status == OrderStatus.AT_WMS
    fine.refresh_from_db()
    assert fine.status == OrderStatus.CONFIRMED, cart_run.error
    assert tracking_at_cart(wired.squarespace, fine) == ["1ZFINE0001"]


def test_in_complete_mode_a_partial_shipment_waits_until_the_order_is_complete_then_all_parcels_go(wired):
    wired.wms.tracking_mode = "complete"
    wired.wms.save()
    order = deliver(wired, lines=SKU_1_AND_SKU_2)
    ship(wired, order.cust_ref, package("1ZDDD0001", ("SKU-1", 1)))

    _, cart_run = run_shipments(wired)

    first = order.shipments.get()
    assert first.push_status == Shipment.PushStatus.WAITING
    assert cart_run.counts["tracking_waiting"] == 1
    assert fulfillment_posts(wired.squarespace) == []
    assert wired.squarespace.fulfillments_for(order.cart_order_id) == []
    assert "tracking_waiting" in codes(order)

    ship(wired, order.cust_ref, package("1ZDDD0002", ("SKU-2", 1)))
    warehouse_run, cart_run = run_shipments(wired)

    order.refresh_from_db()
    assert warehouse_run.counts["shipments"] == 1
    assert cart_run.counts["shipments_pushed"] == 2, cart_run.error
    assert sorted(tracking_at_cart(wired.squarespace, order)) == ["1ZDDD0001", "1ZDDD0002"]
    assert set(order.shipments.values_list("push_status", flat=True)) == {Shipment.PushStatus.ACCEPTED}
    assert order.status == OrderStatus.CONFIRMED
    assert Order.objects.get(pk=order.pk).partially_shipped is False
