"""Fixing a held order's cause in the admin releases it; Retry sends it at once."""

from __future__ import annotations

from django.urls import reverse

from orders.models import HoldCode, OrderEvent, OrderStatus
from tests.admin_helpers import form_values, messages_of
from tests.factories import WarehouseSKUListFactory


def _released_events(order) -> list[OrderEvent]:
    return list(order.events.filter(code="released", from_status=OrderStatus.ERROR, to_status=OrderStatus.NEW))


def test_saving_a_sku_alias_releases_the_orders_held_for_that_sku(admin_client, wired, held_for_sku):
    url = reverse("admin:orders_skualias_add")
    data = form_values(admin_client.get(url).content.decode(), "skualias_form")
    data.update(merchant=[str(wired.merchant.pk)], cart_sku=["TEE-BLK"], warehouse_sku=["SKU-2"])

    response = admin_client.post(url, data, follow=True)

    assert response.status_code == 200
    assert any(level == "success" and "1 held order(s) released" in text for level, text in messages_of(response))
    held_for_sku.refresh_from_db()
    assert held_for_sku.status == OrderStatus.NEW
    assert held_for_sku.hold_code == ""
    assert held_for_sku.lines.get().warehouse_sku == "SKU-2"
    [event] = _released_events(held_for_sku)
    assert "TEE-BLK" in event.message


def test_an_alias_for_another_sku_releases_nothing(admin_client, wired, held_for_sku):
    url = reverse("admin:orders_skualias_add")
    data = form_values(admin_client.get(url).content.decode(), "skualias_form")
    data.update(merchant=[str(wired.merchant.pk)], cart_sku=["OTHER-SKU"], warehouse_sku=["SKU-2"])

    response = admin_client.post(url, data, follow=True)

    assert not any("released" in text for _, text in messages_of(response))
    held_for_sku.refresh_from_db()
    assert held_for_sku.status == OrderStatus.ERROR


def test_retry_delivers_a_held_order_once_its_cause_is_fixed(admin_client, wired, held_for_sku):
    wired.bergen.add_item("TEE-BLK", on_hand=5)  # the warehouse now stocks the SKU

    response = admin_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "retry_orders", "_selected_action": [held_for_sku.pk]},
        follow=True,
    )

    [(level, text)] = messages_of(response)
    assert level == "success"
    # Checked in the request against the list as last read, sent by the worker (inline here) after a fresh read.
    assert text.startswith("0 released, 1 still held as checked here; 1 queued for the worker, which checks")
    assert "Send now: delivered 1 of 1." in text
    held_for_sku.refresh_from_db()
    assert held_for_sku.status == OrderStatus.AT_WMS
    received = wired.bergen.order(held_for_sku.cust_ref)
    assert [item["itemIdentifier"]["sku"] for item in received["orderItems"]] == ["TEE-BLK"]
    assert len(wired.bergen.orders) == 1
    assert held_for_sku.events.filter(code="delivered").count() == 1


def test_retry_keeps_an_order_held_while_its_cause_is_not_fixed(admin_client, wired, held_for_sku):
    response = admin_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "retry_orders", "_selected_action": [held_for_sku.pk]},
        follow=True,
    )

    [(level, text)] = messages_of(response)
    assert level == "warning"
    assert "1 still held" in text
    held_for_sku.refresh_from_db()
    assert (held_for_sku.status, held_for_sku.hold_code) == (OrderStatus.ERROR, HoldCode.UNKNOWN_SKU)
    assert wired.bergen.orders == []


def test_a_mapping_added_in_the_warehouse_connections_inline_releases_held_orders(
    admin_client, wired, held_for_shipping
):
    url = reverse("admin:integrations_wmsconnection_change", args=[wired.wms.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    data = form_values(page.content.decode(), "wmsconnection_form")
    row = data["shipping_methods-INITIAL_FORMS"][0]  # the first empty inline row
    data[f"shipping_methods-{row}-cart_method"] = ["Express"]
    data[f"shipping_methods-{row}-ship_code"] = ["FEDEX:2Day"]

    response = admin_client.post(url, data, follow=True)

    errors = response.context["adminform"].form.errors if "adminform" in response.context else None
    assert response.redirect_chain, f"the change form did not save: {errors}"
    assert any("1 held order(s) released" in text for _, text in messages_of(response))
    held_for_shipping.refresh_from_db()
    assert held_for_shipping.status == OrderStatus.NEW
    assert held_for_shipping.ship_code == "FEDEX:2Day"
    assert len(_released_events(held_for_shipping)) == 1
    assert wired.wms.shipping_methods.filter(cart_method="Express").exists()


def test_a_mapping_added_in_the_shipping_method_admin_releases_held_orders(admin_client, wired, held_for_shipping):
    url = reverse("admin:orders_shippingmethodmap_add")
    data = form_values(admin_client.get(url).content.decode(), "shippingmethodmap_form")
    data.update(warehouse=[str(wired.wms.pk)], cart_method=["express"], ship_code=["FEDEX:2Day"])  # any case

    response = admin_client.post(url, data, follow=True)

    assert any(level == "success" and "1 held order(s) released" in text for level, text in messages_of(response))
    held_for_shipping.refresh_from_db()
    assert held_for_shipping.status == OrderStatus.NEW
    assert held_for_shipping.ship_code == "FEDEX:2Day"
    assert len(_released_events(held_for_shipping)) == 1


def test_a_second_mapping_for_the_same_method_in_any_case_is_refused_on_the_form(admin_client, wired):
    url = reverse("admin:orders_shippingmethodmap_add")
    data = form_values(admin_client.get(url).content.decode(), "shippingmethodmap_form")
    data.update(warehouse=[str(wired.wms.pk)], cart_method=["STANDARD"], ship_code=["FEDEX:Ground"])

    response = admin_client.post(url, data)

    assert response.status_code == 200  # the form again, with the error; not a server error
    assert response.context["adminform"].form.non_field_errors()
    assert wired.wms.shipping_methods.count() == 1


def test_a_second_alias_for_the_same_cart_sku_is_refused_on_the_form(admin_client, wired):
    WarehouseSKUListFactory(warehouse=wired.wms, skus=["SKU-1", "SKU-2"])
    url = reverse("admin:orders_skualias_add")
    for warehouse_sku in ("SKU-1", "SKU-2"):
        data = form_values(admin_client.get(url).content.decode(), "skualias_form")
        data.update(merchant=[str(wired.merchant.pk)], cart_sku=["TEE-BLK"], warehouse_sku=[warehouse_sku])
        response = admin_client.post(url, data)

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert wired.merchant.sku_aliases.get().warehouse_sku == "SKU-1"
