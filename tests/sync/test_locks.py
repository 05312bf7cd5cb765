"""Two runs of the same sync never overlap: the second is recorded as skipped, on any database."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

from integrations.models import SyncOutcome
from orders.models import Order, SyncLock, SyncRun
from orders.services.records.locks import lock_key, sync_lock_acquire, sync_lock_release
from sync.cycle import cart_connection_sync_orders
from tests.orders.helpers import ORDERS_PATH, seed

SKIPPED_MESSAGE = "Skipped: another run of this sync for this connection is in progress."


def test_a_run_while_the_lock_is_held_is_recorded_as_skipped_and_does_nothing(wired):
    seed(wired.squarespace, "1001")
    token = sync_lock_acquire(key=lock_key("orders", wired.cart))
    assert token is not None

    run = cart_connection_sync_orders(connection=wired.cart)

    assert run.status == SyncOutcome.SKIPPED
    assert run.error == SKIPPED_MESSAGE
    assert run.cart_connection_id == wired.cart.pk and run.kind == "orders"
    assert wired.squarespace.requests_to(ORDERS_PATH) == []
    assert not Order.objects.exists()
    wired.cart.refresh_from_db()
    assert wired.cart.consecutive_failures == 0, "a skipped run is not a failure"

    sync_lock_release(key=lock_key("orders", wired.cart), token=token)
    after = cart_connection_sync_orders(connection=wired.cart)

    assert after.status == SyncOutcome.SUCCEEDED
    assert Order.objects.count() == 1


def test_the_lock_is_per_connection_and_kind(wired):
    sync_lock_acquire(key=lock_key("shipments", wired.cart))

    run = cart_connection_sync_orders(connection=wired.cart)

    assert run.status == SyncOutcome.SUCCEEDED


def test_a_finished_run_releases_its_lock(wired):
    cart_connection_sync_orders(connection=wired.cart)

    lock = SyncLock.objects.get(key=lock_key("orders", wired.cart))
    assert (lock.owner, lock.locked_until) == ("", None)
    assert sync_lock_acquire(key=lock.key) is not None


def test_a_lease_left_by_a_killed_worker_is_taken_over_once_expired(wired):
    key = lock_key("orders", wired.cart)
    sync_lock_acquire(key=key)
    SyncLock.objects.filter(key=key).update(owner="dead-worker", locked_until=timezone.now() - timedelta(seconds=1))
    seed(wired.squarespace, "1001")

    run = cart_connection_sync_orders(connection=wired.cart)

    assert run.status == SyncOutcome.SUCCEEDED
    assert Order.objects.count() == 1
    assert SyncLock.objects.get(key=key).owner == ""


def test_a_lease_not_yet_expired_is_not_taken(db, settings):
    settings.SYNC_LOCK_SECONDS = 60
    first = sync_lock_acquire(key="orders:cart:999")

    assert first is not None
    assert sync_lock_acquire(key="orders:cart:999") is None
    sync_lock_release(key="orders:cart:999", token="someone-else")  # only the owner releases
    assert sync_lock_acquire(key="orders:cart:999") is None


def _in_thread(target, results: list, index: int) -> threading.Thread:
    """Run `target` in a thread with its own database connection, closed at the end."""

    def run() -> None:
        try:
            results[index] = target()
        except BaseException as exc:  # reported by the test, not lost in the thread
            results[index] = exc
        finally:
            connections.close_all()

    return threading.Thread(target=run)


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_in_two_threads_one_runs_the_other_is_skipped(wired):
    """The first run is held inside its call to the cart while the second starts: truly at once."""
    seed(wired.squarespace, "1001")
    inside, let_go = threading.Event(), threading.Event()
    answer = wired.squarespace.before_dispatch

    def slow_cart(request):
        if ORDERS_PATH in request.path and not inside.is_set():
            inside.set()
            let_go.wait(10)
        return answer(request)

    wired.squarespace.before_dispatch = slow_cart
    results: list = [None, None]
    first = _in_thread(lambda: cart_connection_sync_orders(connection=wired.cart), results, 0)
    first.start()
    assert inside.wait(10), "the first run never reached the cart"
    second = _in_thread(lambda: cart_connection_sync_orders(connection=wired.cart), results, 1)
    second.start()
    second.join(30)
    let_go.set()
    first.join(30)

    ran, skipped = results
    assert isinstance(ran, SyncRun) and isinstance(skipped, SyncRun), results
    assert ran.status == SyncOutcome.SUCCEEDED
    assert (skipped.status, skipped.error) == (SyncOutcome.SKIPPED, SKIPPED_MESSAGE)
    assert Order.objects.count() == 1
    assert len(wired.squarespace.requests_to(ORDERS_PATH)) == 1


@pytest.mark.django_db(transaction=True)
def test_many_threads_racing_for_a_new_lock_one_wins():
    """The lock row does not exist yet: every thread creates or finds it, and one takes the lease."""
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        pytest.skip(
            "the in-memory SQLite test database is shared-cache, whose table locks fail at once instead of "
            "waiting: the file database case is covered by the test with several processes"
        )
    start = threading.Barrier(6)
    results: list = [None] * 6

    def take():
        start.wait(10)
        return sync_lock_acquire(key="orders:cart:4242")

    threads = [_in_thread(take, results, i) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert not [r for r in results if isinstance(r, BaseException)], results
    assert len([r for r in results if r]) == 1
    assert SyncLock.objects.filter(key="orders:cart:4242").count() == 1


WORKER = """
import sys, time, django
django.setup()
from orders.services.records.locks import sync_lock_acquire
time.sleep(max(0.0, float(sys.argv[1]) - time.time()))
print(sync_lock_acquire(key="orders:cart:4242") or "-")
"""


def test_many_worker_processes_on_one_sqlite_file_one_takes_the_lease(tmp_path: Path):
    """Several qcluster workers on one machine with the default SQLite file database (WAL, busy
    timeout): they race for a lock row that does not exist yet, and exactly one wins."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'workers.sqlite3'}",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }
    base = Path(settings.BASE_DIR)
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=base, env=env, check=True, timeout=120)
    start_at = str(time.time() + 3)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, start_at], cwd=base, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(5)
    ]
    outputs = [worker.communicate(timeout=120) for worker in workers]

    assert [w.returncode for w in workers] == [0] * 5, [err.decode()[-500:] for _, err in outputs]
    tokens = [out.decode().strip() for out, _ in outputs]
    assert len([t for t in tokens if t != "-"]) == 1, tokens
