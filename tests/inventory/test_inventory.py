"""Inventory back: Bergen sandbox stock → Squarespace sandbox levels, through the SKU aliases in
reverse, less what our unsent orders hold and the connection's buffer; only changes are pushed,
except in a full push; an item the warehouse does not know is reported, not fatal."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import CartConnection
from inventory.models import CartInventoryLevel, StockLevel
from inventory.services import level_to_push, units_not_at_warehouse
from orders.models import OrderStatus
from orders.tasks import sync_inventory_task
from sync.return_path import inventory_sync
from tests.factories import (
    CartConnectionFactory,
    OrderFactory,
    OrderLineFactory,
    SKUAliasFactory,
    WMSConnectionFactory,
)

TEE_A = "6d1f0c2e-0000-4000-8000-00000000000a"
TEE_B = "6d1f0c2e-0000-4000-8000-00000000000b"
SKU_1 = "6d1f0c2e-0000-4000-8000-000000000001"
SKU_2 = "6d1f0c2e-0000-4000-8000-000000000002"
POSTER = "6d1f0c2e-0000-4000-8000-0000000000ff"


def run_inventory(wired, *, full: bool = False):
    """One inventory sync of the wired cart, loaded afresh as a command or task would load it:
    (the warehouse's stock run, the cart's push run)."""
    wired.cart.refresh_from_db()
    stock_run, push_run = inventory_sync(connections=[wired.cart], full=full)
    assert stock_run.warehouse_id == wired.wms.pk and push_run.cart_connection_id == wired.cart.pk
    return stock_run, push_run


def level_at_cart(wired, variant_id: str) -> int:
    return wired.squarespace.inventory[variant_id]["quantity"]


def pushed_variants(adjustment: dict) -> dict[str, int]:
    return {op["variantId"]: op["quantity"] for op in adjustment["setFiniteOperations"]}


def hold_units(wired, warehouse_sku: str, quantity: int, status: str) -> None:
    """An order of ours in `status` with `quantity` units of `warehouse_sku`."""
    order = OrderFactory(cart_connection=wired.cart, status=status)
    OrderLineFactory(order=order, cart_sku=f"CART-{warehouse_sku}", warehouse_sku=warehouse_sku, quantity=quantity)


@pytest.mark.parametrize(
    ("available", "reserved", "buffer", "minimum", "expected"),
    [
        (10, 0, 0, 0, 10),
        (10, 3, 2, 0, 5),
        (10, 3, 2, 5, 5),  # at the minimum: pushed as is
        (10, 3, 2, 6, 0),  # below the minimum: sold out
        (2, 5, 0, 0, 0),  # more reserved than available: never negative
        (0, 0, 3, 0, 0),
        (-4, 0, 0, 0, 0),  # a warehouse reporting a negative availability
        (3, 0, 5, 0, 0),
        (0, 0, 0, 0, 0),
    ],
)
def test_level_to_push_is_available_less_reserved_less_buffer_zero_below_the_minimum_and_never_negative(
    available, reserved, buffer, minimum, expected
):
    assert level_to_push(available=available, reserved=reserved, buffer=buffer, minimum=minimum) == expected


def test_units_not_at_the_warehouse_count_new_and_held_orders_only(wired):
    hold_units(wired, "WMS-SKU-9", 3, OrderStatus.NEW)
    hold_units(wired, "WMS-SKU-9", 2, OrderStatus.ERROR)
    hold_units(wired, "WMS-SKU-9", 7, OrderStatus.AT_WMS)
    hold_units(wired, "WMS-SKU-9", 11, OrderStatus.SHIPPED)
    hold_units(wired, "WMS-SKU-9", 13, OrderStatus.CANCELED)
    hold_units(wired, "SKU-2", 4, OrderStatus.NEW)

    assert units_not_at_warehouse(warehouse=wired.wms) == {"WMS-SKU-9": 5, "SKU-2": 4}


def test_every_cart_sku_behind_one_warehouse_sku_gets_its_full_level_less_unsent_orders_and_buffer(wired):
    SKUAliasFactory(merchant=wired.merchant, cart_sku="TEE-A", warehouse_sku="WMS-SKU-9")
    SKUAliasFactory(merchant=wired.merchant, cart_sku="TEE-B", warehouse_sku="WMS-SKU-9")
    wired.bergen.add_item("WMS-SKU-9", on_hand=50, available=40)
    wired.squarespace.add_inventory(TEE_A, "TEE-A", 0)
    wired.squarespace.add_inventory(TEE_B, "TEE-B", 0)
    hold_units(wired, "WMS-SKU-9", 3, OrderStatus.NEW)
    hold_units(wired, "WMS-SKU-9", 2, OrderStatus.ERROR)
    hold_units(wired, "WMS-SKU-9", 6, OrderStatus.AT_WMS)  # already taken off `available` by the warehouse
    CartConnection.objects.filter(pk=wired.cart.pk).update(inventory_buffer=4)

    stock_run, push_run = run_inventory(wired)

    assert stock_run.status == "succeeded", stock_run.error
    assert push_run.status == "succeeded", push_run.error
    assert StockLevel.objects.get(warehouse=wired.wms, warehouse_sku="WMS-SKU-9").available == 40
    assert level_at_cart(wired, TEE_A) == 40 - 3 - 2 - 4
    assert level_at_cart(wired, TEE_B) == 40 - 3 - 2 - 4
    assert push_run.counts["inventory_pushed"] == 2
    for key in (TEE_A, TEE_B):
        row = CartInventoryLevel.objects.get(cart_connection=wired.cart, cart_item_key=key)
        assert (row.warehouse_sku, row.state) == ("WMS-SKU-9", CartInventoryLevel.State.OK)
        assert row.computed_quantity == row.pushed_quantity == 31
        assert row.pushed_at is not None and row.read_at is not None


def test_below_the_connections_minimum_the_cart_is_told_zero(wired):
    SKUAliasFactory(merchant=wired.merchant, cart_sku="TEE-A", warehouse_sku="WMS-SKU-9")
    wired.bergen.add_item("WMS-SKU-9", on_hand=10, available=8)
    wired.bergen.add_item("SKU-1", on_hand=10, available=3)
    wired.squarespace.add_inventory(TEE_A, "TEE-A", 5)
    wired.squarespace.add_inventory(SKU_1, "SKU-1", 5)
    hold_units(wired, "SKU-1", 4, OrderStatus.NEW)  # more than is available: 0, not -1
    CartConnection.objects.filter(pk=wired.cart.pk).update(inventory_buffer=1, inventory_min_level=8)

    _, push_run = run_inventory(wired)

    assert push_run.status == "succeeded", push_run.error
    assert level_at_cart(wired, TEE_A) == 0  # 8 - 1 = 7, below 8
    assert level_at_cart(wired, SKU_1) == 0


def test_a_level_the_warehouse_no_longer_lists_keeps_the_time_it_was_last_read(wired):
    run_inventory(wired)
    long_ago = timezone.now() - timedelta(days=3)
    StockLevel.objects.create(warehouse=wired.wms, warehouse_sku="GONE", available=4, on_hand=4, read_at=long_ago)
    read_before = StockLevel.objects.get(warehouse=wired.wms, warehouse_sku="SKU-1").read_at

    run_inventory(wired)

    assert StockLevel.objects.get(warehouse=wired.wms, warehouse_sku="GONE").read_at == long_ago
    assert StockLevel.objects.get(warehouse=wired.wms, warehouse_sku="SKU-1").read_at > read_before


def test_only_changed_levels_are_pushed_but_every_level_is_read_from_the_warehouse_each_run(wired):
    wired.squarespace.add_inventory(SKU_1, "SKU-1", 0)
    wired.squarespace.add_inventory(SKU_2, "SKU-2", 0)
    run_inventory(wired)  # the first push is a full one
    assert len(wired.squarespace.adjustments) == 1
    stock_reads = len(wired.bergen.requests_to("/inventory/stocksummaries", "GET"))
    read_before = StockLevel.objects.get(warehouse=wired.wms, warehouse_sku="SKU-1").read_at

    stock_run, unchanged = run_inventory(wired)

    assert len(wired.squarespace.adjustments) == 1  # nothing sent
    assert unchanged.counts["inventory_pushed"] == 0
    assert unchanged.counts["inventory_unchanged"] == 2
    assert stock_run.counts["levels_read"] == 3
    assert len(wired.bergen.requests_to("/inventory/stocksummaries", "GET")) > stock_reads
    assert StockLevel.objects.get(warehouse=wired.wms, warehouse_sku="SKU-1").read_at > read_before

    wired.bergen.add_item("SKU-2", on_hand=20)
    _, changed = run_inventory(wired)

    assert changed.counts["inventory_pushed"] == 1
    assert len(wired.squarespace.adjustments) == 2
    assert pushed_variants(wired.squarespace.adjustments[-1]) == {SKU_2: 20}
    assert level_at_cart(wired, SKU_1) == 50
    assert level_at_cart(wired, SKU_2) == 20


def test_a_full_push_or_one_older_than_a_day_sends_every_level_even_unchanged(wired):
    wired.squarespace.add_inventory(SKU_1, "SKU-1", 0)
    wired.squarespace.add_inventory(SKU_2, "SKU-2", 0)
    run_inventory(wired)
    wired.squarespace.inventory[SKU_1]["quantity"] = 7  # drift: someone changed it at the cart

    _, asked = run_inventory(wired, full=True)

    assert asked.counts["inventory_pushed"] == 2
    assert pushed_variants(wired.squarespace.adjustments[-1]) == {SKU_1: 50, SKU_2: 50}
    assert level_at_cart(wired, SKU_1) == 50

    _, quiet = run_inventory(wired)
    assert quiet.counts["inventory_pushed"] == 0

    CartConnection.objects.filter(pk=wired.cart.pk).update(inventory_full_push_at=timezone.now() - timedelta(hours=25))
    _, nightly = run_inventory(wired)

    wired.cart.refresh_from_db()
    assert nightly.counts["inventory_pushed"] == 2
    assert len(wired.squarespace.adjustments) == 3
    assert timezone.now() - wired.cart.inventory_full_push_at < timedelta(minutes=1)


def test_an_item_the_warehouse_does_not_know_is_reported_and_the_rest_is_pushed(wired):
    SKUAliasFactory(merchant=wired.merchant, cart_sku="GHOST", warehouse_sku="SKU-2")  # not sold at the cart
    wired.squarespace.add_inventory(SKU_1, "SKU-1", 0)
    wired.squarespace.add_inventory(POSTER, "POSTER-XL", 3)

    stock_run, push_run = run_inventory(wired)

    assert push_run.status in ("succeeded", "partial"), push_run.error
    assert push_run.counts["unknown_at_warehouse"] == 1
    assert push_run.counts["unknown_at_cart"] == 1
    assert push_run.counts["inventory_pushed"] == 1
    poster = CartInventoryLevel.objects.get(cart_connection=wired.cart, cart_item_key=POSTER)
    assert poster.state == CartInventoryLevel.State.UNKNOWN_AT_WAREHOUSE
    assert "POSTER-XL" in poster.last_error
    assert poster.pushed_quantity is None
    assert level_at_cart(wired, POSTER) == 3  # left alone
    assert level_at_cart(wired, SKU_1) == 50


def test_units_on_orders_bound_for_another_warehouse_do_not_lower_this_warehouses_level(wired):
    other_wms = WMSConnectionFactory(merchant=wired.merchant, name="West coast")
    other_cart = CartConnectionFactory(merchant=wired.merchant, warehouse=other_wms, name="Wholesale")
    order = OrderFactory(cart_connection=other_cart, status=OrderStatus.NEW)
    OrderLineFactory(order=order, cart_sku="SKU-1", warehouse_sku="SKU-1", quantity=5)
    wired.squarespace.add_inventory(SKU_1, "SKU-1", 0)

    _, push_run = run_inventory(wired)

    assert push_run.counts["inventory_pushed"] == 1, push_run.error
    assert level_at_cart(wired, SKU_1) == 50  # the 5 units will leave the other warehouse, not this one


def inventory_listings(wired) -> int:
    """Reads of the cart's item list (`GET /inventory`), not of the levels just set (`GET /inventory/{ids}`)."""
    return len(
        [r for r in wired.squarespace.requests_to("/commerce/inventory", "GET") if r.path.endswith("/inventory")]
    )


def test_a_run_soon_after_the_last_reads_the_warehouse_but_not_the_carts_item_list(wired):
    wired.squarespace.add_inventory(SKU_1, "SKU-1", 0)
    run_inventory(wired)
    listed = inventory_listings(wired)
    wired.cart.refresh_from_db()
    assert listed >= 1 and wired.cart.inventory_catalog_read_at is not None
    # The cart now shows what it accepted: nothing to rewrite when nothing changed.
    level = CartInventoryLevel.objects.get(cart_connection=wired.cart, cart_item_key=SKU_1)
    assert level.cart_quantity == level.pushed_quantity == 50

    wired.bergen.add_item("SKU-1", on_hand=30)
    _, quick = run_inventory(wired)

    assert inventory_listings(wired) == listed  # the cart's list was not read again
    assert quick.counts["inventory_pushed"] == 1
    assert level_at_cart(wired, SKU_1) == 30


def test_an_item_new_at_the_cart_gets_its_level_when_the_list_is_due_or_asked_for(wired, settings):
    wired.squarespace.add_inventory(SKU_1, "SKU-1", 0)
    run_inventory(wired)
    wired.squarespace.add_inventory(SKU_2, "SKU-2", 0)  # a new product at the cart

    _, quick = run_inventory(wired)
    assert quick.counts["inventory_pushed"] == 0 and level_at_cart(wired, SKU_2) == 0

    wired.cart.refresh_from_db()
    _, asked = inventory_sync(connections=[wired.cart], read_catalog=True)
    assert asked.counts["inventory_pushed"] == 1 and level_at_cart(wired, SKU_2) == 50

    wired.squarespace.add_inventory(TEE_A, "TEE-A", 0)
    stale = timezone.now() - timedelta(minutes=settings.INVENTORY_CATALOG_REFRESH_MINUTES + 1)
    CartConnection.objects.filter(pk=wired.cart.pk).update(inventory_catalog_read_at=stale)
    listed = inventory_listings(wired)
    _, due = run_inventory(wired)
    assert inventory_listings(wired) > listed
    assert CartInventoryLevel.objects.filter(cart_connection=wired.cart, cart_item_key=TEE_A).exists()
    assert due.counts["unknown_at_warehouse"] == 1  # TEE-A has no stock line: reported, as on a full read


def test_an_inventory_sync_a_person_starts_reads_the_carts_list_a_scheduled_one_does_not(wired):
    wired.squarespace.add_inventory(SKU_1, "SKU-1", 0)
    run_inventory(wired)
    listed = inventory_listings(wired)

    assert "succeeded" in sync_inventory_task(wired.cart.pk)
    assert inventory_listings(wired) == listed
    assert "succeeded" in sync_inventory_task(wired.cart.pk, False)
    assert inventory_listings(wired) > listed
