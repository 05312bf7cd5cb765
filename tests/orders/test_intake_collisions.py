"""A page's new orders collide with another run's (it stored one of them, or took a reference, after
this page looked): the page is stored one order at a time, and every order is stored exactly once,
under a reference of its own. The race is reproduced by letting this page's look-up miss what the
other run wrote."""

from __future__ import annotations

from typing import Any

import pytest

from integrations.connectors.squarespace import wire as squarespace_wire
from integrations.services import warehouse_connector_for
from orders.models import Order, OrderEvent, SyncRun
from orders.services.intake import cust_refs, pages
from orders.services.intake.importer import Importer
from orders.services.translation.translate import load_context
from sandbox import squarespace_data
from tests.factories import CartConnectionFactory, ShippingMethodMapFactory
from tests.orders.helpers import ago


@pytest.fixture
def cart(db):
    cart = CartConnectionFactory()
    ShippingMethodMapFactory(warehouse=cart.warehouse, cart_method="Standard", ship_code="UPS:Ground")
    return cart


PLACED = ago(minutes=5)


def cart_order(order_id: str, order_number: str = "1001") -> dict[str, Any]:
    """An open order, the same each time it is listed."""
    placed = PLACED
    address = squarespace_data.build_address(None)
    line = squarespace_data.build_line_item({"sku": "SKU-1", "quantity": 1, "price": "10.00"}, "USD", "v-1")
    order = squarespace_data.build_order(
        order_number=order_number,
        created_on=placed,
        modified_on=placed,
        fulfillment_status="PENDING",
        line_items=[line],
        shipping_method="Standard",
        shipping_amount="5.00",
        shipping_address=address,
        billing_address=address,
        customer_email="ada@example.com",
        testmode=False,
        currency="USD",
    )
    return {**order, "id": order_id}


def store(cart, payloads: list[dict[str, Any]]) -> dict[str, int]:
    page, _ = squarespace_wire.parse_page({"result": payloads, "pagination": {"hasNextPage": False}})
    run = SyncRun.objects.create(kind=SyncRun.Kind.ORDERS, merchant=cart.merchant, cart_connection=cart)
    counts = dict.fromkeys(pages.IMPORT_COUNTS, 0)
    connector = warehouse_connector_for(connection=cart.warehouse)

    def context():
        return load_context(
            merchant_id=cart.merchant_id,
            warehouse=cart.warehouse,
            warehouse_skus={"SKU-1"},
            warehouse_connector=connector,
        )

    pages.cart_page_store(
        importer=Importer(connection=cart, run=run, context_factory=context, counts=counts), page=page
    )
    return counts


def test_an_order_another_run_stored_meanwhile_stays_one_order_and_the_rest_of_the_page_is_stored(cart, monkeypatch):
    store(cart, [cart_order("A", "1001")])
    monkeypatch.setattr(pages, "orders_by_cart_id", lambda connection_id, ids: {})  # looked before it was stored

    counts = store(cart, [cart_order("A", "1001"), cart_order("B", "1002")])

    assert (counts["imported"], counts["updated"]) == (1, 0)
    assert sorted(Order.objects.filter(cart_connection=cart).values_list("cart_order_id", flat=True)) == ["A", "B"]
    assert OrderEvent.objects.filter(code="imported").count() == 2


def test_a_reference_another_run_took_meanwhile_is_chosen_again(cart, monkeypatch):
    store(cart, [cart_order("A", "1001")])
    taken_lookup = cust_refs.cust_refs_taken
    looks: list[set[str]] = []

    def first_look_misses(account: str, keys: set[str]) -> set[str]:  # looked before the other run took it
        looks.append(keys)
        return set() if len(looks) == 1 else taken_lookup(account, keys)

    monkeypatch.setattr(cust_refs, "cust_refs_taken", first_look_misses)

    counts = store(cart, [cart_order("B", "1001")])

    first, second = Order.objects.get(cart_order_id="A"), Order.objects.get(cart_order_id="B")
    assert counts["imported"] == 1
    assert second.cust_ref and second.cust_ref.lower() != first.cust_ref.lower()
    assert second.warehouse_account == first.warehouse_account
    assert OrderEvent.objects.filter(order=second, code="imported").count() == 1
