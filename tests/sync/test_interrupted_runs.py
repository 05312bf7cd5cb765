"""Nothing stays running for ever: a run whose worker died is closed as interrupted, with what it had
recorded, once its lease has run out (by the sweep, or by the next run of the same sync); a run
records its counts and renews its lease as it goes.

A dead worker's run is built here as the worker leaves it (lease taken, row running, counts as last
recorded) and its lease expired through the ORM, as time would expire it. tests/sandbox/test_killed_run.py
does the same with a real process killed mid-run.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from integrations.models import CartConnection, SyncOutcome
from orders.models import SyncLock, SyncRun
from orders.services.records.locks import lock_key, sync_lock_acquire
from orders.services.records.sync_runs import INTERRUPTED_MESSAGE, RunLease, sync_run_start, sync_runs_close_interrupted
from sync.cycle import cart_connection_sync_orders
from sync.return_path import warehouse_sync_shipments
from sync.sweep import sweep
from tests.orders.helpers import ORDERS_PATH, ago, seed, sync


def dead_workers_run(connection, kind: str = SyncRun.Kind.ORDERS, counts: dict | None = None) -> SyncRun:
    """A run as a worker killed mid-run leaves it: its lease taken, the row running, its counts as last recorded."""
    key = lock_key(kind, connection)
    token = sync_lock_acquire(key=key)
    assert token
    side = {"cart_connection": connection} if isinstance(connection, CartConnection) else {"warehouse": connection}
    run = sync_run_start(kind=kind, merchant_id=connection.merchant_id, lease=RunLease(key, token), **side)
    SyncRun.objects.filter(pk=run.pk).update(counts=counts or {})
    return run


def lease_runs_out(run: SyncRun) -> None:
    SyncLock.objects.filter(key=run.lock_key).update(locked_until=timezone.now() - timedelta(seconds=1))


def test_the_sweep_closes_a_run_whose_lease_ran_out_as_interrupted_with_its_counts(wired):
    run = dead_workers_run(wired.cart, counts={"imported": 3, "delivered": 1})
    lease_runs_out(run)

    result = sweep()

    run.refresh_from_db()
    wired.cart.refresh_from_db()
    assert "1 interrupted run(s) closed" in result
    assert run.status == SyncOutcome.INTERRUPTED
    assert run.counts == {"imported": 3, "delivered": 1}
    assert run.finished_at is not None
    assert run.error == INTERRUPTED_MESSAGE
    assert wired.cart.last_sync_status == SyncOutcome.INTERRUPTED
    assert wired.cart.last_sync_message == INTERRUPTED_MESSAGE


def test_a_run_that_still_holds_its_lease_is_left_running(wired):
    run = dead_workers_run(wired.cart)

    assert sync_runs_close_interrupted() == 0

    run.refresh_from_db()
    assert run.status == SyncOutcome.RUNNING


def test_the_next_run_of_the_connection_closes_it(wired):
    seed(wired.squarespace, "1001")
    dead = dead_workers_run(wired.cart, counts={"imported": 1})
    lease_runs_out(dead)

    run = sync(wired.cart)

    dead.refresh_from_db()
    assert dead.status == SyncOutcome.INTERRUPTED and dead.counts == {"imported": 1}
    assert run.status == SyncOutcome.SUCCEEDED and run.counts["delivered"] == 1
    assert wired.cart.last_sync_status == SyncOutcome.SUCCEEDED  # the later run's outcome is the last one


def test_the_next_run_closes_only_its_own_syncs_runs(wired):
    orders_run = dead_workers_run(wired.cart)
    shipments_run = dead_workers_run(wired.wms, kind=SyncRun.Kind.SHIPMENTS)
    lease_runs_out(orders_run)
    lease_runs_out(shipments_run)

    warehouse_sync_shipments(warehouse=wired.wms)

    orders_run.refresh_from_db()
    shipments_run.refresh_from_db()
    assert shipments_run.status == SyncOutcome.INTERRUPTED
    assert orders_run.status == SyncOutcome.RUNNING  # closed by the sweep or its own next run


def test_a_run_whose_lease_another_run_took_over_is_interrupted(wired):
    dead = dead_workers_run(wired.cart)
    lease_runs_out(dead)
    assert sync_lock_acquire(key=dead.lock_key)  # another worker's run holds it now

    assert sync_runs_close_interrupted() == 1

    dead.refresh_from_db()
    assert dead.status == SyncOutcome.INTERRUPTED


def test_a_run_still_running_after_its_lease_was_released_is_interrupted(wired):
    """Its worker gave the lease back without finishing the run (it crashed on the way out)."""
    dead = dead_workers_run(wired.cart)
    SyncLock.objects.filter(key=dead.lock_key).update(owner="", locked_until=None)

    sweep()

    dead.refresh_from_db()
    assert dead.status == SyncOutcome.INTERRUPTED


def test_a_running_run_recorded_without_its_lease_is_closed_once_older_than_any_lease(wired, settings):
    settings.SYNC_LOCK_SECONDS = 900
    old = SyncRun.objects.create(kind=SyncRun.Kind.ORDERS, merchant=wired.merchant, cart_connection=wired.cart)
    young = SyncRun.objects.create(kind=SyncRun.Kind.ORDERS, merchant=wired.merchant, cart_connection=wired.cart)
    SyncRun.objects.filter(pk=old.pk).update(started_at=ago(seconds=901))

    sweep()

    old.refresh_from_db()
    young.refresh_from_db()
    assert old.status == SyncOutcome.INTERRUPTED
    assert young.status == SyncOutcome.RUNNING


def test_a_later_finished_run_stays_the_connections_last_sync(wired):
    dead = dead_workers_run(wired.cart)
    SyncRun.objects.filter(pk=dead.pk).update(started_at=ago(minutes=20))
    lease_runs_out(dead)
    CartConnection.objects.filter(pk=wired.cart.pk).update(
        last_sync_at=ago(minutes=5), last_sync_status=SyncOutcome.SUCCEEDED, last_sync_message="2 imported"
    )

    sweep()

    wired.cart.refresh_from_db()
    assert (wired.cart.last_sync_status, wired.cart.last_sync_message) == (SyncOutcome.SUCCEEDED, "2 imported")


@pytest.mark.django_db(transaction=True)
def test_a_run_records_its_counts_and_renews_its_lease_as_it_goes(wired, settings):
    """The cart's second page is held back: meanwhile the run row shows the first page's counts, and
    its lease was renewed after the run started."""
    settings.SYNC_LOCK_SECONDS = 900
    for number in range(3):
        seed(wired.squarespace, str(1001 + number), created_on=ago(minutes=5, seconds=-number))
    wired.squarespace.page_size = 2
    second_page_asked, let_go = threading.Event(), threading.Event()
    answer = wired.squarespace.before_dispatch

    def slow_second_page(request):
        if ORDERS_PATH in request.path and request.param("cursor"):
            second_page_asked.set()
            let_go.wait(10)
        return answer(request)

    wired.squarespace.before_dispatch = slow_second_page
    done: list = []

    def run_it():
        try:
            done.append(cart_connection_sync_orders(connection=wired.cart))
        finally:
            connections.close_all()

    thread = threading.Thread(target=run_it, daemon=True)
    thread.start()
    try:
        assert second_page_asked.wait(10), "the run never asked for the second page"
        run = SyncRun.objects.get(cart_connection=wired.cart, status=SyncOutcome.RUNNING)
        lock = SyncLock.objects.get(key=run.lock_key)
        assert run.counts["imported"] == 2 and run.counts["pages"] == 1
        assert lock.owner == run.lock_token
        assert lock.locked_until > run.started_at + timedelta(seconds=900)  # renewed since it was taken
    finally:
        let_go.set()
        thread.join(30)
    [finished] = done
    assert finished.status == SyncOutcome.SUCCEEDED and finished.counts["imported"] == 3
