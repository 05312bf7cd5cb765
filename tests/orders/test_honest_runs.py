"""A run that was due to send and sent nothing says why, in its status, its counts and its message:
"succeeded" with nothing done would hide a misconfiguration or a dead worker."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from integrations.models import SyncOutcome
from orders.models import Order, OrderStatus
from orders.services.records.locks import sync_lock_acquire
from sync.cycle import cart_connection_sync_orders
from sync.return_path import cart_connection_push_tracking, warehouse_sync_shipments
from tests.orders.helpers import ago, order_for, order_posts, seed, sync
from tests.orders.tracking_helpers import deliver, fulfillment_posts, package, ship


def test_a_run_whose_claims_run_out_before_a_send_is_partial_and_says_why(wired, settings):
    cart_order = seed(wired.squarespace, "1001")
    settings.HTTP_TIMEOUT_SECONDS = 3.0
    settings.DELIVERY_CLAIM_LEASE_SECONDS = 2  # shorter than one send may take

    run = sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert order_posts(wired.bergen) == []
    assert run.status == SyncOutcome.PARTIAL
    assert run.counts["not_sent"] == 1 and run.counts["claims_ran_out"] == 1
    assert "1 order(s) not sent" in run.error and "DELIVERY_CLAIM_LEASE_SECONDS is 2 s" in run.error
    assert wired.cart.last_sync_status == SyncOutcome.PARTIAL
    assert "not sent" in wired.cart.last_sync_message
    assert order.status == OrderStatus.NEW and "delivery claim would have ended" in order.last_error


def test_orders_claimed_by_another_run_are_counted_and_named_not_passed_over(wired):
    seed(wired.squarespace, "1001")
    wired.bergen.fail_next(1, status=500, path_contains="/orders", method="POST")
    sync(wired.cart)  # imported; its send failed (a POST is not resent): it waits for a retry
    order = Order.objects.get(cart_connection=wired.cart)
    ends = timezone.now() + timedelta(minutes=5)
    # A worker claimed it and died (or is sending it now).
    Order.objects.filter(pk=order.pk).update(claimed_by="other-worker", claimed_until=ends, next_attempt_at=None)
    posts = len(order_posts(wired.bergen))

    run = sync(wired.cart)

    assert len(order_posts(wired.bergen)) == posts
    assert run.counts["claimed_by_another_run"] == 1
    assert "1 order(s) are claimed by another run" in run.error
    assert f"taken over after {ends:%Y-%m-%d %H:%M:%S} UTC" in run.error


@pytest.mark.django_db(transaction=True)
def test_orders_another_run_takes_while_this_one_runs_are_counted(wired):
    """The run reads what is due, then asks the warehouse about an uncertain order (its answer held
    back); meanwhile another run claims the other order. The run counts it as taken, and says so."""
    seed(wired.squarespace, "1001")
    seed(wired.squarespace, "1002", created_on=ago(minutes=4))
    wired.bergen.fail_next(2, status=500, path_contains="/orders", method="POST")
    sync(wired.cart)  # both sends fail: they wait for a retry
    uncertain, ready = Order.objects.filter(cart_connection=wired.cart).order_by("pk")
    Order.objects.filter(pk=uncertain.pk).update(delivery_uncertain=True, next_attempt_at=None)
    Order.objects.filter(pk=ready.pk).update(delivery_uncertain=False, next_attempt_at=None)
    held = wired.bergen.hold_next(path_contains="/orders", method="GET")
    result: list = []

    def run_it():
        try:
            result.append(cart_connection_sync_orders(connection=wired.cart))
        finally:
            connections.close_all()

    thread = threading.Thread(target=run_it, daemon=True)
    thread.start()
    assert held.reached.wait(10)
    Order.objects.filter(pk=ready.pk).update(
        claimed_by="other-run", claimed_until=timezone.now() + timedelta(minutes=5)
    )
    held.release()
    thread.join(30)

    [run] = result
    assert run.counts["taken_by_another_run"] == 1
    assert "1 order(s) were taken by another run at the same moment" in run.error
    sends_of_ready = [p for p in order_posts(wired.bergen) if p.json.get("referenceNum") == ready.cust_ref]
    assert len(sends_of_ready) == 1  # the first run's failed send only


def test_orders_left_unsent_after_the_warehouse_stops_us_are_counted(wired):
    for number in range(3):
        seed(wired.squarespace, str(1001 + number), created_on=ago(minutes=5, seconds=-number))
    wired.bergen.fail_next(1, status=429, headers={"Retry-After": "120"}, path_contains="/orders", method="POST")

    run = sync(wired.cart)

    assert run.status == SyncOutcome.THROTTLED
    assert run.counts["not_sent"] >= 1
    assert run.counts["delivered"] + run.counts["not_sent"] == 3
    assert Order.objects.filter(cart_connection=wired.cart, status=OrderStatus.NEW).count() == run.counts["not_sent"]


def test_tracking_another_run_is_pushing_is_counted_not_passed_over(wired):
    order = deliver(wired)
    ship(wired, order.cust_ref, package("1ZBUSY0001", ("SKU-1", 1)))
    warehouse_sync_shipments(warehouse=wired.wms)
    assert sync_lock_acquire(key=f"tracking:order:{order.pk}", seconds=300)  # another run pushes it now

    run = cart_connection_push_tracking(connection=wired.cart)

    assert run.counts["tracking_taken_by_another_run"] == 1
    assert run.counts["shipments_pushed"] == 0
    assert fulfillment_posts(wired.squarespace) == []
