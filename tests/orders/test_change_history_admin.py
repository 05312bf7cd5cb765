"""Who did what in the admin: connection edits, mapping and alias saves, and holds released by hand
are recorded with the staff user (Django's History of the object, the order's history) and never
with a secret."""

from __future__ import annotations

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.urls import reverse

from orders.models import OrderStatus, ShippingMethodMap, SKUAlias
from tests.admin_helpers import form_values
from tests.factories import SKUAliasFactory, WarehouseSKUListFactory

SECRET = "bergen-password-never-logged-77"


def entries_of(obj) -> list[LogEntry]:
    model = obj._meta.model_name
    return list(LogEntry.objects.filter(object_id=str(obj.pk), content_type__model=model).order_by("pk"))


def test_a_connection_edit_in_the_admin_names_the_user_and_the_fields_not_the_secret(admin_client, admin_user, wired):
    url = reverse("admin:integrations_wmsconnection_change", args=[wired.wms.pk])
    data = form_values(admin_client.get(url).content.decode(), "wmsconnection_form")
    data.update(credential__bergen__password=[SECRET], orders_every_minutes=["15"], name=["Renamed in the admin"])

    assert admin_client.post(url, data).status_code == 302

    (entry,) = entries_of(wired.wms)
    assert entry.user == admin_user and entry.action_flag == CHANGE
    message = entry.get_change_message()
    assert "Name" in message and "Password" in message
    assert all(SECRET not in e.change_message for e in LogEntry.objects.all())
    assert (
        SECRET
        not in admin_client.get(
            reverse("admin:integrations_wmsconnection_history", args=[wired.wms.pk])
        ).content.decode()
    )


def test_a_shipping_mapping_saved_in_the_admin_is_on_its_history_its_warehouses_and_the_orders(
    admin_client, admin_user, wired, held_for_shipping
):
    url = reverse("admin:orders_shippingmethodmap_add")
    data = form_values(admin_client.get(url).content.decode(), "shippingmethodmap_form")
    data.update(warehouse=[str(wired.wms.pk)], cart_method=["Express"], ship_code=["FEDEX:2Day"])

    admin_client.post(url, data)

    mapping = ShippingMethodMap.objects.get(warehouse=wired.wms, cart_method="Express")
    assert [(e.user, e.action_flag) for e in entries_of(mapping)] == [(admin_user, ADDITION)]
    (on_warehouse,) = entries_of(wired.wms)
    assert on_warehouse.user == admin_user
    assert on_warehouse.change_message == "Added in the admin: shipping method 'Express' mapped to 'FEDEX:2Day'"
    event = held_for_shipping.events.get(code="mapping_saved")
    assert event.user == admin_user and "by admin in the admin" in event.message
    held_for_shipping.refresh_from_db()
    assert held_for_shipping.status == OrderStatus.NEW


def test_a_shipping_mapping_deleted_in_the_admin_is_on_its_warehouses_history(admin_client, admin_user, wired):
    mapping = wired.wms.shipping_methods.get()
    url = reverse("admin:orders_shippingmethodmap_delete", args=[mapping.pk])

    admin_client.post(url, {"post": "yes"})

    assert not ShippingMethodMap.objects.filter(pk=mapping.pk).exists()
    assert [(e.user, e.action_flag) for e in entries_of(mapping)] == [(admin_user, DELETION)]
    (on_warehouse,) = entries_of(wired.wms)
    assert on_warehouse.user == admin_user and on_warehouse.change_message.startswith("Deleted in the admin:")


def test_a_mapping_in_the_warehouse_inline_names_the_user_on_the_orders_it_checks(
    admin_client, admin_user, wired, held_for_shipping
):
    url = reverse("admin:integrations_wmsconnection_change", args=[wired.wms.pk])
    data = form_values(admin_client.get(url).content.decode(), "wmsconnection_form")
    row = data["shipping_methods-INITIAL_FORMS"][0]
    data[f"shipping_methods-{row}-cart_method"] = ["Express"]
    data[f"shipping_methods-{row}-ship_code"] = ["FEDEX:2Day"]

    admin_client.post(url, data)

    (entry,) = entries_of(wired.wms)
    assert entry.user == admin_user and "Express" in entry.get_change_message()
    events = held_for_shipping.events.filter(code="mapping_saved")
    assert {e.user for e in events} == {admin_user}
    assert any("'Express' mapped to 'FEDEX:2Day' by admin in the admin" in e.message for e in events)


def test_an_alias_saved_and_deleted_in_the_admin_is_recorded_with_the_user(admin_client, admin_user, wired):
    WarehouseSKUListFactory(warehouse=wired.wms, skus=["SKU-2"])
    url = reverse("admin:orders_skualias_add")
    data = form_values(admin_client.get(url).content.decode(), "skualias_form")
    data.update(merchant=[str(wired.merchant.pk)], cart_sku=["TEE-BLK"], warehouse_sku=["SKU-2"])
    admin_client.post(url, data)
    alias = SKUAlias.objects.get(merchant=wired.merchant, cart_sku="TEE-BLK")

    admin_client.post(reverse("admin:orders_skualias_delete", args=[alias.pk]), {"post": "yes"})

    assert [(e.user, e.action_flag) for e in entries_of(alias)] == [(admin_user, ADDITION), (admin_user, DELETION)]


def test_retry_on_the_admin_order_page_and_list_names_the_user(admin_client, admin_user, wired, held_for_sku):
    SKUAliasFactory(merchant=wired.merchant, cart_sku="TEE-BLK", warehouse_sku="SKU-2")

    admin_client.post(reverse("admin:orders_order_hold", args=[held_for_sku.pk, "retry"]))
    admin_client.post(
        reverse("admin:orders_order_changelist"), {"action": "retry_orders", "_selected_action": [held_for_sku.pk]}
    )

    asked = list(held_for_sku.events.filter(code="retry_asked"))
    assert len(asked) == 2 and {e.user for e in asked} == {admin_user}
    held_for_sku.refresh_from_db()
    assert held_for_sku.status != OrderStatus.ERROR
