"""Under 20% faults of every kind, a full cycle still delivers every valid order once, holds every invalid
one with a reason, and pushes every parcel's tracking to the cart once. The warehouse stores a repeated
reference again, so that a second send would show as a duplicate (and the canary proves the count sees one).

In-process (sandboxes on loopback threads, the sync services called in a loop); the crash-and-restart
variant with worker processes is ``test_chaos_sync``.
"""

from __future__ import annotations

import pytest

from orders.models import Order, OrderStatus, Shipment
from sandbox.chaos.cycle import cycle_pass, cycle_report, cycle_state, wire_chaos_merchant
from sandbox.chaos.scenario import MISSING_ADDRESS_KIND, UNKNOWN_SKU_KIND, chaos_orders

ORDERS = 30
MAX_PASSES = 80  # a bound, so that a cycle that never settles fails instead of hanging


@pytest.fixture
def chaos_settings(settings):
    settings.HTTP_TIMEOUT_SECONDS = 0.5
    settings.HTTP_BACKOFF_SECONDS = 0.0
    settings.HTTP_MAX_THROTTLE_WAIT_SECONDS = 0.5
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    # What failed is retried at the next pass (the harness's way: backoff shortened through settings).
    settings.DELIVERY_RETRY_BASE_SECONDS = 0
    settings.TRACKING_PUSH_RETRY_BASE_SECONDS = 0
    return settings


def run_until(settled, cart_id: int, *, shipments: bool) -> int:
    for passes in range(1, MAX_PASSES + 1):
        cycle_pass(cart_id, shipments=shipments)
        if settled(cycle_state(cart_id)):
            return passes
    raise AssertionError(f"not settled after {MAX_PASSES} passes: {cycle_state(cart_id)}")


def test_full_cycle_under_20_percent_faults_delivers_and_pushes_each_once(db, chaos_settings, accepting_pair):
    pair, addresses = accepting_pair
    scenario = chaos_orders(ORDERS, seed=11)
    pair.seed(orders=scenario, stock_per_sku=1000)
    pair.plant_duplicate_canary()
    cart = wire_chaos_merchant(addresses, slug="chaos-in-process")
    pair.set_fault_rate(rate=0.2, seed=11, timeout_delay=0.8, retry_after=0.05)

    run_until(lambda state: state.orders_settled(ORDERS), cart.pk, shipments=False)
    parcels = pair.ship_all(tracking_prefix="1ZTEST")
    run_until(lambda state: state.shipments_settled(parcels), cart.pk, shipments=True)

    sides = pair.report(cart_connection_id=cart.pk)
    report = cycle_report(cart.pk, scenario, sides)
    invalid = [co for co in scenario if co.invalid]
    assert report["lost"] == 0, report["lost_orders"]
    assert report["wrongly_sent"] == 0
    assert report["delivered"] == ORDERS - len(invalid)
    assert report["held"] == len(invalid) and report["held_without_reason"] == 0
    assert report["warehouse_orders"] == ORDERS - len(invalid)
    assert report["duplicate_canary_seen"] is True
    assert report["warehouse_duplicates"] == report["warehouse_duplicate_orders"] == 0
    assert report["shipments_pushed"] == report["parcels_shipped"] == parcels > 0
    assert report["tracking_missing"] == 0
    assert report["tracking_duplicates"] == 0
    assert sides["handler_errors"] == []
    # Each invalid order is held for its own reason, one a person can act on.
    held = {o.order_number: o.hold_code for o in Order.objects.filter(cart_connection=cart, status=OrderStatus.ERROR)}
    expected = {
        co.number: {UNKNOWN_SKU_KIND: "unknown_sku", MISSING_ADDRESS_KIND: "missing_address"}[co.invalid]
        for co in invalid
    }
    assert held == expected
    # The faults did happen, on both sides and of many kinds.
    for side in ("squarespace", "bergen"):
        assert sum(sides["faults_injected"][side].values()) > 0
    assert len(sides["faults_by_mode"]) >= 5
    assert not Shipment.objects.filter(order__cart_connection=cart).exclude(push_status="accepted").exists()
