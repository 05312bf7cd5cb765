"""The one service behind the order pages' hold fixes: an alias is checked against the warehouse's SKU
list as last read, a stale list is read again in the worker, "released" only of orders that pass, a
ship-to edit validates again, and every action is recorded with the person."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from orders.models import HoldCode, OrderStatus, SKUAlias, WarehouseSKUList
from orders.services.holds_fix import order_alias_add, order_hold_retry, order_ship_to_edit
from tests.factories import UserFactory


def _stale(wired) -> None:
    WarehouseSKUList.objects.filter(warehouse=wired.wms).update(read_at=timezone.now() - timedelta(days=2))


def test_every_sync_keeps_the_warehouses_sku_list_as_read(wired, held_for_sku):
    stored = WarehouseSKUList.objects.get(warehouse=wired.wms)
    assert set(stored.skus) >= {"SKU-1", "SKU-2", "WMS-SKU-9"}
    assert stored.read_at is not None


def test_an_alias_to_an_sku_the_warehouse_does_not_list_is_refused(wired, held_for_sku):
    user = UserFactory()

    result = order_alias_add(order=held_for_sku, cart_sku="TEE-BLK", warehouse_sku="NO-SUCH", user=user)

    assert not result.done
    assert "does not list SKU 'NO-SUCH'" in result.message
    assert "released" not in result.message
    assert not SKUAlias.objects.filter(cart_sku="TEE-BLK").exists()
    held_for_sku.refresh_from_db()
    assert held_for_sku.status == OrderStatus.ERROR


def test_an_alias_to_a_listed_sku_is_saved_releases_the_order_and_records_the_person(wired, held_for_sku):
    user = UserFactory(username="sam")

    result = order_alias_add(order=held_for_sku, cart_sku="TEE-BLK", warehouse_sku="SKU-2", user=user)

    assert result.done and result.level == "success"
    assert "Order #2001 released" in result.message
    assert SKUAlias.objects.get(merchant=wired.merchant, cart_sku="TEE-BLK").warehouse_sku == "SKU-2"
    held_for_sku.refresh_from_db()
    assert (held_for_sku.status, held_for_sku.lines.get().warehouse_sku) == (OrderStatus.NEW, "SKU-2")
    event = held_for_sku.events.get(code="alias_saved")
    assert event.user == user
    assert "by sam" in event.message


def test_a_stale_list_is_read_again_in_the_worker_and_the_answer_says_so(
    wired, held_for_sku, django_capture_on_commit_callbacks
):
    _stale(wired)
    wired.bergen.add_item("TEE-NEW", on_hand=3)  # created at the warehouse after the list was read

    with django_capture_on_commit_callbacks(execute=True) as queued:
        result = order_alias_add(order=held_for_sku, cart_sku="TEE-BLK", warehouse_sku="TEE-NEW", user=None)

    assert not result.done
    assert "a fresh read is queued in the worker" in result.message
    assert len(queued) == 1  # the read, run by the (synchronous, in tests) worker
    stored = WarehouseSKUList.objects.get(warehouse=wired.wms)
    assert "TEE-NEW" in stored.skus and timezone.now() - stored.read_at < timedelta(minutes=1)

    again = order_alias_add(order=held_for_sku, cart_sku="TEE-BLK", warehouse_sku="TEE-NEW", user=None)
    assert again.done, again.message


def test_a_list_never_read_refuses_the_alias_and_queues_a_read(wired, held_for_sku, django_capture_on_commit_callbacks):
    WarehouseSKUList.objects.filter(warehouse=wired.wms).delete()

    with django_capture_on_commit_callbacks(execute=False) as queued:
        result = order_alias_add(order=held_for_sku, cart_sku="TEE-BLK", warehouse_sku="SKU-2", user=None)

    assert not result.done
    assert "never been read" in result.message and "queued in the worker" in result.message
    assert len(queued) == 1
    assert not SKUAlias.objects.exists()


def test_retry_says_released_only_when_the_order_passes(wired, held_for_sku):
    user = UserFactory()

    result = order_hold_retry(order=held_for_sku, user=user)

    assert result.level == "warning"
    assert "still held" in result.message and "TEE-BLK" in result.message
    assert "released" not in result.message
    assert held_for_sku.events.get(code="retry_asked").user == user


def test_retry_releases_once_the_warehouse_lists_the_sku(wired, held_for_sku):
    wired.bergen.add_item("TEE-BLK", on_hand=5)
    WarehouseSKUList.objects.filter(warehouse=wired.wms).update(skus=["SKU-1", "SKU-2", "TEE-BLK"])

    result = order_hold_retry(order=held_for_sku, user=None)

    assert result.level == "success" and "released" in result.message
    held_for_sku.refresh_from_db()
    assert held_for_sku.status == OrderStatus.NEW


def test_editing_the_ship_to_validates_again_and_says_whether_it_will_go(wired, held_for_sku):
    user = UserFactory()
    order_alias_add(order=held_for_sku, cart_sku="TEE-BLK", warehouse_sku="SKU-2", user=user)
    held_for_sku.refresh_from_db()

    broken = order_ship_to_edit(order=held_for_sku, values={"ship_city": ""}, user=user)

    assert broken.done and broken.level == "warning"
    assert "still held" in broken.message and "city" in broken.message
    held_for_sku.refresh_from_db()
    assert (held_for_sku.status, held_for_sku.hold_code) == (OrderStatus.ERROR, HoldCode.MISSING_ADDRESS)

    fixed = order_ship_to_edit(order=held_for_sku, values={"ship_city": "Hoboken"}, user=user)

    assert fixed.level == "success" and "released" in fixed.message
    held_for_sku.refresh_from_db()
    assert (held_for_sku.status, held_for_sku.ship_city) == (OrderStatus.NEW, "Hoboken")
    edits = held_for_sku.events.filter(code="ship_to_edited").order_by("pk")
    assert [e.user for e in edits] == [user, user]
    assert "city '' → 'Hoboken'" in edits.last().message


def test_the_ship_to_of_a_sent_order_is_not_edited(wired):
    from tests.admin_helpers import import_order

    order = import_order(wired, "2003", sku="SKU-1")
    order.status = OrderStatus.AT_WMS
    order.save()

    result = order_ship_to_edit(order=order, values={"ship_city": "Elsewhere"}, user=None)

    assert not result.done and "the warehouse has it already" in result.message
    order.refresh_from_db()
    assert order.ship_city != "Elsewhere"
