"""A merchant never sees or changes another merchant's anything: their ids answer 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.models import OrderStatus, ShippingMethodMap, SKUAlias
from tests.factories import WarehouseSKUListFactory
from tests.portal.conftest import Objects

# (url name, how to build its args from the other merchant's objects)
OBJECT_URLS = [
    ("connection_edit", lambda o: ["cart", o.cart.pk]),
    ("connection_edit", lambda o: ["warehouse", o.wms.pk]),
    ("connection_test", lambda o: ["cart", o.cart.pk]),
    ("connection_test", lambda o: ["warehouse", o.wms.pk]),
    ("connection_grant", lambda o: ["cart", o.cart.pk]),
    ("connection_grant", lambda o: ["warehouse", o.wms.pk]),
    ("shipping_method_add", lambda o: [o.wms.pk]),
    ("shipping_method_delete", lambda o: [o.shipping.pk]),
    ("alias_edit", lambda o: [o.alias.pk]),
    ("alias_delete", lambda o: [o.alias.pk]),
    ("order_detail", lambda o: [o.order.pk]),
    ("order_retry", lambda o: [o.order.pk]),
    ("order_send", lambda o: [o.order.pk]),
    ("order_alias", lambda o: [o.order.pk]),
    ("order_mapping", lambda o: [o.order.pk]),
    ("order_ship_to", lambda o: [o.order.pk]),
    ("order_hand_hold", lambda o: [o.order.pk]),
    ("order_release", lambda o: [o.order.pk]),
    ("order_payload", lambda o: [o.order.pk]),
]


@pytest.mark.parametrize("entry", OBJECT_URLS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OBJECT_URLS)])
@pytest.mark.parametrize("method", ["get", "post"])
def test_another_merchants_object_is_not_found(client, mine: Objects, theirs: Objects, entry, method):
    name, args = entry
    url = reverse(f"portal:{name}", args=args(theirs))

    response = getattr(client, method)(
        url, {"cart_sku": "X", "warehouse_sku": "Y", "cart_method": "M", "ship_code": "C"}
    )

    assert response.status_code in (404, 405)  # 405: a POST-only action asked with GET, before any lookup
    if response.status_code == 405:
        assert method == "get"
        assert client.post(url).status_code == 404


@pytest.mark.parametrize("entry", OBJECT_URLS, ids=[f"{n}-{i}" for i, (n, _) in enumerate(OBJECT_URLS)])
def test_the_same_urls_answer_for_the_merchants_own_objects(client, mine: Objects, entry):
    name, args = entry
    url = reverse(f"portal:{name}", args=args(mine))

    response = client.get(url)

    assert response.status_code in (200, 405), url


def test_nothing_of_theirs_was_changed_or_deleted(client, mine, theirs):
    for name, args in OBJECT_URLS:
        client.post(reverse(f"portal:{name}", args=args(theirs)), {"cart_sku": "X", "warehouse_sku": "Y"})

    assert SKUAlias.objects.filter(
        pk=theirs.alias.pk, cart_sku="THEIR-CART-SKU", warehouse_sku="THEIR-WMS-SKU"
    ).exists()
    assert ShippingMethodMap.objects.filter(pk=theirs.shipping.pk).exists()
    theirs.order.refresh_from_db()
    assert theirs.order.status == OrderStatus.ERROR
    assert theirs.order.events.count() == 0


@pytest.mark.parametrize("page", ["home", "order_list", "alias_list", "connection_list", "test_order"])
def test_lists_show_only_the_merchants_own_things(client, mine, theirs, page):
    content = client.get(reverse(f"portal:{page}")).content.decode()

    assert "THEIR" not in content
    assert "Theirs Inc" not in content
    assert "MINE" in content or page in ("home", "test_order")


def test_order_search_does_not_find_their_orders(client, mine, theirs):
    response = client.get(reverse("portal:order_list"), {"q": theirs.order.order_number})

    assert list(response.context["page"]) == []


def test_order_filter_refuses_their_cart(client, mine, theirs):
    response = client.get(reverse("portal:order_list"), {"connection": theirs.cart.pk})

    assert "connection" in response.context["form"].errors


def test_their_warehouse_cannot_be_chosen_for_my_cart(client, mine, theirs):
    url = reverse("portal:connection_edit", args=["cart", mine.cart.pk])
    page = client.get(url)
    assert f'value="{theirs.wms.pk}"' not in page.content.decode()

    response = client.post(
        url, {"name": "x", "active": "on", "earliest_order_date": "2024-01-01", "warehouse": theirs.wms.pk}
    )

    assert response.status_code == 200
    assert "warehouse" in response.context["form"].errors
    mine.cart.refresh_from_db()
    assert mine.cart.warehouse_id == mine.wms.pk


def test_a_test_order_cannot_be_sent_from_their_cart(client, mine, theirs):
    response = client.post(
        reverse("portal:test_order"),
        {
            "cart_connection": theirs.cart.pk,
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
    )

    assert response.status_code == 200
    assert "cart_connection" in response.context["form"].errors
    assert not theirs.cart.orders.filter(is_test=True).exists()


def test_an_alias_with_their_cart_sku_is_mine_to_add(client, mine, theirs):
    """Uniqueness of a cart SKU is per merchant: theirs does not block mine, nor leak."""
    WarehouseSKUListFactory(warehouse=mine.wms, skus=["MINE", "W"])  # my warehouse lists the SKU
    response = client.post(reverse("portal:alias_create"), {"cart_sku": "THEIR-CART-SKU", "warehouse_sku": "MINE"})

    assert response.status_code == 302
    assert SKUAlias.objects.filter(merchant=mine.merchant, cart_sku="THEIR-CART-SKU").exists()
