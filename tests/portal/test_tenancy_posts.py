"""Crafted posts that name another merchant's rows are refused with a message (never a 500, never
saved), and a row linked to another merchant's warehouse (stored by a bypass) is shown as such."""

from __future__ import annotations

from django.urls import reverse

from integrations.models import CartConnection
from orders.models import Order, OrderStatus, ShippingMethodMap, SKUAlias
from sync.models import Job
from tests.admin_helpers import messages_of
from tests.factories import WarehouseSKUListFactory

REFUSAL = "belongs to another merchant"
INVALID_CHOICE = "Select a valid choice"


def test_a_new_cart_naming_their_warehouse_is_refused_on_the_field(client, mine, theirs):
    url = reverse("portal:connection_create", args=["cart", "squarespace"])

    response = client.post(
        url,
        {
            "name": "Crafted",
            "active": "on",
            "earliest_order_date": "2024-01-01",
            "warehouse": theirs.wms.pk,
            "credential__squarespace__api_key": "sq-key",
        },
    )

    assert response.status_code == 200
    assert "warehouse" in response.context["form"].errors
    assert INVALID_CHOICE in response.content.decode()
    assert not CartConnection.objects.filter(name="Crafted").exists()
    assert not theirs.wms.carts.exclude(pk=theirs.cart.pk).exists()


def test_editing_my_cart_with_their_warehouse_shows_why(client, mine, theirs):
    url = reverse("portal:connection_edit", args=["cart", mine.cart.pk])

    response = client.post(url, {"name": "x", "earliest_order_date": "2024-01-01", "warehouse": theirs.wms.pk})

    assert response.status_code == 200
    assert INVALID_CHOICE in response.content.decode()
    assert CartConnection.objects.get(pk=mine.cart.pk).warehouse_id == mine.wms.pk


def test_a_shipping_method_posted_with_their_warehouse_goes_on_mine_only(client, mine, theirs):
    before = theirs.wms.shipping_methods.count()

    response = client.post(
        reverse("portal:shipping_method_add", args=[mine.wms.pk]),
        {"cart_method": "Crafted", "ship_code": "FEDEX", "warehouse": theirs.wms.pk},
    )

    assert response.status_code == 302
    assert ShippingMethodMap.objects.get(cart_method="Crafted").warehouse_id == mine.wms.pk
    assert theirs.wms.shipping_methods.count() == before


def test_an_alias_posted_with_their_merchant_is_mine(client, mine, theirs):
    WarehouseSKUListFactory(warehouse=mine.wms, skus=["MINE", "W"])  # my warehouse lists the SKU
    response = client.post(
        reverse("portal:alias_create"),
        {"cart_sku": "CRAFTED", "warehouse_sku": "W", "merchant": theirs.merchant.pk},
    )

    assert response.status_code == 302
    assert SKUAlias.objects.get(cart_sku="CRAFTED").merchant_id == mine.merchant.pk


def test_a_cart_wired_to_their_warehouse_by_a_bypass_says_so_and_never_names_it(client, mine, theirs):
    CartConnection.objects.filter(pk=mine.cart.pk).update(warehouse=theirs.wms)

    page = client.get(reverse("portal:connection_list")).content.decode()

    assert "not one of your warehouses" in page
    assert "THEIR" not in page and "Theirs Inc" not in page


def test_an_order_assigned_to_their_warehouse_by_a_bypass_is_neither_shown_nor_retried(client, mine, theirs):
    Order.objects.filter(pk=mine.order.pk).update(warehouse=theirs.wms)

    payload = client.get(reverse("portal:order_payload", args=[mine.order.pk]))
    detail = client.get(reverse("portal:order_detail", args=[mine.order.pk]))
    retried = client.post(reverse("portal:order_retry", args=[mine.order.pk]), follow=True)

    assert payload.status_code == detail.status_code == retried.status_code == 200
    assert REFUSAL in payload.content.decode()
    assert "not one of your warehouses" in detail.content.decode()
    assert "THEIR" not in detail.content.decode()
    [(level, text)] = messages_of(retried)
    assert level == "error" and "was not retried" in text and REFUSAL in text
    assert Order.objects.get(pk=mine.order.pk).status == OrderStatus.ERROR
    assert not theirs.wms.orders.exclude(pk=theirs.order.pk).exclude(pk=mine.order.pk).exists()


def test_a_test_order_from_my_cart_wired_to_their_warehouse_is_not_sent(client, mine, theirs):
    CartConnection.objects.filter(pk=mine.cart.pk).update(warehouse=theirs.wms)

    response = client.post(
        reverse("portal:test_order"),
        {
            "cart_connection": mine.cart.pk,
            "ship_name": "T",
            "ship_address_1": "1 St",
            "ship_city": "C",
            "ship_zip": "1",
            "ship_country": "US",
            "lines-TOTAL_FORMS": "1",
            "lines-INITIAL_FORMS": "0",
            "lines-0-sku": "SKU-1",
            "lines-0-quantity": "1",
        },
        follow=True,
    )

    assert response.status_code == 200
    [job] = Job.objects.filter(kind=Job.Kind.TEST_ORDER)  # made and sent by the worker (inline in tests)
    assert job.level == "error" and REFUSAL in job.summary
    assert not Order.objects.filter(is_test=True, warehouse=theirs.wms).exists()
