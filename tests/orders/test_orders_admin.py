"""The order admin: finding orders, what an order's page shows, and that orders cannot be added or deleted."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.models import HoldCode, Order, OrderStatus
from tests.admin_helpers import import_order
from tests.factories import CartConnectionFactory, OrderFactory, OrderLineFactory

CHANGELIST = reverse("admin:orders_order_changelist")


@pytest.fixture
def orders(db) -> dict[str, Order]:
    """Three orders: two of one merchant on two cart connections, one of another merchant (held)."""
    first = OrderLineFactory(
        cart_sku="TEE-BLK-M", warehouse_sku="TSHIRT-BLACK-M", order__order_number="5001", order__cust_ref="REF-AAA"
    ).order
    second_cart = CartConnectionFactory(merchant=first.merchant, warehouse=first.warehouse, name="Second store")
    second = OrderLineFactory(
        cart_sku="MUG-WHITE",
        warehouse_sku="MUG-WHITE",
        order__cart_connection=second_cart,
        order__order_number="5002",
        order__cust_ref="REF-BBB",
    ).order
    held = OrderLineFactory(
        cart_sku="POSTER-XL",
        warehouse_sku="POSTER-XL",
        order__order_number="7003",
        order__cust_ref="REF-CCC",
        order__status=OrderStatus.ERROR,
        order__hold_code=HoldCode.UNKNOWN_SKU,
        order__hold_reason="The warehouse does not know SKU 'POSTER-XL'.",
    ).order
    return {"first": first, "second": second, "held": held}


def listed(admin_client, **params) -> set[Order]:
    response = admin_client.get(CHANGELIST, params)
    assert response.status_code == 200
    return set(response.context["cl"].result_list)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("5002", "second"),  # order number
        ("REF-CCC", "held"),  # cust_ref
        ("TEE-BLK-M", "first"),  # the cart's SKU on a line
        ("MUG-WHITE", "second"),  # the warehouse's SKU on a line
    ],
)
def test_search_finds_the_order_by_number_reference_or_sku(admin_client, orders, query, expected):
    assert listed(admin_client, q=query) == {orders[expected]}


def test_filters_by_merchant_status_and_cart_connection(admin_client, orders):
    first, second, held = orders["first"], orders["second"], orders["held"]

    assert listed(admin_client, merchant__id__exact=first.merchant_id) == {first, second}
    assert listed(admin_client, status__exact=OrderStatus.ERROR) == {held}
    assert listed(admin_client, status__exact=OrderStatus.NEW) == {first, second}
    assert listed(admin_client, cart_connection__id__exact=second.cart_connection_id) == {second}
    assert listed(admin_client, hold_code__exact=HoldCode.UNKNOWN_SKU) == {held}


def test_held_orders_show_as_held_with_their_reason_in_the_list(admin_client, orders):
    response = admin_client.get(CHANGELIST)

    assert "held: SKU not known at the warehouse" in response.content.decode()


def test_change_page_shows_lines_translated_payload_and_history(admin_client, wired):
    order = import_order(wired, "3001")
    assert order.status == OrderStatus.AT_WMS

    response = admin_client.get(reverse("admin:orders_order_change", args=[order.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert "SKU-1" in page  # the line
    assert "&quot;referenceNum&quot;: &quot;" + order.cust_ref in page  # the payload as sent to Bergen
    assert "&quot;poNum&quot;: &quot;3001&quot;" in page
    assert "UPS" in page and "Ground" in page  # the shipping method translated
    assert "Imported from Squarespace Commerce" in page  # history
    assert f"Delivered to Bergen Logistics as {order.cust_ref}" in page


def test_orders_cannot_be_added(admin_client, orders):
    assert admin_client.get(reverse("admin:orders_order_add")).status_code == 403
    assert admin_client.post(reverse("admin:orders_order_add"), {"order_number": "1"}).status_code == 403


def test_orders_cannot_be_deleted_one_by_one_or_in_bulk(admin_client, orders):
    order = orders["first"]

    assert admin_client.get(reverse("admin:orders_order_delete", args=[order.pk])).status_code == 403
    assert admin_client.post(reverse("admin:orders_order_delete", args=[order.pk]), {"post": "yes"}).status_code == 403
    actions = dict(admin_client.get(CHANGELIST).context["action_form"].fields["action"].choices)
    assert "delete_selected" not in actions
    admin_client.post(CHANGELIST, {"action": "delete_selected", "_selected_action": [order.pk], "post": "yes"})
    assert Order.objects.filter(pk=order.pk).exists()
    assert Order.objects.count() == 3


def test_the_change_page_cannot_edit_an_order(admin_client, orders):
    order = orders["first"]

    admin_client.post(reverse("admin:orders_order_change", args=[order.pk]), {"order_number": "hacked"})

    order.refresh_from_db()
    assert order.order_number == "5001"


def test_an_order_made_by_the_factories_has_a_change_page(admin_client):
    order = OrderFactory()

    assert admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).status_code == 200
