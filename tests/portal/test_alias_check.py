"""The merchant's own alias pages (add, edit, CSV import) check the warehouse SKU against the SKU
list as last read, like the order pages; the person is on the released orders' history."""

from __future__ import annotations

from datetime import timedelta

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from integrations.models import WMSConnection
from orders.models import OrderStatus, SKUAlias, WarehouseSKUList
from tests.admin_helpers import import_order, messages_of


def test_adding_an_alias_to_an_sku_the_warehouse_does_not_list_is_refused(wired_client, wired):
    held = import_order(wired, "7001", sku="TEE-BLK")

    response = wired_client.post(reverse("portal:alias_create"), {"cart_sku": "TEE-BLK", "warehouse_sku": "NOPE"})

    assert response.status_code == 200
    [error] = response.context["form"].errors["warehouse_sku"]
    assert "does not list SKU 'NOPE'" in error
    assert not SKUAlias.objects.filter(merchant=wired.merchant).exists()
    held.refresh_from_db()
    assert held.status == OrderStatus.ERROR


def test_editing_an_alias_to_an_unlisted_sku_is_refused(wired_client, wired):
    import_order(wired, "7002")  # reads the warehouse's list
    alias = SKUAlias.objects.create(merchant=wired.merchant, cart_sku="TEE", warehouse_sku="SKU-1")

    response = wired_client.post(
        reverse("portal:alias_edit", args=[alias.pk]), {"cart_sku": "TEE", "warehouse_sku": "GONE"}
    )

    [error] = response.context["form"].errors["warehouse_sku"]
    assert "does not list SKU 'GONE'" in error
    alias.refresh_from_db()
    assert alias.warehouse_sku == "SKU-1"


def test_a_never_read_list_refuses_and_queues_a_read(wired_client, wired, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        response = wired_client.post(reverse("portal:alias_create"), {"cart_sku": "TEE", "warehouse_sku": "SKU-1"})

    assert "never been read" in response.content.decode()
    assert len(queued) == 1
    assert WarehouseSKUList.objects.get(warehouse=wired.wms).read_queued_at is not None


def test_saving_records_the_person_on_the_released_orders_history(wired_client, wired):
    held = import_order(wired, "7003", sku="TEE-BLK")
    WarehouseSKUList.objects.filter(warehouse=wired.wms).update(read_at=timezone.now() - timedelta(days=2))

    response = wired_client.post(
        reverse("portal:alias_create"), {"cart_sku": "TEE-BLK", "warehouse_sku": "SKU-2"}, follow=True
    )

    [(_, text)] = [m for m in messages_of(response) if "saved" in m[1]]
    assert "1 held order(s) released" in text and "a fresh read is queued in the worker" in text
    event = held.events.get(code="alias_saved")
    assert event.user.username == "wired-shopkeeper" and "by wired-shopkeeper" in event.message


def test_without_a_warehouse_the_alias_is_saved_and_the_page_says_it_was_not_checked(wired_client, wired):
    WMSConnection.objects.filter(pk=wired.wms.pk).update(active=False)

    response = wired_client.post(
        reverse("portal:alias_create"), {"cart_sku": "TEE", "warehouse_sku": "ANYTHING"}, follow=True
    )

    assert any("not checked: no warehouse is connected" in text for _, text in messages_of(response))
    assert SKUAlias.objects.get(merchant=wired.merchant).warehouse_sku == "ANYTHING"


def test_a_csv_import_names_the_lines_whose_sku_the_warehouse_does_not_list(wired_client, wired):
    held = import_order(wired, "7004", sku="TEE-BLK")
    upload = SimpleUploadedFile("a.csv", b"TEE-BLK,SKU-2\nMUG,NOPE\nCUP,NOPE\n", content_type="text/csv")

    response = wired_client.post(reverse("portal:alias_import"), {"file": upload})

    assert response.status_code == 200
    errors = response.context["errors"]
    assert [e.split(":")[0] for e in errors] == ["Line 2", "Line 3"]
    assert all("does not list SKU 'NOPE'" in e for e in errors)
    assert not SKUAlias.objects.filter(merchant=wired.merchant).exists()
    held.refresh_from_db()
    assert held.status == OrderStatus.ERROR
