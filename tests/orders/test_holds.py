"""Validation holds (a reason code and a fix-it text), and their release when the cause is fixed."""

from __future__ import annotations

from orders.models import HoldCode, OrderEvent, OrderStatus, SKUAlias
from orders.services.delivery.holds import sku_alias_saved
from tests.orders.helpers import order_for, order_posts, seed, sync

STOCK_PATH = "/inventory/stocksummaries"


def test_an_unknown_sku_holds_the_order_naming_the_sku_and_saying_to_add_an_alias(wired):
    cart_order = seed(
        wired.squarespace,
        "1001",
        lines=[
            {"sku": "SKU-1", "quantity": 1},
            {"sku": "MYSTERY-7", "quantity": 2},
        ],
    )

    run = sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.ERROR
    assert order.hold_code == HoldCode.UNKNOWN_SKU
    assert "'MYSTERY-7'" in order.hold_reason
    assert "add an SKU alias" in order.hold_reason
    assert "SKU-1'" not in order.hold_reason
    assert run.counts["held"] == 1
    assert order_posts(wired.bergen) == []


def test_missing_ship_to_fields_hold_the_order_naming_them(wired):
    cart_order = seed(wired.squarespace, "1001", shipping_address={"address1": "", "postalCode": None})

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert (order.status, order.hold_code) == (OrderStatus.ERROR, HoldCode.MISSING_ADDRESS)
    assert "lacks: street, postcode." in order.hold_reason, "in words, not field names (address_1, zip)"
    assert "city" not in order.hold_reason.split("lacks:")[1].split(".")[0]
    assert "Correct the address at the cart" in order.hold_reason
    assert order_posts(wired.bergen) == []


def test_an_order_without_a_shipping_address_is_held_not_shipped_to_the_billing_address(wired):
    cart_order = seed(wired.squarespace, "1001", shippingAddress=None)

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert (order.status, order.hold_code) == (OrderStatus.ERROR, HoldCode.MISSING_ADDRESS)
    assert order_posts(wired.bergen) == []


def test_a_zero_quantity_holds_the_order(wired):
    cart_order = seed(
        wired.squarespace,
        "1001",
        lines=[
            {"sku": "SKU-1", "quantity": 1},
            {"sku": "SKU-2", "quantity": 0},
        ],
    )

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert (order.status, order.hold_code) == (OrderStatus.ERROR, HoldCode.ZERO_QUANTITY)
    assert "line 2 (SKU-2): 0" in order.hold_reason
    assert "Fix the order at the cart" in order.hold_reason
    assert order_posts(wired.bergen) == []


def test_saving_the_alias_releases_the_orders_it_held_and_the_next_sync_delivers_them(wired):
    first = seed(wired.squarespace, "1001", lines=[{"sku": "CART-77", "quantity": 1}])
    second = seed(wired.squarespace, "1002", lines=[{"sku": "CART-77", "quantity": 4}])
    other = seed(wired.squarespace, "1003", lines=[{"sku": "OTHER-1", "quantity": 1}])
    sync(wired.cart)
    assert {order_for(wired.cart, o).hold_code for o in (first, second, other)} == {HoldCode.UNKNOWN_SKU}

    alias = SKUAlias.objects.create(merchant=wired.merchant, cart_sku="CART-77", warehouse_sku="SKU-2")
    counts = sku_alias_saved(alias=alias)

    assert counts == {"released": 2, "still_held": 0}
    for cart_order in (first, second):
        order = order_for(wired.cart, cart_order)
        assert (order.status, order.hold_code, order.hold_reason) == (OrderStatus.NEW, "", "")
        released = OrderEvent.objects.filter(order=order).last()
        assert (released.from_status, released.to_status) == (OrderStatus.ERROR, OrderStatus.NEW)
        assert "SKU alias CART-77 → SKU-2 saved" in released.message
    assert order_for(wired.cart, other).status == OrderStatus.ERROR

    run = sync(wired.cart)

    assert run.counts["delivered"] == 2
    for cart_order in (first, second):
        order = order_for(wired.cart, cart_order)
        assert order.status == OrderStatus.AT_WMS
        sent = wired.bergen.orders_by_reference()[order.cust_ref][0]
        assert [i["itemIdentifier"]["sku"] for i in sent["orderItems"]] == ["SKU-2"]
    assert wired.bergen.duplicate_count() == 0


def test_a_warehouse_refusal_for_an_unknown_item_holds_the_order_as_unknown_sku(wired, settings):
    cart_order = seed(wired.squarespace, "1001", lines=[{"sku": "MYSTERY-7", "quantity": 1}])
    wired.bergen.fail_next(settings.HTTP_MAX_RETRIES + 1, status=500, path_contains=STOCK_PATH)

    run = sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert "SKUs not checked before sending" in run.error
    assert len(order_posts(wired.bergen)) == 1  # not pre-checked: the warehouse was asked and refused
    assert wired.bergen.orders == []
    assert order.status == OrderStatus.ERROR
    assert order.hold_code == HoldCode.UNKNOWN_SKU
    assert "'MYSTERY-7'" in order.hold_reason
    assert "add an SKU alias" in order.hold_reason
    assert order.delivery_uncertain is False
    held = OrderEvent.objects.filter(order=order).last()
    assert (held.from_status, held.to_status, held.code) == (OrderStatus.NEW, OrderStatus.ERROR, HoldCode.UNKNOWN_SKU)
