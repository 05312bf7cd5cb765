"""Translation for the warehouse: SKU aliases, shipping codes, cust_po_no, as the warehouse receives them."""

from __future__ import annotations

from orders.models import HoldCode, OrderStatus
from tests.factories import ShippingMethodMapFactory, SKUAliasFactory
from tests.orders.helpers import order_for, order_posts, seed, sync


def test_a_sku_alias_maps_the_cart_sku_to_the_warehouse_sku_in_the_line_and_the_payload(wired):
    SKUAliasFactory(merchant=wired.merchant, cart_sku="CART-9", warehouse_sku="WMS-SKU-9")
    cart_order = seed(
        wired.squarespace,
        "1001",
        lines=[
            {"sku": "CART-9", "quantity": 3, "price": "7.00", "name": "Aliased"},
            {"sku": "SKU-1", "quantity": 1, "price": "10.00", "name": "Plain"},
        ],
    )

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.AT_WMS
    assert list(order.lines.values_list("cart_sku", "warehouse_sku")) == [("CART-9", "WMS-SKU-9"), ("SKU-1", "SKU-1")]
    [sent] = order_posts(wired.bergen)
    assert [(i["itemIdentifier"]["sku"], i["qty"]) for i in sent.json["orderItems"]] == [("WMS-SKU-9", 3), ("SKU-1", 1)]


def test_an_alias_of_another_merchant_is_not_used(wired):
    SKUAliasFactory(cart_sku="CART-9", warehouse_sku="WMS-SKU-9")  # a different merchant
    cart_order = seed(wired.squarespace, "1001", lines=[{"sku": "CART-9", "quantity": 1}])

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert (order.status, order.hold_code) == (OrderStatus.ERROR, HoldCode.UNKNOWN_SKU)
    assert order_posts(wired.bergen) == []


def test_a_mapped_shipping_method_becomes_the_ship_code_sent_to_the_warehouse(wired):
    cart_order = seed(wired.squarespace, "1001", shipping_method="Standard")

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert (order.orig_ship_code, order.ship_code) == ("Standard", "UPS:Ground")
    [sent] = order_posts(wired.bergen)
    assert sent.json["routingInfo"] == {"carrier": "UPS", "mode": "Ground"}


def test_the_shipping_method_mapping_ignores_case_and_surrounding_spaces(wired):
    ShippingMethodMapFactory(warehouse=wired.wms, cart_method="Express Delivery", ship_code="FedEx:2Day")
    cart_order = seed(wired.squarespace, "1001", shipping_method="  express delivery ")

    sync(wired.cart)

    assert order_for(wired.cart, cart_order).ship_code == "FedEx:2Day"


def test_the_warehouse_default_ship_code_is_used_for_an_unmapped_method(wired):
    wired.wms.default_ship_code = "USPS:Priority"
    wired.wms.save()
    cart_order = seed(wired.squarespace, "1001", shipping_method="Overnight Rocket")

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.AT_WMS
    assert (order.orig_ship_code, order.ship_code) == ("Overnight Rocket", "USPS:Priority")
    [sent] = order_posts(wired.bergen)
    assert sent.json["routingInfo"] == {"carrier": "USPS", "mode": "Priority"}


def test_an_unmapped_method_without_a_default_holds_the_order_as_unmapped_shipping(wired):
    cart_order = seed(wired.squarespace, "1001", shipping_method="Overnight Rocket")

    run = sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.ERROR
    assert order.hold_code == HoldCode.UNMAPPED_SHIPPING
    assert "'Overnight Rocket'" in order.hold_reason
    assert "shipping method mapping" in order.hold_reason
    assert run.counts["held"] == 1
    assert run.status == "partial"
    assert order_posts(wired.bergen) == []


def test_cust_po_no_is_the_full_order_number(wired):
    number = "SQ-2024-000000000000000123456789"
    cart_order = seed(wired.squarespace, number)

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert order.cust_po_no == number
    assert order.cust_ref != number  # too long for the warehouse's references
    [sent] = order_posts(wired.bergen)
    assert sent.json["poNum"] == number
    assert sent.json["referenceNum"] == order.cust_ref
