"""A change at the cart to an order the warehouse has is kept as a change to pass on: an edit with the
whole order as it should be, fewer items as a partial cancellation, once per version of the cart's order,
a later version replacing one not yet passed on; the order keeps what the warehouse holds until then."""

from __future__ import annotations

import copy

from integrations.cooldowns import cooldown_key, cooldown_record
from orders.models import Order, OrderChange, OrderStatus, SKUAlias
from tests.orders.helpers import cooldowns_end, order_for, seed, sync


def delivered(wired, settings, **kwargs):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    cart_order = seed(wired.squarespace, "1001", **kwargs)
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.AT_WMS
    return cart_order, order


def warehouse_waits(wired) -> None:
    """The warehouse asked us to wait (a recorded cooldown): nothing is sent to it for now."""
    cooldown_record(cooldown_key(wired.wms), seconds=600, reason="429")


def test_a_new_ship_to_is_an_edit_carrying_the_order_as_it_should_be(wired, settings):
    cart_order, order = delivered(wired, settings)
    address = copy.deepcopy(cart_order["shippingAddress"])
    address.update(address1="99 New Street", city="Trenton")
    warehouse_waits(wired)

    wired.squarespace.update_order(cart_order["id"], shippingAddress=address)
    sync(wired.cart)

    [change] = order.changes.all()
    assert (change.kind, change.status) == (OrderChange.Kind.EDIT, OrderChange.Status.PENDING)
    assert "99 New Street" in change.what and "address 1" in change.what
    assert change.wanted["ship_to"]["address_1"] == "99 New Street"
    assert change.wanted["cust_ref"] == order.cust_ref, "the same order at the warehouse, changed"
    order.refresh_from_db()
    assert order.ship_address_1 != "99 New Street", "the order keeps what the warehouse holds until applied"


def test_a_lower_quantity_is_a_partial_cancellation(wired, settings):
    cart_order, order = delivered(wired, settings, lines=[{"sku": "SKU-1", "quantity": 3, "price": "5.00"}])
    items = copy.deepcopy(cart_order["lineItems"])
    items[0]["quantity"] = 1
    warehouse_waits(wired)

    wired.squarespace.update_order(cart_order["id"], lineItems=items)
    sync(wired.cart)

    [change] = order.changes.all()
    assert change.kind == OrderChange.Kind.CANCEL_LINES
    assert "SKU-1 × 3 → 1" in change.what
    assert [(i["sku"], i["quantity"]) for i in change.wanted["items"]] == [("SKU-1", 1)]


def test_a_version_seen_again_is_recorded_once_and_an_unchanged_order_not_at_all(wired, settings):
    cart_order, order = delivered(wired, settings)
    warehouse_waits(wired)
    billing = copy.deepcopy(cart_order["billingAddress"])
    billing.update(city="Camden")
    wired.squarespace.update_order(cart_order["id"], billingAddress=billing)  # not sent to the warehouse
    sync(wired.cart)
    assert not order.changes.exists()

    address = copy.deepcopy(cart_order["shippingAddress"])
    address.update(city="Trenton")
    wired.squarespace.update_order(cart_order["id"], shippingAddress=address)
    sync(wired.cart)
    sync(wired.cart)

    assert order.changes.count() == 1


def test_a_later_version_replaces_a_change_not_yet_passed_on(wired, settings):
    cart_order, order = delivered(wired, settings)
    warehouse_waits(wired)
    address = copy.deepcopy(cart_order["shippingAddress"])
    address.update(city="Trenton")
    wired.squarespace.update_order(cart_order["id"], shippingAddress=address)
    sync(wired.cart)

    wired.squarespace.update_order(cart_order["id"], fulfillmentStatus="CANCELED")
    sync(wired.cart)

    assert [(c.kind, c.status) for c in order.changes.order_by("pk")] == [
        (OrderChange.Kind.EDIT, OrderChange.Status.SUPERSEDED),
        (OrderChange.Kind.CANCEL, OrderChange.Status.PENDING),
    ]
    cooldowns_end()
    sync(wired.cart)
    assert wired.bergen.order(order.cust_ref)["readOnly"]["status"] == 2, "canceled at the warehouse"


def test_a_change_seen_while_a_send_is_uncertain_is_passed_on_once_the_order_is_there(wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    cart_order = seed(wired.squarespace, "1001")
    wired.bergen.fail_next(1, status=500, path_contains="/orders", method="POST", mode="after")
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    assert order.delivery_uncertain
    address = copy.deepcopy(cart_order["shippingAddress"])
    address.update(city="Trenton")

    wired.squarespace.update_order(cart_order["id"], shippingAddress=address)
    Order.objects.filter(pk=order.pk).update(next_attempt_at=None)  # its retry is due
    sync(wired.cart)  # the order is found at the warehouse (the lost answer), then the change passed on

    [change] = order.changes.all()
    assert change.kind == OrderChange.Kind.EDIT and "Trenton" in change.what
    assert change.status == OrderChange.Status.APPLIED
    assert wired.bergen.order(order.cust_ref)["shipTo"]["city"] == "Trenton"


def test_a_new_alias_is_not_a_change_at_the_cart(wired, settings):
    cart_order, order = delivered(wired, settings)
    SKUAlias.objects.create(merchant=wired.merchant, cart_sku="SKU-1", warehouse_sku="SKU-2")
    billing = copy.deepcopy(cart_order["billingAddress"])
    billing.update(city="Camden")

    wired.squarespace.update_order(cart_order["id"], billingAddress=billing)  # seen again, nothing sent differs
    sync(wired.cart)

    assert not order.changes.exists(), "the warehouse keeps the order it was sent: no edit from our own mapping"
