"""Reconciliation against the sandboxes: gaps injected into the sandboxes' own stores are found and
named, and a clean run has no gap. Every count comes from what the sandboxes answer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import CartConnection
from orders.models import Order, OrderStatus, Problem
from sync.alerts import alerts_send_digests
from sync.cycle import cart_connection_sync_orders
from sync.models import Reconciliation
from sync.reconcile.run import connection_reconcile, reconcile
from sync.tasks import reconcile_task
from tests.orders.tracking_helpers import ONE_SKU_1, package, run_shipments, ship


def delivered(wired, *numbers: str) -> dict[str, Order]:
    """Orders placed at the cart an hour ago, imported and delivered to the warehouse sandbox."""
    for number in numbers:
        wired.squarespace.add_order(
            order_number=number, created_on=timezone.now() - timedelta(hours=1), lines=ONE_SKU_1
        )
    cart_connection_sync_orders(connection=wired.cart)
    orders = {o.order_number: o for o in Order.objects.filter(cart_connection=wired.cart)}
    assert all(orders[n].status == OrderStatus.AT_WMS for n in numbers), {n: o.status for n, o in orders.items()}
    return orders


def by_category(result) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for finding in result.findings:
        grouped.setdefault(finding.category, []).append(finding.order_number)
    return {category: sorted(numbers) for category, numbers in grouped.items()}


def reconciled(wired):
    [result] = reconcile(connection_id=wired.cart.pk)
    return result


def test_a_clean_run_counts_every_cart_order_delivered_once_and_no_gap(wired):
    delivered(wired, "7001", "7002")

    result = reconciled(wired)

    assert result.readable, result.error
    assert result.counts()["cart_orders"] == 2
    assert result.counts()["delivered_once"] == 2
    assert result.counts()["gaps"] == 0
    row = Reconciliation.objects.get(cart_connection=wired.cart)
    assert row.is_clean and row.counts["delivered_once"] == 2 and row.gap_list == []
    assert not Problem.objects.filter(reason_code="reconcile_gap", status=Problem.Status.OPEN).exists()


def test_an_order_removed_at_the_warehouse_is_missing_at_the_warehouse(wired):
    orders = delivered(wired, "7101", "7102")
    with wired.bergen.lock:
        wired.bergen.orders[:] = [o for o in wired.bergen.orders if o["referenceNum"] != orders["7101"].cust_ref]

    result = reconciled(wired)

    assert by_category(result) == {"missing_at_warehouse": ["7101"], "delivered_once": ["7102"]}
    [gap] = result.gaps
    assert orders["7101"].cust_ref in gap.reason and "ask the warehouse" in gap.action
    assert result.counts()["gaps"] == 1


def test_a_second_order_made_by_hand_under_the_same_reference_is_a_warehouse_duplicate(wired):
    orders = delivered(wired, "7201")
    reference = orders["7201"].cust_ref
    wired.bergen.store_order(
        {
            "customerIdentifier": {"name": wired.bergen.customer},
            "facilityIdentifier": {"name": "NJ"},
            "referenceNum": reference,
            "shipTo": {"name": "By Hand", "address1": "1 Main St", "city": "Newark", "zip": "07102", "country": "US"},
            "orderItems": [{"itemIdentifier": {"sku": "SKU-1"}, "qty": 1}],
        }
    )

    result = reconciled(wired)

    assert by_category(result) == {"warehouse_duplicates": ["7201"]}
    assert f"2 orders under {reference}" in result.gaps[0].reason


def test_an_order_edited_at_the_cart_behind_the_watermark_is_missing_here_and_imported_now(wired):
    orders = delivered(wired, "7301")
    edited_at = timezone.now() - timedelta(minutes=20)  # after our copy, before the watermark
    wired.squarespace.update_order(orders["7301"].cart_order_id, modifiedOn=edited_at, fulfillmentStatus="CANCELED")
    never_seen = wired.squarespace.add_order(
        order_number="7302", created_on=timezone.now() - timedelta(minutes=30), lines=ONE_SKU_1
    )
    assert wired.cart.order_watermark > edited_at

    result = reconciled(wired)

    assert by_category(result) == {"missing_here": ["7301", "7302"]}
    assert any("imported" in note for note in result.notes), result.notes
    edited = Order.objects.get(pk=orders["7301"].pk)
    assert edited.cart_status == "canceled" and edited.cart_modified_at > orders["7301"].cart_modified_at
    assert Order.objects.filter(cart_connection=wired.cart, cart_order_id=never_seen["id"]).exists()
    # Imported now: the next reconciliation finds nothing missing here.
    assert "missing_here" not in by_category(reconciled(wired))


def test_tracking_deleted_at_the_cart_is_tracking_missing(wired):
    orders = delivered(wired, "7401", "7402")
    for number in ("7401", "7402"):
        ship(wired, orders[number].cust_ref, package(f"1ZTRACK{number}", ("SKU-1", 1)))
    run_shipments(wired)
    with wired.squarespace.lock:
        wired.squarespace.orders[orders["7401"].cart_order_id]["fulfillments"] = []

    result = reconciled(wired)

    assert by_category(result) == {"tracking_missing": ["7401"], "delivered_once": ["7402"]}
    assert "1ZTRACK7401" in result.gaps[0].reason


def test_gaps_open_one_problem_per_connection_resolved_by_a_later_clean_run(wired):
    orders = delivered(wired, "7501")
    with wired.bergen.lock:
        removed = [o for o in wired.bergen.orders if o["referenceNum"] == orders["7501"].cust_ref]
        wired.bergen.orders[:] = [o for o in wired.bergen.orders if o not in removed]

    reconciled(wired)
    reconciled(wired)

    [problem] = Problem.objects.filter(reason_code="reconcile_gap", status=Problem.Status.OPEN)
    assert problem.cart_connection_id == wired.cart.pk and problem.count == 2
    assert "#7501 missing at warehouse" in problem.message
    with wired.bergen.lock:
        wired.bergen.orders.extend(removed)

    assert reconciled(wired).clean
    problem.refresh_from_db()
    assert problem.status == Problem.Status.RESOLVED


def test_held_skipped_and_in_progress_orders_are_classified_with_their_reasons(wired):
    now = timezone.now()
    wired.squarespace.add_order(
        order_number="7601",
        created_on=now - timedelta(hours=1),
        lines=[{"sku": "NOT-STOCKED", "quantity": 1, "price": "1.00", "name": "Unknown"}],
    )
    wired.squarespace.add_order(
        order_number="7602", created_on=now - timedelta(hours=1), fulfillment_status="FULFILLED"
    )
    cart_connection_sync_orders(connection=wired.cart)
    wired.squarespace.add_order(order_number="7603", created_on=now - timedelta(seconds=5), lines=ONE_SKU_1)

    result = reconciled(wired)

    assert by_category(result) == {"held": ["7601"], "skipped": ["7602"], "in_progress": ["7603"]}
    held = next(f for f in result.findings if f.category == "held")
    assert "NOT-STOCKED" in held.reason
    assert result.counts()["gaps"] == 0


def test_a_cart_that_cannot_be_read_is_reported_and_never_clean(wired):
    delivered(wired, "7701")
    CartConnection.objects.filter(pk=wired.cart.pk).update(api_base_url=wired.bergen.base_url)
    wired.cart.refresh_from_db()

    result = connection_reconcile(connection=wired.cart, days=7)

    assert result.error and not result.clean
    assert result.counts()["cart_orders"] == 0


@pytest.mark.parametrize("days", [1, 7])
def test_the_window_reaches_back_the_days_asked(wired, days):
    result = connection_reconcile(connection=wired.cart, days=days)

    assert result.window_end - result.window_start == timedelta(days=days)


def test_the_scheduled_task_reconciles_every_connection_and_alerts_the_gaps(wired, mailoutbox):
    wired.merchant.contact_email = "owner@shop.example"
    wired.merchant.save()
    orders = delivered(wired, "7801")
    with wired.bergen.lock:
        wired.bergen.orders[:] = [o for o in wired.bergen.orders if o["referenceNum"] != orders["7801"].cust_ref]

    said = reconcile_task()
    alerts_send_digests()

    assert "1 connection(s), 1 cart order(s): 1 gap(s)" in said
    assert Reconciliation.objects.filter(cart_connection=wired.cart).count() == 1
    [mail] = [m for m in mailoutbox if "reconcile_gap" in m.body]
    assert "#7801 missing at warehouse" in mail.body


def test_an_order_inside_a_hold_window_longer_than_the_grace_is_in_progress_not_a_gap(wired, settings):
    settings.RECONCILE_GRACE_HOURS = 1
    wired.cart.hold_minutes = 3 * 24 * 60
    wired.cart.save()
    wired.squarespace.add_order(order_number="7701", created_on=timezone.now() - timedelta(days=1), lines=ONE_SKU_1)
    cart_connection_sync_orders(connection=wired.cart)
    Order.objects.filter(order_number="7701").update(created_at=timezone.now() - timedelta(days=1))

    result = reconciled(wired)

    assert by_category(result) == {"in_progress": ["7701"]}
    assert result.counts()["gaps"] == 0
