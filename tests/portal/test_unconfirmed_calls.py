"""An unconfirmed call is a switch on the merchant's connection page, off by default, with its reason."""

from __future__ import annotations

from django.urls import reverse

from tests.admin_helpers import form_values
from tests.factories import CartConnectionFactory

FORM = "connection-form"
SWITCH = "setting__overstock__enable_inventory_upload"
REASON = (
    "Unconfirmed: Overstock publishes no inventory endpoint; CartRover's guide names OptionSku but no path. "
    "Turn on only if your Overstock rep gave you the path."
)


def overstock_cart(merchant, **settings):
    return CartConnectionFactory(
        merchant=merchant,
        platform="overstock",
        name="Overstock",
        credentials_values={"username": "supplier-7", "password": "pw"},
        settings={"warehouse_name": "Main Warehouse", **settings},
    )


def test_the_connection_page_shows_each_unconfirmed_call_off_with_its_reason(client, mine):
    cart = overstock_cart(mine.merchant)

    page = client.get(reverse("portal:connection_edit", args=["cart", cart.pk])).content.decode()

    assert "Turn on: Inventory upload (unconfirmed)" in page
    assert "Turn on: Order lookup by number (unconfirmed)" in page
    assert REASON in page  # help text is ours, rendered as written
    values = form_values(page, FORM)
    assert SWITCH not in values and "setting__overstock__enable_order_lookup" not in values  # unticked


def test_the_merchant_turns_the_inventory_upload_on_and_off_again(client, mine):
    cart = overstock_cart(mine.merchant)
    url = reverse("portal:connection_edit", args=["cart", cart.pk])
    data = form_values(client.get(url).content.decode(), FORM)

    client.post(url, {**data, SWITCH: ["on"], "action": ["save"]})

    cart.refresh_from_db()
    assert cart.settings["enable_inventory_upload"] is True
    assert cart.settings["enable_order_lookup"] is False
    page = client.get(url).content.decode()
    assert form_values(page, FORM)[SWITCH] == ["on"]

    client.post(url, {**form_values(page, FORM), "action": ["save"]} | {SWITCH: []})

    cart.refresh_from_db()
    assert cart.settings["enable_inventory_upload"] is False
    assert cart.settings["warehouse_name"] == "Main Warehouse"
