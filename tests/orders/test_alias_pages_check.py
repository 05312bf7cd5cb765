"""The admin's own SKU alias pages (the add/change form and the CSV import) check the warehouse SKU
like the order pages: against the SKU list as last read, refused with the reason, a stale or
never-read list read again in the worker, "released" said only of orders that will go, and the
person on the released orders' history."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from orders.models import Order, OrderStatus, SKUAlias, WarehouseSKUList
from sync.cycle import cart_connection_sync_orders
from tests.admin_helpers import form_values, messages_of
from tests.factories import MerchantFactory

ADD = "admin:orders_skualias_add"


def _post_alias(admin_client, merchant, cart_sku: str, warehouse_sku: str, *, follow: bool = False):
    url = reverse(ADD)
    data = form_values(admin_client.get(url).content.decode(), "skualias_form")
    data.update(merchant=[str(merchant.pk)], cart_sku=[cart_sku], warehouse_sku=[warehouse_sku])
    return admin_client.post(url, data, follow=follow)


def _import(admin_client, merchant, text: str):
    upload = SimpleUploadedFile("aliases.csv", text.encode(), content_type="text/csv")
    return admin_client.post(reverse("admin:orders_skualias_import"), {"merchant": merchant.pk, "file": upload})


def test_a_warehouse_sku_the_warehouse_does_not_list_is_refused_on_the_form(admin_client, wired, held_for_sku):
    response = _post_alias(admin_client, wired.merchant, "TEE-BLK", "NO-SUCH")

    assert response.status_code == 200
    [error] = response.context["adminform"].form.errors["warehouse_sku"]
    assert "does not list SKU 'NO-SUCH'" in error and "3 SKUs" in error
    assert not SKUAlias.objects.exists()
    held_for_sku.refresh_from_db()
    assert held_for_sku.status == OrderStatus.ERROR


def test_a_list_never_read_refuses_and_queues_a_read(admin_client, wired, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = _post_alias(admin_client, wired.merchant, "TEE-BLK", "SKU-2")

    [error] = response.context["adminform"].form.errors["warehouse_sku"]
    assert "never been read" in error and "queued in the worker" in error
    assert len(queued) == 1
    assert not SKUAlias.objects.exists()


def test_a_stale_list_that_lists_the_sku_saves_and_says_a_read_is_queued(admin_client, wired, held_for_sku):
    WarehouseSKUList.objects.filter(warehouse=wired.wms).update(read_at=timezone.now() - timedelta(days=2))

    response = _post_alias(admin_client, wired.merchant, "TEE-BLK", "SKU-2", follow=True)

    text = " ".join(text for _, text in messages_of(response))
    assert "1 held order(s) released" in text and "a fresh read is queued in the worker" in text
    assert SKUAlias.objects.get().warehouse_sku == "SKU-2"


def test_released_counts_only_orders_that_go_and_the_person_is_on_their_history(admin_client, admin_user, wired):
    for number, skus in (("2001", ["TEE-BLK"]), ("2003", ["TEE-BLK", "MUG-X"])):
        wired.squarespace.add_order(
            order_number=number,
            created_on=timezone.now() - timedelta(hours=1),
            lines=[{"sku": sku, "quantity": 1, "price": "10.00", "name": sku} for sku in skus],
            shipping_method="Standard",
        )
    cart_connection_sync_orders(connection=wired.cart)
    held_for_sku, two_unknown = (
        Order.objects.get(cart_connection=wired.cart, order_number=n) for n in ("2001", "2003")
    )
    assert (held_for_sku.status, two_unknown.status) == (OrderStatus.ERROR, OrderStatus.ERROR)

    response = _post_alias(admin_client, wired.merchant, "TEE-BLK", "SKU-2", follow=True)

    [(level, text)] = [m for m in messages_of(response) if "released" in m[1]]
    assert level == "warning"
    assert "1 held order(s) released" in text and "1 order(s) with these SKUs are still held" in text
    held_for_sku.refresh_from_db()
    two_unknown.refresh_from_db()
    assert (held_for_sku.status, two_unknown.status) == (OrderStatus.NEW, OrderStatus.ERROR)
    for order in (held_for_sku, two_unknown):
        event = order.events.get(code="alias_saved")
        assert event.user == admin_user and "TEE-BLK → SKU-2 added by admin" in event.message


def test_a_merchant_without_a_warehouse_saves_and_is_told_the_sku_was_not_checked(admin_client):
    merchant = MerchantFactory()

    response = _post_alias(admin_client, merchant, "ANY", "ANYTHING", follow=True)

    assert any("was not checked: no warehouse is connected" in text for _, text in messages_of(response))
    assert SKUAlias.objects.get(merchant=merchant).warehouse_sku == "ANYTHING"


def test_a_csv_import_names_each_line_whose_sku_the_warehouse_does_not_list_and_saves_nothing(
    admin_client, wired, held_for_sku
):
    response = _import(admin_client, wired.merchant, "cart_sku,warehouse_sku\nTEE-BLK,SKU-2\nMUG-1,NOPE\n")

    assert response.status_code == 200
    [error] = response.context["errors"]
    assert error.startswith("Line 3: ") and "does not list SKU 'NOPE'" in error
    assert not SKUAlias.objects.exists()
    held_for_sku.refresh_from_db()
    assert held_for_sku.status == OrderStatus.ERROR


def test_a_csv_import_records_the_person_on_the_released_orders_history(admin_client, admin_user, wired, held_for_sku):
    _import(admin_client, wired.merchant, "TEE-BLK,SKU-2\n")

    held_for_sku.refresh_from_db()
    assert held_for_sku.status == OrderStatus.NEW
    event = held_for_sku.events.get(code="alias_saved")
    assert event.user == admin_user and "imported from a file by admin" in event.message
