"""The admin's order page acts on its hold through the hold service: alias picked from the warehouse's
SKU list, retry, send now, ship-to; the list's Retry names each order's reason."""

from __future__ import annotations

import html

from django.contrib.auth.models import Permission
from django.urls import reverse

from orders.models import OrderStatus, SKUAlias
from tests.admin_helpers import form_values, messages_of
from tests.factories import UserFactory


def _page(order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


def _hold(order, action: str) -> str:
    return reverse("admin:orders_order_hold", args=[order.pk, action])


def test_the_page_offers_the_alias_prefilled_with_the_sku_and_the_warehouses_list(admin_client, wired, held_for_sku):
    html = admin_client.get(_page(held_for_sku)).content.decode()

    assert 'id="hold-panel"' in html
    assert form_values(html, "alias-form-1")["cart_sku"] == ["TEE-BLK"]
    assert '<option value="SKU-2">' in html
    assert "Retry (check again)" in html and "Send now" in html
    assert "read" in html and "ago" in html  # when the list was read


def test_an_unknown_warehouse_sku_is_refused_on_the_admin_page(admin_client, wired, held_for_sku):
    response = admin_client.post(
        _hold(held_for_sku, "alias"), {"cart_sku": "TEE-BLK", "warehouse_sku": "NOPE"}, follow=True
    )

    [(level, text)] = messages_of(response)
    assert level == "error" and "does not list SKU 'NOPE'" in text
    assert not SKUAlias.objects.exists()


def test_an_alias_from_the_admin_page_releases_and_records_the_staff_user(
    admin_client, admin_user, wired, held_for_sku
):
    response = admin_client.post(
        _hold(held_for_sku, "alias"), {"cart_sku": "TEE-BLK", "warehouse_sku": "SKU-2"}, follow=True
    )

    [(level, text)] = messages_of(response)
    assert level == "success" and "Order #2001 released" in text
    assert held_for_sku.events.get(code="alias_saved").user == admin_user


def test_send_now_from_the_admin_page_queues_and_says_so(
    admin_client, wired, held_for_sku, django_capture_on_commit_callbacks
):
    admin_client.post(_hold(held_for_sku, "alias"), {"cart_sku": "TEE-BLK", "warehouse_sku": "SKU-2"}, follow=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(_hold(held_for_sku, "send"), follow=True)

    [(level, text)] = messages_of(response)
    assert level == "success" and text == "Send now: delivered 1 of 1."  # the job's summary (run inline)
    held_for_sku.refresh_from_db()
    assert held_for_sku.status == OrderStatus.AT_WMS  # the worker (synchronous in tests) sent it


def test_ship_to_edit_from_the_admin_page(admin_client, admin_user, wired, held_for_sku):
    data = form_values(admin_client.get(_page(held_for_sku)).content.decode(), "ship-to-form")
    data["ship_city"] = ["Jersey City"]

    response = admin_client.post(_hold(held_for_sku, "ship-to"), data, follow=True)

    [(level, text)] = messages_of(response)
    assert text.startswith("Ship-to saved. Order #2001 is still held")  # its SKU is still unknown
    held_for_sku.refresh_from_db()
    assert held_for_sku.ship_city == "Jersey City"
    assert held_for_sku.events.get(code="ship_to_edited").user == admin_user


def test_a_staff_user_without_change_permission_changes_nothing(client, wired, held_for_sku):
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(viewer)

    response = client.post(_hold(held_for_sku, "alias"), {"cart_sku": "TEE-BLK", "warehouse_sku": "SKU-2"}, follow=True)

    assert "not change them" in messages_of(response)[0][1]
    assert not SKUAlias.objects.exists()


def test_the_lists_retry_gives_each_orders_reason(admin_client, wired, held_for_sku):
    response = admin_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "retry_orders", "_selected_action": [held_for_sku.pk]},
        follow=True,
    )

    [(level, text)] = messages_of(response)
    assert "#2001 still held: The warehouse does not know SKU 'TEE-BLK'" in html.unescape(text)
