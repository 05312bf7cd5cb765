"""An inventory upload that is an unconfirmed call (Overstock's) is off until a person turns it on:
while off, the run reads and sends nothing and ends as not supported for this platform, with the
reason, and nothing fails (no retry, no backoff, no problem); turned on, the levels are sent."""

from __future__ import annotations

import pytest

from integrations.models import CartConnection, SyncOutcome
from inventory.models import CartInventoryLevel
from orders.dashboard import dashboard_get
from orders.models import OrderStatus, Problem
from sync.return_path import inventory_sync
from tests.factories import CartConnectionFactory, OrderFactory, OrderLineFactory

NOT_SUPPORTED = (
    "Inventory: not supported for this platform (Overstock publishes no inventory endpoint; CartRover's guide "
    "names OptionSku but no path; turn it on in the connection if your Overstock rep gave you the path)"
)


@pytest.fixture
def overstock_cart(wired, overstock_sandbox) -> CartConnection:
    """An Overstock cart (its sandbox) on the wired Bergen warehouse, with an order line of OptionSku
    OPT-1 (SKU-1 at the warehouse) that has shipped."""
    cart = CartConnectionFactory(
        merchant=wired.merchant,
        warehouse=wired.wms,
        platform="overstock",
        api_base_url=overstock_sandbox.base_url,
        sandbox_tooling=True,
        credentials_values={"username": overstock_sandbox.username, "password": overstock_sandbox.password},
        settings={"warehouse_name": overstock_sandbox.warehouses[0]},
    )
    overstock_sandbox.add_product("OPT-1", "SKU-1")
    order = OrderFactory(cart_connection=cart, status=OrderStatus.SHIPPED)
    OrderLineFactory(order=order, cart_sku="SKU-1", warehouse_sku="SKU-1", cart_item_key="OPT-1")
    return cart


def push_run(cart: CartConnection):
    cart.refresh_from_db()
    [run] = [r for r in inventory_sync(connections=[cart]) if r.cart_connection_id == cart.pk]
    return run


def test_an_overstock_inventory_run_is_not_supported_by_default_sends_nothing_and_fails_nothing(
    overstock_cart, overstock_sandbox
):
    run = push_run(overstock_cart)

    assert run.status == SyncOutcome.NOT_SUPPORTED
    assert run.error == NOT_SUPPORTED
    assert run.failure_kind == ""
    assert overstock_sandbox.requests == []  # not even a listing: nothing was asked of Overstock
    assert overstock_sandbox.inventory == {}
    assert not CartInventoryLevel.objects.filter(cart_connection=overstock_cart).exists()
    overstock_cart.refresh_from_db()
    assert overstock_cart.last_sync_status == SyncOutcome.NOT_SUPPORTED
    assert overstock_cart.last_sync_message == NOT_SUPPORTED
    assert (overstock_cart.consecutive_failures, overstock_cart.failing_since) == (0, None)
    assert (overstock_cart.next_attempt_at, overstock_cart.blocked_reason, overstock_cart.unhealthy) == (
        None,
        "",
        False,
    )
    assert not Problem.objects.filter(cart_connection=overstock_cart).exists()


def test_an_overstock_inventory_run_says_the_same_every_hour_without_turning_into_a_failure(overstock_cart):
    runs = [push_run(overstock_cart) for _ in range(3)]

    assert [r.status for r in runs] == [SyncOutcome.NOT_SUPPORTED] * 3
    overstock_cart.refresh_from_db()
    assert overstock_cart.consecutive_failures == 0 and overstock_cart.next_attempt_at is None
    assert not Problem.objects.filter(merchant=overstock_cart.merchant).exists()
    [view] = [c for m in dashboard_get().merchants for c in m.connections if c.connection.pk == overstock_cart.pk]
    [inventory] = [r for r in view.runs if r.kind == "inventory"]
    assert inventory.run.pk == runs[-1].pk and not inventory.trouble  # shown, not as failing
    assert not view.needs_attention


def test_turned_on_the_overstock_inventory_upload_sends_the_levels(overstock_cart, overstock_sandbox):
    overstock_cart.settings = {**overstock_cart.settings, "enable_inventory_upload": True}
    overstock_cart.save(update_fields=["settings"])

    run = push_run(overstock_cart)

    assert run.status == SyncOutcome.SUCCEEDED, run.error
    assert run.counts["inventory_pushed"] == 1
    [upload] = overstock_sandbox.requests_to("/inventory", "POST")
    assert b"OPT-1" in upload.body
    assert overstock_sandbox.inventory[("OPT-1", overstock_sandbox.warehouses[0])] == 50
