"""The drain task drains other connections' waiting notifications alongside its own, in threads of its own
(`sync.webhooks.pump`): the orders reach the warehouse once each, counted at the warehouse sandbox."""

from __future__ import annotations

import threading

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from orders.models import Order, SyncRun
from orders.services.records.locks import lock_key, sync_lock_acquire, sync_lock_release
from sync.models import WebhookNotification
from sync.webhooks import pump
from sync.webhooks.drain import inbox_drain
from sync.webhooks.pump import connections_waiting, inbox_drain_pump
from tests.conftest import wire_to_sandboxes

LINE = [{"sku": "SKU-1", "quantity": 1, "price": "10.00", "name": "Widget"}]
MERCHANTS = 3


@pytest.fixture
def fleet(shared_database, squarespace_sandbox, bergen_sandbox, settings):
    """Three merchants on one Squarespace sandbox and one Bergen account, each with a notification waiting
    for its own order (as the endpoint stores them); committed, in a database every thread opens on its own."""
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    settings.WEBHOOK_DRAIN_THREADS = MERCHANTS
    bergen_sandbox.add_item("SKU-1", on_hand=50)
    carts = []
    for n in range(MERCHANTS):
        cart, _wms = wire_to_sandboxes(squarespace_sandbox, bergen_sandbox)
        order = squarespace_sandbox.add_order(order_number=f"88{n}", lines=LINE)
        WebhookNotification.objects.create(
            platform="squarespace",
            cart_connection=cart,
            topic="order.create",
            cart_order_id=order["id"],
            event_at=timezone.now(),
        )
        carts.append(cart)
    return carts


def test_one_task_drains_every_waiting_connection_at_once_and_each_order_arrives_once(
    fleet, bergen_sandbox, monkeypatch
):
    # Each drain waits at the barrier until all three run: drained one after another, they would time out.
    barrier = threading.Barrier(MERCHANTS, timeout=20)
    threads_seen: set[str] = set()

    def drain_together(*, connection_id: int) -> str:
        threads_seen.add(threading.current_thread().name)
        barrier.wait()
        return inbox_drain(connection_id=connection_id)

    monkeypatch.setattr(pump, "inbox_drain", drain_together)

    summary = inbox_drain_pump(connection_id=fleet[0].pk)

    assert summary.startswith(f"{MERCHANTS} connection(s) drained")
    assert "failed" not in summary
    assert len(threads_seen) == MERCHANTS and threading.current_thread().name not in threads_seen
    assert set(WebhookNotification.objects.values_list("outcome", flat=True)) == {"imported"}
    assert Order.objects.filter(status="at_wms").count() == MERCHANTS
    references = [order["referenceNum"] for order in bergen_sandbox.orders]
    assert sorted(references) == sorted(set(references)) and len(references) == MERCHANTS  # once each
    assert db_connection.connection is None or db_connection.is_usable()  # the task's own connection intact


def test_a_connection_is_drained_at_most_once_per_pump_and_a_failure_leaves_its_notifications(fleet, monkeypatch):
    calls: list[int] = []

    def drain_or_fail(*, connection_id: int) -> str:
        calls.append(connection_id)
        if connection_id == fleet[1].pk:
            raise RuntimeError("the cart is down")
        return inbox_drain(connection_id=connection_id)

    monkeypatch.setattr(pump, "inbox_drain", drain_or_fail)

    summary = inbox_drain_pump(connection_id=fleet[0].pk)

    assert sorted(calls) == sorted(cart.pk for cart in fleet)  # the failing one was not retried within the pump
    assert f"cart connection {fleet[1].pk}: drain failed (RuntimeError)" in summary
    assert connections_waiting(exclude=set(), limit=10) == [fleet[1].pk]  # its notification waits
    assert WebhookNotification.objects.filter(outcome="imported").count() == MERCHANTS - 1


def test_with_one_thread_the_task_drains_its_own_connection_only(fleet, settings):
    settings.WEBHOOK_DRAIN_THREADS = 1

    inbox_drain_pump(connection_id=fleet[2].pk)

    waiting = connections_waiting(exclude=set(), limit=10)
    assert sorted(waiting) == sorted([fleet[0].pk, fleet[1].pk])
    assert connections_waiting(exclude={fleet[0].pk}, limit=10) == [fleet[1].pk]


def test_a_task_whose_connection_was_drained_already_ends_without_draining_others(fleet, monkeypatch):
    calls: list[int] = []
    monkeypatch.setattr(pump, "inbox_drain", lambda *, connection_id: calls.append(connection_id) or "drained")
    WebhookNotification.objects.filter(cart_connection=fleet[0]).update(handled_at=timezone.now(), outcome="imported")

    summary = inbox_drain_pump(connection_id=fleet[0].pk)

    assert "no notification waiting" in summary and calls == []
    assert len(connections_waiting(exclude=set(), limit=10)) == MERCHANTS - 1  # left to their own tasks


def test_while_every_pump_runs_a_task_drains_its_own_connection_only(fleet, settings):
    settings.WEBHOOK_DRAIN_PUMPS = 1
    token = sync_lock_acquire(key=f"{pump.PUMP_LOCK_PREFIX}0")  # another worker's pump

    summary = inbox_drain_pump(connection_id=fleet[0].pk)

    assert "drained in" not in summary
    assert sorted(connections_waiting(exclude=set(), limit=10)) == sorted([fleet[1].pk, fleet[2].pk])
    sync_lock_release(key=f"{pump.PUMP_LOCK_PREFIX}0", token=token)
    assert inbox_drain_pump(connection_id=fleet[1].pk).startswith("2 connection(s) drained")
    assert connections_waiting(exclude=set(), limit=10) == []


def test_a_connection_whose_orders_run_is_running_is_not_taken_by_a_pump(fleet):
    key = lock_key(SyncRun.Kind.ORDERS, fleet[1])
    token = sync_lock_acquire(key=key)  # a polling run, or another pump's drain, of that connection

    assert sorted(connections_waiting(exclude=set(), limit=10)) == sorted([fleet[0].pk, fleet[2].pk])
    sync_lock_release(key=key, token=token)
    assert len(connections_waiting(exclude=set(), limit=10)) == MERCHANTS
