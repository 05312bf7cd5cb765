"""A real worker process killed mid-run: its run is closed as interrupted, with the counts it had
recorded, once its lease has run out; the next run takes its orders over and sends each once.

The sandboxes run in this process; the worker is a separate Python process on the same database
(a file copy of the in-memory SQLite test database, or the PostgreSQL test database), SIGKILLed
while the warehouse holds back its answer to the first send.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from integrations.models import SyncOutcome
from orders.models import Order, OrderStatus, SyncLock, SyncRun
from orders.services.records.sync_runs import INTERRUPTED_MESSAGE
from sync.sweep import sweep
from tests.fixtures_processes import database_url
from tests.orders.helpers import ago, order_posts, seed, sync

ROOT = Path(__file__).resolve().parents[2]
WORKER = """
import sys, django
django.setup()
from integrations.models import CartConnection
from sync.cycle import cart_connection_sync_orders
cart_connection_sync_orders(connection=CartConnection.objects.get(pk=int(sys.argv[1])))
"""


def _wait_for(condition, what: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.1)


def _wait_until_quiet(count, *, seconds: float, limit: float = 30) -> None:
    """Return once `count()` has not changed for `seconds` (at most `limit` seconds in all)."""
    deadline, last, since = time.monotonic() + limit, count(), time.monotonic()
    while time.monotonic() - since < seconds and time.monotonic() < deadline:
        time.sleep(0.1)
        if (now := count()) != last:
            last, since = now, time.monotonic()


def test_a_killed_workers_run_is_closed_as_interrupted_with_what_it_had_done(shared_database, wired, tmp_path):
    for number in range(3):
        seed(wired.squarespace, str(1001 + number), created_on=ago(minutes=5, seconds=-number))
    held = wired.bergen.hold_next(path_contains="/orders", method="POST")
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings", "DATABASE_URL": database_url()}
    log = (tmp_path / "worker.log").open("w")
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(wired.cart.pk)], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        assert held.reached.wait(60), (tmp_path / "worker.log").read_text()
        _wait_for(
            lambda: SyncRun.objects.filter(cart_connection=wired.cart, counts__imported=3).exists(),
            "the worker's run to record its first page",
        )
        worker.kill()
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
        held.release()
        log.close()
    [run] = SyncRun.objects.filter(cart_connection=wired.cart)
    assert run.status == SyncOutcome.RUNNING

    assert "0 interrupted" in sweep()  # its lease has not run out yet: it may still be working

    # Time passes (the lease and the orders' claims run out, as they would after their leases). A
    # request the worker had written before it died can still reach the warehouse after the kill (the
    # kernel sends what was in the socket); the claims' lease leaves it that time, so wait until the
    # warehouse has seen no new order for a while before ending the claims early.
    _wait_until_quiet(lambda: len(order_posts(wired.bergen)), seconds=2)
    SyncLock.objects.filter(key=run.lock_key).update(locked_until=timezone.now() - timedelta(seconds=1))
    assert "1 interrupted run(s) closed" in sweep()
    run.refresh_from_db()
    assert run.status == SyncOutcome.INTERRUPTED and run.error == INTERRUPTED_MESSAGE
    assert run.counts["imported"] == 3 and run.counts["pages"] == 1

    Order.objects.filter(cart_connection=wired.cart).update(claimed_until=timezone.now() - timedelta(seconds=1))
    after = sync(wired.cart)

    assert after.status == SyncOutcome.SUCCEEDED, after.error
    assert after.counts["delivered"] == 3
    assert Order.objects.filter(cart_connection=wired.cart, status=OrderStatus.AT_WMS).count() == 3
    assert wired.bergen.duplicate_count() == 0
    # Each order sent once: by the killed worker (found at the warehouse, not sent again), or after it.
    # A send the kill cut off mid-request never reached the warehouse whole (`incomplete_requests`):
    # the warehouse processed nothing of it, and it is not among the requests received.
    references = [(r.json or {}).get("referenceNum") for r in order_posts(wired.bergen)]
    assert len(references) == 3, (references, wired.bergen.incomplete_requests)
