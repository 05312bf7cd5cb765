"""Who did what on the merchant pages: every change a person makes to a connection, a shipping mapping
or an SKU alias is on the object's history (Django's LogEntry, the admin's History page) with the
user and what changed, never a secret; orders a mapping checks again name the person."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from integrations.models import WMSConnection
from orders.models import OrderEvent, OrderStatus, ShippingMethodMap, SKUAlias
from tests.admin_helpers import form_values, import_order
from tests.factories import CartConnectionFactory, WarehouseSKUListFactory
from tests.fixtures_tradegecko import oauth_app_settings
from tests.portal.conftest import client_of, merchant_user

FORM = "connection-form"
SECRET = "sq-secret-never-logged-4242"


def entries_of(obj) -> list[LogEntry]:
    return list(LogEntry.objects.filter(object_id=str(obj.pk), content_type__model=obj._meta.model_name).order_by("pk"))


def no_secret_logged(*secrets: str) -> None:
    for entry in LogEntry.objects.all():
        for secret in secrets:
            assert secret not in entry.change_message and secret not in entry.object_repr


def test_editing_a_connection_records_the_user_and_the_fields_by_label_never_the_secret(client, user, mine):
    url = reverse("portal:connection_edit", args=["cart", mine.cart.pk])
    data = form_values(client.get(url).content.decode(), FORM)
    data.pop("active", None)  # unchecked: turned off

    client.post(url, {**data, "name": ["Renamed store"], "credential__squarespace__api_key": [SECRET]})

    (entry,) = entries_of(mine.cart)
    assert entry.user == user and entry.action_flag == CHANGE
    message = entry.get_change_message()
    assert "Name changed" in message
    assert "turned off (inactive)" in message
    assert "credentials changed (API key)" in message
    no_secret_logged(SECRET)
    page = client.get(url).content.decode()
    assert 'id="history"' in page and user.username in page and "credentials changed (API key)" in page
    assert SECRET not in page


def test_adding_a_connection_records_it_as_an_addition_by_the_user(client, user, mine):
    url = reverse("portal:connection_create", args=["warehouse", "bergen"])
    data = form_values(client.get(url).content.decode(), FORM)
    data.update(
        {
            "name": ["Second warehouse"],
            "credential__bergen__username": ["api-user-name"],
            "credential__bergen__password": [SECRET],
            "setting__bergen__account_web_address": ["https://www.mine.atworkweb.invalid"],
            "setting__bergen__customer_name": ["Mine"],
            "action": ["save"],
        }
    )

    client.post(url, data)

    connection = WMSConnection.objects.get(name="Second warehouse")
    (entry,) = entries_of(connection)
    assert entry.user == user and entry.action_flag == ADDITION
    assert entry.get_change_message().startswith("Added on the merchant pages:")
    assert "credentials set (" in entry.get_change_message()
    no_secret_logged(SECRET, "api-user-name")


def test_test_connection_asked_on_the_merchant_pages_is_recorded(wired_client, wired):
    wired_client.post(reverse("portal:connection_test", args=["cart", wired.cart.pk]))

    (entry,) = entries_of(wired.cart)
    assert entry.user.username == "wired-shopkeeper"
    assert entry.get_change_message().startswith("Test connection asked on the merchant pages (job ")


def test_access_granted_is_recorded_with_the_user_and_no_token(client, user, mine, settings, tradegecko_sandbox):
    settings.OAUTH_CLIENTS = {"tradegecko": oauth_app_settings(tradegecko_sandbox)}
    connection = CartConnectionFactory(
        merchant=mine.merchant, platform="tradegecko", api_base_url=tradegecko_sandbox.base_url, sandbox_tooling=True
    )
    connection.set_credentials({})
    connection.save()

    start = client.post(reverse("portal:connection_grant", args=["cart", connection.pk]))
    answer = requests.get(start["Location"], allow_redirects=False, timeout=5)
    parts = urlsplit(answer.headers["Location"])
    client.get(f"{parts.path}?{parts.query}")

    (entry,) = entries_of(connection)
    assert entry.user == user
    assert entry.get_change_message().startswith("Access granted at ")
    connection.refresh_from_db()
    no_secret_logged(*(str(value) for value in connection.get_credentials().values()))


def test_a_shipping_mapping_added_is_recorded_and_the_released_order_names_the_person(wired_client, wired):
    held = import_order(wired, "3101", shipping="Express")
    assert held.status == OrderStatus.ERROR

    wired_client.post(
        reverse("portal:shipping_method_add", args=[wired.wms.pk]), {"cart_method": "Express", "ship_code": "FDX:2DAY"}
    )

    mapping = ShippingMethodMap.objects.get(warehouse=wired.wms, cart_method="Express")
    (on_mapping,) = entries_of(mapping)
    assert on_mapping.user.username == "wired-shopkeeper" and on_mapping.action_flag == ADDITION
    assert "'Express' mapped to 'FDX:2DAY'" in on_mapping.change_message
    assert any("'Express' mapped to 'FDX:2DAY'" in e.change_message for e in entries_of(wired.wms))
    event = OrderEvent.objects.get(order=held, code="mapping_saved")
    assert event.user.username == "wired-shopkeeper"
    assert "by wired-shopkeeper" in event.message
    held.refresh_from_db()
    assert held.status == OrderStatus.NEW


def test_a_shipping_mapping_deleted_is_recorded_on_it_and_its_warehouse(client, user, mine):
    pk = mine.shipping.pk
    client.post(reverse("portal:shipping_method_delete", args=[pk]))

    deleted = LogEntry.objects.get(object_id=str(pk), content_type__model="shippingmethodmap")
    assert deleted.user == user and deleted.action_flag == DELETION
    assert "MINE Express" in deleted.change_message
    assert [e.user for e in entries_of(mine.wms)] == [user]


def test_an_alias_added_edited_and_deleted_is_recorded_each_time_with_the_user(client, user, mine):
    WarehouseSKUListFactory(warehouse=mine.wms, skus=["NEW-WMS", "CSV-WMS"])
    client.post(reverse("portal:alias_create"), {"cart_sku": "NEW-CART", "warehouse_sku": "NEW-WMS", "note": ""})
    alias = SKUAlias.objects.get(merchant=mine.merchant, cart_sku="NEW-CART")
    client.post(reverse("portal:alias_edit", args=[alias.pk]), {**_alias(alias), "note": "for the spring range"})
    client.post(reverse("portal:alias_delete", args=[alias.pk]))

    added, changed, deleted = entries_of(alias)
    assert [e.user for e in (added, changed, deleted)] == [user, user, user]
    assert [e.action_flag for e in (added, changed, deleted)] == [ADDITION, CHANGE, DELETION]
    assert "SKU alias NEW-CART → NEW-WMS added" in added.change_message
    assert "(Note)" in changed.change_message
    assert "deleted" in deleted.change_message


def _alias(alias: SKUAlias) -> dict[str, str]:
    return {"cart_sku": alias.cart_sku, "warehouse_sku": alias.warehouse_sku, "note": alias.note}


def test_an_alias_csv_import_is_recorded_on_the_merchant_with_the_user(client, user, mine):
    WarehouseSKUListFactory(warehouse=mine.wms, skus=["CSV-WMS"])
    upload = SimpleUploadedFile("aliases.csv", b"cart_sku,warehouse_sku\nCSV-CART,CSV-WMS\n", "text/csv")

    client.post(reverse("portal:alias_import"), {"file": upload})

    assert SKUAlias.objects.filter(merchant=mine.merchant, cart_sku="CSV-CART").exists()
    (entry,) = entries_of(mine.merchant)
    assert entry.user == user
    assert "imported from a CSV file" in entry.change_message and "1 added" in entry.change_message


def test_another_merchants_user_sees_none_of_this_connections_history(client, mine, theirs):
    url = reverse("portal:connection_edit", args=["cart", mine.cart.pk])
    client.post(url, {**form_values(client.get(url).content.decode(), FORM), "name": ["Renamed"]})
    other = client_of(merchant_user(theirs.merchant, "their-user"))

    own = other.get(reverse("portal:connection_edit", args=["cart", theirs.cart.pk])).content.decode()

    assert "shopkeeper" not in own and "No changes recorded yet." in own
