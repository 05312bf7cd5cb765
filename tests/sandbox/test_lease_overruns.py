"""What chaos_sync --workers 2 found: a worker that outlives its lease still acts, and a second worker
acts at the same time. Each test pins one such interleaving exactly (a reply held back by the sandbox,
the lease expired through the ORM as time would expire it).

Both were failures of the pipeline found by chaos_sync (see docs/chaos.md):
tracking pushes now take a claim per order, and a delivery attempt whose claim was taken over sends
nothing.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from integrations.services import warehouse_connector_for
from orders.models import Order, OrderStatus, SyncLock
from orders.services.delivery.deliver import order_deliver
from sandbox.chaos.cycle import cycle_pass, wire_chaos_merchant
from sandbox.chaos.scenario import chaos_orders
from sync.return_path import cart_connection_push_tracking, warehouse_sync_shipments


def in_thread(target) -> threading.Thread:
    def run():
        try:
            target()
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


@pytest.fixture
def one_order(transactional_db, settings, sandbox_pair):
    """A chaos merchant with one valid order at the cart, nothing synced yet."""
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    settings.HTTP_TIMEOUT_SECONDS = 0.5
    pair, addresses = sandbox_pair
    scenario = [co for co in chaos_orders(10, seed=2) if not co.invalid][:1]
    pair.seed(orders=scenario, stock_per_sku=100)
    cart = wire_chaos_merchant(addresses, slug="chaos-lease")
    return pair, cart


def test_a_tracking_push_that_outlived_its_lease_does_not_push_a_second_time(one_order):
    pair, cart = one_order
    cycle_pass(cart.pk, shipments=False)  # imported and delivered
    pair.ship_all(tracking_prefix="1ZLEASE")
    warehouse_sync_shipments(warehouse=cart.warehouse)
    order = Order.objects.get(cart_connection=cart)
    # Run A reads which tracking the cart has, and its answer is slow to come back.
    held = pair.squarespace.hold_next(path_contains=f"/orders/{order.cart_order_id}", method="GET")
    run_a = in_thread(lambda: cart_connection_push_tracking(connection=cart))
    assert held.reached.wait(10)
    # Run A outlives its lease (SYNC_LOCK_SECONDS); the next run takes the lease and pushes.
    SyncLock.objects.filter(key=f"shipments:cart:{cart.pk}").update(locked_until=timezone.now() - timedelta(seconds=1))
    cart_connection_push_tracking(connection=cart)
    held.release()
    run_a.join(10)

    numbers = [f["trackingNumber"] for f in pair.squarespace.fulfillments_for(order.cart_order_id)]
    assert numbers and len(numbers) == len(set(numbers)), numbers


def test_a_delivery_attempt_whose_claim_was_taken_over_sends_nothing(one_order):
    pair, cart = one_order
    # The first send times out before the warehouse takes it: the order is left uncertain.
    pair.bergen.fail_next(mode="timeout", path_contains="/orders", method="POST", delay=1.0)
    cycle_pass(cart.pk, shipments=False)
    order = Order.objects.get(cart_connection=cart)
    assert order.status == OrderStatus.NEW and order.delivery_uncertain
    # Attempt A asks the warehouse for the reference, and the answer ("not here") is slow to come back.
    held = pair.bergen.hold_next(path_contains="/orders", method="GET")
    attempt_a = in_thread(
        lambda: order_deliver(order_id=order.pk, connector=warehouse_connector_for(connection=cart.warehouse))
    )
    assert held.reached.wait(10)
    # A outlives its claim (DELIVERY_CLAIM_LEASE_SECONDS); attempt B takes the order over and sends it.
    Order.objects.filter(pk=order.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))
    assert order_deliver(order_id=order.pk, connector=warehouse_connector_for(connection=cart.warehouse)) == "delivered"
    held.release()
    attempt_a.join(10)

    sends = [r for r in pair.bergen.requests_to("/orders", "POST") if (r.json or {}).get("referenceNum")]
    # The timed-out send and B's: A must not send once its claim is gone (a warehouse that does not
    # refuse a repeated reference would hold the order twice).
    assert len(sends) == 2, [r.json["referenceNum"] for r in sends]
