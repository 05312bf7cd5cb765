"""The issues list: one open problem per object and reason, counted up when seen again, resolved by a
later success; the admin's retry, resolve and ignore actions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from orders.models import HoldCode, Order, OrderStatus, Problem, ShippingMethodMap, SKUAlias, SyncRun
from orders.services.delivery.holds import orders_retry, shipping_mapping_saved, sku_alias_saved
from orders.services.records.problems import connection_problem, problem_raise
from tests.admin_helpers import import_order, messages_of
from tests.orders.helpers import ORDERS_PATH, seed, sync

CHANGELIST = "admin:orders_problem_changelist"


def act(admin_client, action: str, problems) -> list[tuple[str, str]]:
    response = admin_client.post(
        reverse(CHANGELIST), {"action": action, "_selected_action": [p.pk for p in problems]}, follow=True
    )
    assert response.status_code == 200
    return messages_of(response)


@pytest.fixture
def held(wired) -> Order:
    order = import_order(wired, "2001", sku="TEE-BLK")
    assert (order.status, order.hold_code) == (OrderStatus.ERROR, HoldCode.UNKNOWN_SKU)
    return order


def test_a_held_order_raises_one_open_problem(held):
    problem = Problem.objects.get()

    assert problem.status == Problem.Status.OPEN
    assert (problem.order, problem.reason_code, problem.count) == (held, "unknown_sku", 1)
    assert problem.key == f"order:{held.pk}:unknown_sku"
    assert (problem.merchant_id, problem.cart_connection_id, problem.warehouse_id) == (
        held.merchant_id,
        held.cart_connection_id,
        held.warehouse_id,
    )
    assert "#2001" in problem.message and "TEE-BLK" in problem.message


def test_a_held_order_seen_again_counts_up_instead_of_adding_a_row(held):
    orders_retry(order_ids=[held.pk])  # re-checked: still held for the same reason

    problem = Problem.objects.get()
    assert problem.status == Problem.Status.OPEN
    assert problem.count == 2
    assert problem.last_seen_at > problem.first_seen_at


def test_raising_the_same_key_again_counts_up(db, held):
    problem = Problem.objects.get()

    for _ in range(2):
        problem_raise(key=problem.key, merchant_id=held.merchant_id, reason_code="unknown_sku", message="again")

    problem.refresh_from_db()
    assert Problem.objects.count() == 1
    assert (problem.count, problem.message) == (3, "again")


def test_releasing_the_order_resolves_its_problem_and_delivery_keeps_it_resolved(wired, held):
    alias = SKUAlias.objects.create(merchant=wired.merchant, cart_sku="TEE-BLK", warehouse_sku="SKU-1")

    assert sku_alias_saved(alias=alias)["released"] == 1

    problem = Problem.objects.get()
    assert problem.status == Problem.Status.RESOLVED and problem.resolved_at is not None
    sync(wired.cart)
    held.refresh_from_db()
    assert held.status == OrderStatus.AT_WMS
    assert not Problem.objects.filter(status=Problem.Status.OPEN).exists()


def test_a_new_hold_after_a_resolved_one_is_a_new_open_problem(wired, held):
    Problem.objects.update(status=Problem.Status.RESOLVED)

    Order.objects.filter(pk=held.pk).update(status=OrderStatus.NEW)
    held.refresh_from_db()
    orders_retry(order_ids=[held.pk])

    assert Problem.objects.filter(status=Problem.Status.OPEN).count() == 1
    assert Problem.objects.count() == 2


def test_the_retry_action_rechecks_and_sends_a_held_order(admin_client, wired, held):
    SKUAlias.objects.create(merchant=wired.merchant, cart_sku="TEE-BLK", warehouse_sku="SKU-1")

    messages = act(admin_client, "retry_problems", Problem.objects.all())

    [(level, text)] = messages
    assert level == "success"
    assert text.startswith("1 released, 0 still held as checked here; 1 queued to send in the worker. #2001 at")
    assert "Send now: delivered 1 of 1." in text
    held.refresh_from_db()
    assert held.status == OrderStatus.AT_WMS
    assert Problem.objects.get().status == Problem.Status.RESOLVED


def test_the_retry_action_on_a_connection_problem_runs_its_sync_now(
    admin_client, wired, settings, django_capture_on_commit_callbacks
):
    settings.HTTP_MAX_RETRIES = 0
    wired.squarespace.fail_next(status=401, path_contains=ORDERS_PATH)
    seed(wired.squarespace, "3001")
    sync(wired.cart)
    problem = Problem.objects.get(reason_code="needs_person")
    assert wired.cart.blocked_reason

    with django_capture_on_commit_callbacks(execute=True):
        messages = act(admin_client, "retry_problems", [problem])

    assert len(messages) == 1 and messages[0][1].startswith(f"Queued: orders sync of {wired.cart}")
    problem.refresh_from_db()
    wired.cart.refresh_from_db()
    assert problem.status == Problem.Status.RESOLVED, "the run succeeded (Q_CLUSTER sync runs it inline)"
    assert wired.cart.blocked_reason == ""
    assert Order.objects.filter(order_number="3001").exists()


def test_the_resolve_and_ignore_actions_close_open_problems(admin_client, wired):
    seed(wired.squarespace, "2002", shipping_method="Express")
    held = import_order(wired, "2001", sku="TEE-BLK")
    [for_sku] = Problem.objects.filter(order=held)
    [for_shipping] = Problem.objects.filter(order__order_number="2002")

    assert act(admin_client, "resolve_problems", [for_sku]) == [("info", "1 problem(s) resolved.")]
    assert act(admin_client, "ignore_problems", [for_shipping, for_sku]) == [("info", "1 problem(s) ignored.")]

    for_sku.refresh_from_db()
    for_shipping.refresh_from_db()
    assert (for_sku.status, for_shipping.status) == (Problem.Status.RESOLVED, Problem.Status.IGNORED)
    assert for_sku.resolved_at and for_shipping.resolved_at


def test_the_problem_list_shows_what_it_is_about_and_finds_an_order(admin_client, held):
    response = admin_client.get(reverse(CHANGELIST), {"q": "2001", "status__exact": "open"})

    assert response.status_code == 200
    assert response.context["cl"].result_count == 1
    page = response.content.decode()
    assert reverse("admin:orders_order_change", args=[held.pk]) in page
    assert "order #2001" in page


def test_an_order_still_held_for_another_reason_has_its_problem_renamed(wired):
    seed(
        wired.squarespace,
        "2003",
        lines=[{"sku": "TEE-BLK", "quantity": 1, "price": "10.00", "name": "Item"}],
        shipping_method="Express",
    )
    sync(wired.cart)
    order = Order.objects.get(order_number="2003")
    assert Problem.objects.get(status=Problem.Status.OPEN).reason_code == order.hold_code == HoldCode.UNMAPPED_SHIPPING

    ShippingMethodMap.objects.create(warehouse=wired.wms, cart_method="Express", ship_code="UPS:2DAY")
    assert shipping_mapping_saved(warehouse_id=wired.wms.pk, cart_method="Express")["still_held"] == 1

    [problem] = Problem.objects.filter(status=Problem.Status.OPEN)
    assert problem.reason_code == HoldCode.UNKNOWN_SKU
    assert "TEE-BLK" in problem.message
    assert Problem.objects.get(reason_code=HoldCode.UNMAPPED_SHIPPING).status == Problem.Status.RESOLVED


def test_retrying_two_problems_of_one_connection_runs_its_sync_once(
    admin_client, wired, django_capture_on_commit_callbacks
):
    connection_problem(
        connection=wired.cart, reason_code="heartbeat", message="no successful orders sync for 3.0 hours"
    )
    connection_problem(connection=wired.cart, reason_code="failing", message="failed 3 times in a row")

    with django_capture_on_commit_callbacks(execute=True):
        [(_, text)] = act(admin_client, "retry_problems", Problem.objects.all())

    assert text == f"Queued: orders sync of {wired.cart}. Each run's result shows under Sync runs."
    assert SyncRun.objects.filter(kind="orders").count() == 1
    assert not Problem.objects.filter(status=Problem.Status.OPEN).exists()


def test_retrying_a_warehouse_problem_runs_the_sync_that_failed_for_its_carts(
    admin_client, wired, django_capture_on_commit_callbacks
):
    SyncRun.objects.create(
        kind="shipments", merchant=wired.merchant, warehouse=wired.wms, status="failed", error="Warehouse: 503"
    )
    connection_problem(connection=wired.wms, reason_code="failing", message="failed 3 times in a row")

    with django_capture_on_commit_callbacks(execute=True):
        [(_, text)] = act(admin_client, "retry_problems", Problem.objects.all())

    assert text.startswith(f"Queued: shipments sync of {wired.cart}.")
    assert SyncRun.objects.filter(kind="shipments", warehouse=wired.wms, status="succeeded").exists()
    assert Problem.objects.get().status == Problem.Status.RESOLVED


def test_a_mapping_saved_checks_held_orders_against_the_stored_sku_list_without_calling_the_warehouse(wired):
    seed(
        wired.squarespace,
        "2004",
        lines=[{"sku": "TEE-BLK", "quantity": 1, "price": "10.00", "name": "Item"}],
        shipping_method="Express",
    )
    sync(wired.cart)  # reads (and stores) the warehouse's SKU list, without TEE-BLK
    wired.bergen.reset()

    ShippingMethodMap.objects.create(warehouse=wired.wms, cart_method="Express", ship_code="UPS:2DAY")
    counts = shipping_mapping_saved(warehouse_id=wired.wms.pk, cart_method="Express")

    assert counts["still_held"] == 1, "still held: the stored list does not have the SKU"
    assert Order.objects.get(order_number="2004").hold_code == HoldCode.UNKNOWN_SKU
    assert wired.bergen.requests == [], "a person's save is a request: the warehouse is not called"
