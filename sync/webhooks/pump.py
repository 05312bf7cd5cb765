"""Many connections' notifications drained at once, by threads of one worker task.

A notified order is one orders run that spends nearly all its time waiting on the platforms: read the
order and send it (and, for a merchant's first in a while, the warehouse's token and SKU list: up to four
round trips). One worker running such runs one after another finishes two or three a second, so in a
sale the queue grows while the CPU idles.
The task a notification queues therefore drains its own connection and, in `WEBHOOK_DRAIN_THREADS`
threads, the other connections whose notifications wait, oldest first: a *pump*. At most
`WEBHOOK_DRAIN_PUMPS` run at once in the cluster, each under a lease; a task that finds every pump
running drains its own connection only. A pump takes new connections until none waits or
`WEBHOOK_DRAIN_SECONDS` have passed; then it lets the runs in flight finish and ends, and the worker
takes its next task (the polling runs among them). The tasks the other notifications queued find
their connection drained and end at once, without a pump of their own.

Each connection is drained at most once per pump: its drain already loops while new notifications
arrive, and a connection whose run failed keeps its rows (with their attempt count) for a later drain
instead of being retried within seconds. A connection whose orders lock another run holds is skipped
by the lock, as any drain is, and that run's holder takes the rows. Each thread has its own database
connection, closed when the thread ends.

With one thread (the default on SQLite, where one writer works at a time, and in the test suite) the
task drains its own connection only, in its own thread.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

from django.conf import settings
from django.db import connections
from django.db.models import Exists, Min, OuterRef
from django.utils import timezone

from orders.models import SyncLock, SyncRun
from orders.services.records.locks import cart_lock_key_expression, sync_lock
from sync.models import WebhookNotification
from sync.webhooks.drain import inbox_drain
from sync.webhooks.inbox import notifications_waiting

log = logging.getLogger(__name__)

# How often the pump looks for newly waiting connections while its threads are not all busy.
REFILL_SECONDS = 0.25
# The pumps' leases: at most `WEBHOOK_DRAIN_PUMPS` run at once, in the whole cluster.
PUMP_LOCK_PREFIX = "webhooks:pump:"
PUMP_LEASE_MARGIN = 120  # seconds a pump's lease outlasts its time limit (the runs in flight finish)
# Drain summaries kept in the task's result (the rest are counted).
SUMMARIES_SHOWN = 5


def connections_waiting(*, exclude: set[int], limit: int) -> list[int]:
    """Up to `limit` cart connections with notifications waiting, the longest-waiting first, not in `exclude`
    and not running an orders run now (another pump's drain or a polling run: that run's holder takes
    the rows, and a drain tried now would only be skipped)."""
    if limit <= 0:
        return []
    running = SyncLock.objects.filter(key=OuterRef("lock"), locked_until__gt=timezone.now())
    return list(
        WebhookNotification.objects.filter(handled_at__isnull=True)
        .exclude(cart_connection_id__in=exclude)
        .alias(lock=cart_lock_key_expression(kind=SyncRun.Kind.ORDERS, cart_connection_id_field="cart_connection_id"))
        .exclude(Exists(running))
        .values("cart_connection_id")
        .annotate(first=Min("received_at"))
        .order_by("first")
        .values_list("cart_connection_id", flat=True)[:limit]
    )


def _drain_one(connection_id: int) -> str:
    try:
        return inbox_drain(connection_id=connection_id)
    except Exception as exc:  # one connection's failure never stops the others' drains
        log.exception("webhook drain of cart connection %s failed", connection_id)
        return f"cart connection {connection_id}: drain failed ({type(exc).__name__}); its notifications wait"


def _drain_thread(jobs: queue.SimpleQueue, results: queue.SimpleQueue) -> None:
    try:
        while (connection_id := jobs.get()) is not None:
            results.put(_drain_one(connection_id))
    finally:
        connections.close_all()  # this thread's own database connection


def inbox_drain_pump(*, connection_id: int) -> str:
    """Drain `connection_id`'s notifications and, with more than one thread, every other connection's
    waiting ones alongside (see the module's docstring); a summary for the task's result."""
    threads = max(1, settings.WEBHOOK_DRAIN_THREADS)
    if threads == 1:
        return inbox_drain(connection_id=connection_id)
    if not notifications_waiting(connection_id=connection_id).exists():
        # A pump drained them already: this task ends at once, so that the polling runs queued behind
        # it are not kept waiting by one pump after another.
        return f"cart connection {connection_id}: no notification waiting (drained by another task)"
    for slot in range(max(1, settings.WEBHOOK_DRAIN_PUMPS)):
        with sync_lock(
            key=f"{PUMP_LOCK_PREFIX}{slot}", seconds=settings.WEBHOOK_DRAIN_SECONDS + PUMP_LEASE_MARGIN
        ) as token:
            if token is not None:
                return _pump(connection_id, threads)
    # Every pump is running (they take this connection's rows too): this worker stays free for the rest.
    return inbox_drain(connection_id=connection_id)


def _pump(connection_id: int, threads: int) -> str:
    jobs: queue.SimpleQueue = queue.SimpleQueue()
    results: queue.SimpleQueue = queue.SimpleQueue()
    workers = [
        threading.Thread(target=_drain_thread, args=(jobs, results), name=f"drain-{n}", daemon=True)
        for n in range(threads)
    ]
    for worker in workers:
        worker.start()
    deadline = time.monotonic() + settings.WEBHOOK_DRAIN_SECONDS
    started = {connection_id}
    jobs.put(connection_id)
    in_flight, summaries = 1, []
    try:
        while in_flight:
            if in_flight < threads and time.monotonic() < deadline:
                for other in connections_waiting(exclude=started, limit=threads - in_flight):
                    started.add(other)
                    jobs.put(other)
                    in_flight += 1
            try:
                summaries.append(results.get(timeout=REFILL_SECONDS))
                in_flight -= 1
            except queue.Empty:
                pass
    finally:
        for _worker in workers:
            jobs.put(None)
        for worker in workers:
            worker.join()
    more = len(summaries) - SUMMARIES_SHOWN
    shown = "; ".join(summaries[:SUMMARIES_SHOWN]) + (f"; and {more} more" if more > 0 else "")
    return f"{len(started)} connection(s) drained in {threads} threads: {shown}"
