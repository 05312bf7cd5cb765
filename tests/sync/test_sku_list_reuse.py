"""An orders run checks SKUs against the warehouse's list as a recent run stored it, instead of reading every
page of it again (`WAREHOUSE_SKU_LIST_REUSE_SECONDS`); an SKU the stored list lacks makes the run read it
first, so an item added at the warehouse since is never held as unknown. Counted at the Bergen sandbox."""

from __future__ import annotations

import pytest

from orders.models import Order
from sync.cycle import cart_connection_sync_orders

STOCK = "/inventory/stocksummaries"


def place(wired, number: str, sku: str = "SKU-1") -> None:
    wired.squarespace.add_order(
        order_number=number, lines=[{"sku": sku, "quantity": 1, "price": "10.00", "name": "Widget"}]
    )


def stock_reads(wired) -> int:
    return len(wired.bergen.requests_to(STOCK, "GET"))


@pytest.fixture
def reusing(wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    settings.WAREHOUSE_SKU_LIST_REUSE_SECONDS = 300
    place(wired, "2001")
    cart_connection_sync_orders(connection=wired.cart)  # reads the list and stores it
    assert stock_reads(wired) == 1
    return wired


def test_a_run_within_the_reuse_time_checks_against_the_stored_list_without_reading_it(reusing):
    place(reusing, "2002", sku="SKU-2")

    cart_connection_sync_orders(connection=reusing.cart)

    assert stock_reads(reusing) == 1
    assert Order.objects.get(order_number="2002").status == "at_wms"
    assert [o["referenceNum"] for o in reusing.bergen.orders] == ["2001", "2002"]


def test_an_sku_the_stored_list_lacks_reads_the_list_again_and_the_order_is_sent(reusing):
    reusing.bergen.add_item("NEW-SKU", on_hand=5)  # added at the warehouse after the list was stored
    place(reusing, "2003", sku="NEW-SKU")

    cart_connection_sync_orders(connection=reusing.cart)

    assert stock_reads(reusing) == 2
    assert Order.objects.get(order_number="2003").status == "at_wms"


def test_an_sku_the_warehouse_does_not_have_is_held_after_the_list_is_read_again(reusing):
    place(reusing, "2004", sku="NOWHERE-SKU")

    cart_connection_sync_orders(connection=reusing.cart)

    assert stock_reads(reusing) == 2
    held = Order.objects.get(order_number="2004")
    assert held.status == "error" and held.hold_code == "unknown_sku"
    assert "NOWHERE-SKU" in held.hold_reason


def test_with_no_reuse_time_every_run_with_orders_reads_the_list(reusing, settings):
    settings.WAREHOUSE_SKU_LIST_REUSE_SECONDS = 0
    place(reusing, "2005", sku="SKU-2")

    cart_connection_sync_orders(connection=reusing.cart)

    assert stock_reads(reusing) == 2
