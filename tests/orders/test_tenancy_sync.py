"""The sync refuses to act on a row that links two merchants (stored before that was refused, or by
`QuerySet.update`): the run fails with what a person must do, and nothing reaches the other
merchant's warehouse, not even a read."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.connectors.canonical import Shipment as CanonicalShipment
from integrations.models import CartConnection, SyncOutcome, WMSConnection
from integrations.services import connection_unblock
from orders.models import Order, OrderStatus, Problem, Shipment, SyncRun
from orders.services.delivery.holds import orders_retry
from orders.services.delivery.trial_order import TestOrderLine, TestOrderOutcome, default_test_address, order_send_test
from orders.services.tracking.shipments import shipment_store
from orders.tasks import sync_inventory_task, sync_orders_task, sync_shipments_task
from sandbox.bergen import BergenSandbox
from sync.cycle import cart_connections_for_sync
from sync.return_path import inventory_sync, shipments_sync
from tests.factories import CartConnectionFactory, MerchantFactory, OrderFactory, OrderLineFactory
from tests.orders.helpers import order_posts, seed, sync

REFUSAL = "belongs to another merchant"


@pytest.fixture
def their_bergen() -> Iterator[BergenSandbox]:
    sandbox = BergenSandbox()
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def their_wms(db, their_bergen) -> WMSConnection:
    """Another merchant's warehouse, at a sandbox of its own (so that any request to it shows)."""
    their_bergen.add_item("SKU-1", on_hand=50)
    wms = WMSConnection(
        merchant=MerchantFactory(slug="theirs", name="Theirs"), platform="bergen", name="Theirs", sandbox_tooling=True
    )
    wms.api_base_url = their_bergen.base_url
    wms.settings = {"account_web_address": their_bergen.base_url, "customer_name": their_bergen.customer}
    wms.set_credentials({"username": their_bergen.username, "password": their_bergen.password})
    wms.save()
    return wms


def wired_to_theirs(cart: CartConnection, their_wms: WMSConnection) -> CartConnection:
    """The cart pointed at the other merchant's warehouse the way only a bypass can, read back as
    the sync reads it."""
    CartConnection.objects.filter(pk=cart.pk).update(warehouse=their_wms)
    return cart_connections_for_sync(connection_id=cart.pk).get()


def test_an_orders_run_fails_and_sends_nothing_to_their_warehouse(wired, their_wms, their_bergen):
    seed(wired.squarespace, "1001")
    cart = wired_to_theirs(wired.cart, their_wms)

    run = sync(cart)

    assert run.status == SyncOutcome.FAILED
    assert run.failure_kind == "needs_person"
    assert f"warehouse connection #{their_wms.pk}, which {REFUSAL}" in run.error
    assert "choose one of this merchant's own warehouse connections" in run.error
    assert their_bergen.requests == []
    assert order_posts(wired.bergen) == []
    assert REFUSAL in cart.blocked_reason and REFUSAL in cart.last_sync_message
    problem = Problem.objects.get(cart_connection=cart, status=Problem.Status.OPEN)
    assert (problem.reason_code, problem.merchant_id) == ("needs_person", wired.merchant.pk)


def test_once_a_person_chooses_the_merchants_own_warehouse_the_order_goes_there(wired, their_wms, their_bergen):
    seed(wired.squarespace, "1001")
    cart = wired_to_theirs(wired.cart, their_wms)
    sync(cart)

    cart.warehouse = wired.wms
    cart.save()
    connection_unblock(connection=cart)
    run = sync(cart_connections_for_sync(connection_id=cart.pk).get())

    assert run.status == SyncOutcome.SUCCEEDED
    assert run.counts["delivered"] == 1
    assert len(order_posts(wired.bergen)) == 1
    assert their_bergen.requests == []


def test_the_scheduled_tasks_fail_the_same_way(wired, their_wms, their_bergen):
    seed(wired.squarespace, "1001")
    cart = wired_to_theirs(wired.cart, their_wms)

    results = [
        sync_orders_task(cart.pk, scheduled=False),
        sync_shipments_task(cart.pk, scheduled=False),
        sync_inventory_task(cart.pk, scheduled=False),
    ]

    assert all(result.endswith(": failed") for result in results), results
    assert set(SyncRun.objects.filter(cart_connection=cart).values_list("kind", "status")) == {
        (kind, SyncOutcome.FAILED) for kind in ("orders", "shipments", "inventory")
    }
    assert their_bergen.requests == []


def test_shipments_and_inventory_refuse_only_the_cart_wired_to_another_merchant(wired, their_wms, their_bergen):
    their_cart = CartConnectionFactory(merchant=their_wms.merchant, warehouse=their_wms)
    cart = wired_to_theirs(wired.cart, their_wms)

    shipment_runs = shipments_sync(connections=[cart])
    inventory_runs = inventory_sync(connections=[cart])
    assert their_bergen.requests == []
    mixed_runs = inventory_sync(connections=[cart, cart_connections_for_sync(connection_id=their_cart.pk).get()])

    for run in shipment_runs + inventory_runs:
        assert (run.cart_connection_id, run.status) == (cart.pk, SyncOutcome.FAILED)
        assert REFUSAL in run.error
    assert [(r.cart_connection_id, r.warehouse_id) for r in mixed_runs[:2]] == [(cart.pk, None), (None, their_wms.pk)]
    assert mixed_runs[1].status == SyncOutcome.SUCCEEDED  # their own warehouse, read for their own cart
    assert their_bergen.requests  # ... and only for it


def test_retrying_an_order_assigned_to_their_warehouse_sends_nothing(wired, their_wms, their_bergen):
    ready = OrderLineFactory(order__cart_connection=wired.cart, order__cust_ref="R-1").order
    held = OrderLineFactory(
        order__cart_connection=wired.cart, order__status=OrderStatus.ERROR, order__hold_code="unknown_sku"
    ).order
    Order.objects.filter(pk__in=[ready.pk, held.pk]).update(warehouse=their_wms)

    counts = orders_retry(order_ids=[ready.pk, held.pk])

    assert (counts["delivered"], counts["not_delivered"], counts["still_held"]) == (0, 1, 1)
    assert their_bergen.requests == []
    assert order_posts(wired.bergen) == []
    assert REFUSAL in ready.events.get(code="cross_merchant").message
    assert REFUSAL in held.events.get(code="cross_merchant").message
    assert Order.objects.get(pk=ready.pk).status == OrderStatus.NEW


def test_a_test_order_from_a_cart_wired_to_their_warehouse_is_not_sent(wired, their_wms, their_bergen):
    cart = wired_to_theirs(wired.cart, their_wms)

    sent = order_send_test(
        cart_connection=cart,
        lines=[TestOrderLine("SKU-1", 1)],
        ship_method="Standard",
        ship_to=default_test_address(),
    )

    assert sent.outcome == TestOrderOutcome.NOT_SENT
    assert REFUSAL in sent.message
    assert sent.order.status == OrderStatus.CANCELED
    assert sent.order.warehouse_id is None
    assert their_bergen.requests == []


def test_orders_of_one_merchant_keep_going_where_they_went(wired):
    """The factories and the sync make consistent rows: an ordinary order is not refused."""
    order = OrderFactory(cart_connection=wired.cart)

    assert order.destination_warehouse() == wired.wms
    assert wired.cart.resolved_warehouse() == wired.wms


def test_their_warehouses_tracking_for_an_order_assigned_to_it_by_a_bypass_stays_unmatched(wired, their_wms):
    """The warehouse's own tracking import goes on (it does not fail on the bad row), and nothing
    about it reaches the other merchant's order or cart."""
    order = OrderFactory(cart_connection=wired.cart, status=OrderStatus.AT_WMS, cust_ref="R-1")
    Order.objects.filter(pk=order.pk).update(warehouse=their_wms)
    run = SyncRun.objects.create(kind="shipments", merchant=their_wms.merchant, warehouse=their_wms)
    problems: list[str] = []

    outcome = shipment_store(
        warehouse=their_wms,
        parcel=CanonicalShipment(warehouse_shipment_id="S-1", cust_ref="R-1", carrier="UPS", tracking_numbers=["1Z"]),
        run=run,
        problems=problems,
    )

    assert outcome == ("unmatched", False)
    assert Shipment.objects.get(warehouse=their_wms, warehouse_shipment_id="S-1").order_id is None
    assert Order.objects.get(pk=order.pk).status == OrderStatus.AT_WMS
    assert not order.events.filter(code="shipment").exists()
