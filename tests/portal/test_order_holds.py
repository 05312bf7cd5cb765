"""The merchant's order page acts on its hold through the same service as the admin: an alias picked
from the warehouse's SKU list (an unknown one refused), ship-to edited, each recorded with the user;
another merchant's order answers 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.models import OrderStatus, SKUAlias
from tests.admin_helpers import form_values, import_order, messages_of


def test_an_alias_to_an_sku_the_warehouse_does_not_list_is_refused_as_in_the_admin(wired_client, wired):
    held = import_order(wired, "5001", sku="TEE-BLK")

    response = wired_client.post(
        reverse("portal:order_alias", args=[held.pk]), {"cart_sku": "TEE-BLK", "warehouse_sku": "NOPE"}, follow=True
    )

    [(level, text)] = messages_of(response)
    assert level == "error" and "does not list SKU 'NOPE'" in text and "released" not in text
    assert not SKUAlias.objects.exists()


def test_an_alias_from_the_order_page_releases_it_and_records_the_user(wired_client, wired):
    held = import_order(wired, "5002", sku="TEE-BLK")
    page = wired_client.get(reverse("portal:order_detail", args=[held.pk])).content.decode()
    data = form_values(page, "alias-form-1")
    data["warehouse_sku"] = ["SKU-2"]

    response = wired_client.post(reverse("portal:order_alias", args=[held.pk]), data, follow=True)

    [(level, text)] = messages_of(response)
    assert level == "success" and "Order #5002 released" in text
    event = held.events.get(code="alias_saved")
    assert event.user.username == "wired-shopkeeper"


def test_the_ship_to_edited_on_the_order_page_is_checked_again(wired_client, wired):
    order = import_order(wired, "5003", sku="TEE-BLK")
    page = wired_client.get(reverse("portal:order_detail", args=[order.pk])).content.decode()
    data = form_values(page, "ship-to-form")
    data["ship_country"] = ["Atlantis"]

    response = wired_client.post(reverse("portal:order_ship_to", args=[order.pk]), data, follow=True)

    [(level, text)] = messages_of(response)
    assert level == "warning" and "still held" in text and "Atlantis" in text
    order.refresh_from_db()
    assert (order.status, order.ship_country) == (OrderStatus.ERROR, "Atlantis")
    assert order.events.get(code="ship_to_edited").user.username == "wired-shopkeeper"


@pytest.mark.parametrize(
    "name",
    ["order_retry", "order_send", "order_alias", "order_mapping", "order_ship_to", "order_hand_hold", "order_release"],
)
def test_another_merchants_order_is_not_found(client, mine, theirs, name):
    response = client.post(reverse(f"portal:{name}", args=[theirs.order.pk]), {"cart_sku": "X", "warehouse_sku": "Y"})

    assert response.status_code == 404
    assert not theirs.order.events.exists()
