"""The fleet benchmark (`manage.py bench_fleet`): M merchants on one machine, orders placed at R a minute
for T minutes, synced by the real scheduler and one qcluster of W worker processes (two by default).

The run, in order:
1. the sandboxes start in their own process (``fleet_sandboxes``): an account per merchant at Squarespace
   (its documented 300 requests a minute) and at Bergen, every answer L ms late;
2. M merchants are wired to them (``sandbox.wiring``), their platform accounts stored as their setup's
   Test connection stores them, their orders and shipments synced once (``fleet_setup``: the idle window
   measures a fleet that has been running, not its connections' first runs), their schedules made
   (``sync.schedules``) and spread over the polling interval, as connections added over time are;
3. ``manage.py qcluster`` starts (its scheduler and W workers) on the configured database;
4. an idle window: the connections sync with nothing to find; the cluster's CPU per finished run is
   ``idle_cpu_ms_per_connection_sync``;
5. the shopper places the orders; then the run waits until every placed order is at the warehouse, or
   until the time left of the 10-minute budget is gone;
6. the figures: latencies, losses, duplicates and 429s counted by the sandboxes; CPU and memory of the
   cluster's processes read from /proc; the schedule lag from the orders runs' start times.

Webhooks (the default; ``--no-webhooks`` polls only): every Squarespace connection is granted (the
site's OAuth tokens, ``fleet_sandboxes``), its subscription made by our own code against its site, and
a web process (``fleet_hooks.WebProcess``) receives the sites' signed notifications; the cluster drains
the inbox. Orders are then polled every ``WEBHOOK_POLL_MINUTES`` only, as the product does.
"""

from __future__ import annotations

import os
import random
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connection as db_connection
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django_q.models import Schedule

from integrations.connectors.squarespace.oauth import token_credentials
from integrations.models import CartConnection, Merchant, SyncOutcome
from orders.models import SyncRun
from sandbox.bench import proctree
from sandbox.bench.fleet_hooks import WebProcess, subscriptions_make, webhook_env, webhook_settings
from sandbox.bench.fleet_sandboxes import (
    SHIPPING_METHOD,
    FleetSandboxProcess,
    FleetSpec,
    api_key,
    bergen_customer,
    bergen_login,
    percentile,
)
from sandbox.bench.fleet_setup import accounts_learn, fleet_sync_once
from sandbox.bench.managed import ManagedProcess
from sandbox.wiring import (
    SandboxAccount,
    SandboxMerchant,
    bergen_account,
    merchant_wire_sandboxes,
    squarespace_account,
)
from sync.models import WebhookNotification
from sync.schedules import GLOBAL, schedule_name, schedules_reconcile
from sync.signals import connection_changed

SLUG_PREFIX = "fleet-"
BUDGET_SECONDS = 600  # the whole run, set-up and drain included
# django-q2's scheduler queues the schedules due every 30 s or so. The first connections are due a turn
# before the schedules are made, so that the cluster's first turn is as full as the later ones; the idle
# window opens as that turn's first run finishes and holds it and the next turn, not the one after.
SCHEDULER_TURN_SECONDS = 30
IDLE_SECONDS = 55
SPREAD_SEED = 19  # the first polls' order over the interval: fixed, so that runs compare
CLUSTER_START_SECONDS = 120


class FleetRefused(Exception):
    """The run cannot start here; the message says why and what to do."""


@dataclass(frozen=True)
class FleetOptions:
    merchants: int
    minutes: float
    latency_ms: int
    orders_per_minute: int = 300
    webhooks: bool = True
    poll_minutes: int = 5
    workers: int = 2


def database_url() -> str:
    """The configured database as a DATABASE_URL for the cluster's process."""
    db = db_connection.settings_dict
    if db_connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def fleet_database_prepare() -> None:
    """Refuse a database with other merchants; then empty it (`flush`): an earlier fleet run's merchants,
    orders, runs, queue and schedules go (the orders' foreign keys protect them from a plain delete)."""
    others = Merchant.objects.exclude(slug__startswith=SLUG_PREFIX).count()
    if others:
        raise FleetRefused(
            f"this database has {others} merchant(s) besides the fleet's: run the fleet benchmark on a "
            "database of its own (DATABASE_URL=postgres://.../bench_fleet), its cluster would sync them too"
        )
    call_command("flush", interactive=False, verbosity=0)


@contextmanager
def _schedules_reconciled_after() -> Iterator[None]:
    """Connections saved without reconciling the schedules on each save (`sync.signals`: at 1,000
    merchants that is a million schedule reads); the caller reconciles them once (`fleet_schedules`)."""
    hooked = [(post_save, CartConnection), (post_delete, CartConnection), (post_save, Merchant)]
    for saved, sender in hooked:
        saved.disconnect(connection_changed, sender=sender)
    try:
        yield
    finally:
        for saved, sender in hooked:
            saved.connect(connection_changed, sender=sender)


def fleet_wire(
    urls: dict[str, str], options: FleetOptions, say: Callable[[str], None], grants: list[dict] | None = None
) -> list[int]:
    """M merchants wired to their accounts, polling every ``poll_minutes``; their cart connection ids.
    With ``grants`` (each site's token answer) a cart connection holds the grant's tokens, as after
    the merchant's "Grant us API access", instead of an API key."""
    with _schedules_reconciled_after(), transaction.atomic():
        return _wire(urls, options, say, grants)


def _cart_account(url: str, index: int, grants: list[dict] | None) -> SandboxAccount:
    if grants is None:
        return squarespace_account(url, api_key=api_key(index))
    return SandboxAccount("squarespace", url, token_credentials(grants[index]))


def _wire(
    urls: dict[str, str], options: FleetOptions, say: Callable[[str], None], grants: list[dict] | None
) -> list[int]:
    ids = []
    for i in range(options.merchants):
        username, password = bergen_login(i)
        connection = merchant_wire_sandboxes(
            merchant=SandboxMerchant(f"{SLUG_PREFIX}{i:05d}", f"Fleet {i}", f"fleet{i}@example.com", "Shop", "Bergen"),
            cart=_cart_account(urls["squarespace"], i, grants),
            warehouse=bergen_account(urls["bergen"], username=username, password=password, customer=bergen_customer(i)),
            earliest_order_date=date.today() - timedelta(days=1),
            ship_codes={SHIPPING_METHOD: "UPS:Ground"},
        )
        ids.append(connection.pk)
        if (i + 1) % 200 == 0:
            say(f"wired {i + 1} of {options.merchants} merchants")
    # The inventory push is another benchmark's (bench_sync); the fleet measures orders and tracking.
    CartConnection.objects.filter(pk__in=ids).update(
        orders_every_minutes=options.poll_minutes, inventory_sync_enabled=False
    )
    return ids


def fleet_schedules(connection_ids: list[int], poll_minutes: int) -> dict[int, datetime]:
    """The schedules, each connection's first orders run spread over its interval (connections added over
    time are), the daily reconciliation, pruning and webhook check moved past the run (a day's work, not
    the fleet's: the check alone asks every site for its subscriptions).
    The spread follows a shuffled order of the merchants, not the order the shopper visits them in:
    spread in the same order, each merchant's first poll came just before its first order (a whole
    interval's wait for nearly every order), which no real fleet lines up.
    Returns when each connection's orders run is first due."""
    schedules_reconcile()
    now = timezone.now()
    shipments_minutes = CartConnection._meta.get_field("shipments_every_minutes").default
    first_due = {}
    slots = list(range(len(connection_ids)))
    random.Random(SPREAD_SEED).shuffle(slots)
    for slot, connection_id in zip(slots, connection_ids, strict=True):
        share = slot / len(connection_ids)
        for kind, minutes in (("orders", poll_minutes), ("shipments", shipments_minutes)):
            due = now + timedelta(seconds=share * minutes * 60 - SCHEDULER_TURN_SECONDS)
            Schedule.objects.filter(name=schedule_name(kind, connection_id)).update(next_run=due)
            if kind == "orders":
                first_due[connection_id] = due
    for name in GLOBAL:
        if name.endswith(("reconcile", "prune", "webhooks")):
            Schedule.objects.filter(name=name).update(next_run=now + timedelta(days=1))
    return first_due


class Cluster(ManagedProcess):
    """``manage.py qcluster`` with ``workers`` workers, in its own process group; its output in a log file."""

    label = "qcluster"
    stop_seconds = 60

    def __init__(self, workers: int = 2) -> None:
        super().__init__("bench-fleet-qcluster-")
        self.workers = workers

    def start(self, extra_env: dict[str, str] | None = None) -> None:
        env = {**(extra_env or {}), "DATABASE_URL": database_url(), "Q_WORKERS": str(self.workers)}
        self.launch(["qcluster"], env)

    def terminate(self) -> None:
        """SIGTERM to the cluster's parent alone: it stops its workers itself."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)


class Sampler:
    """The cluster's CPU and its largest process's memory, read every few seconds."""

    def __init__(self, cluster: Cluster, web: WebProcess | None = None) -> None:
        self.cluster, self.web = cluster, web
        self.peak_rss_mb = self.web_peak_rss_mb = 0.0

    def sample(self) -> float:
        """Sample memory; return the cluster's CPU seconds so far."""
        self.peak_rss_mb = max(self.peak_rss_mb, proctree.largest_rss_mb(self.cluster.pid))
        if self.web is not None:
            self.web_peak_rss_mb = max(self.web_peak_rss_mb, proctree.largest_rss_mb(self.web.pid))
        return proctree.cpu_seconds(self.cluster.pid)

    def web_cpu_seconds(self) -> float:
        return proctree.cpu_seconds(self.web.pid) if self.web is not None else 0.0

    def wait(self, seconds: float, until: Callable[[], bool] | None = None, every: float = 2.0) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.cluster.check()
            if self.web is not None:
                self.web.check()
            self.sample()
            if until is not None and until():
                return
            time.sleep(min(every, max(0.0, deadline - time.monotonic())))


def finished_runs(since) -> int:
    """Runs of every kind (orders, shipments, skipped ones too) finished since ``since``."""
    return SyncRun.objects.filter(finished_at__gte=since).count()


def schedule_lag_p99(first_due: dict[int, datetime], poll_minutes: int) -> float | None:
    """How late the orders runs started after they were due (p99, s): the scheduler's lag and the queue's.

    A schedule is due at its first time and every interval after (django-q2 keeps that grid; a slot
    missed entirely is skipped, not caught up), so a run is late by its start's distance past the last
    due time before it. A backlog's queued turns are counted like scheduled runs (they are due at once);
    a notification's run is not scheduled, and not counted, nor is a run skipped because another held the
    connection's lock (a drain's, mostly: it started nothing)."""
    interval = poll_minutes * 60
    notified = WebhookNotification.objects.filter(sync_run__isnull=False).values("sync_run_id")
    rows = (
        SyncRun.objects.filter(cart_connection_id__in=first_due, kind=SyncRun.Kind.ORDERS)
        .exclude(pk__in=notified)
        .exclude(status=SyncOutcome.SKIPPED)
        .values_list("cart_connection_id", "started_at")
    )
    lags = [
        (started - first_due[connection_id]).total_seconds() % interval
        for connection_id, started in rows
        if started >= first_due[connection_id]
    ]
    return percentile(lags, 99)


def polled_every(options: FleetOptions) -> int:
    """The orders polling interval the product gives the fleet's connections (slower while webhooks are live)."""
    return max(options.poll_minutes, settings.WEBHOOK_POLL_MINUTES) if options.webhooks else options.poll_minutes


def run_fleet(options: FleetOptions, say: Callable[[str], None]) -> dict[str, Any]:
    """The whole run; the figures, as the command prints them."""
    began = time.monotonic()
    fleet_database_prepare()
    spec = FleetSpec(merchants=options.merchants, latency_ms=options.latency_ms, webhooks=options.webhooks)
    say(f"starting the sandboxes: {options.merchants} Squarespace sites and Bergen accounts, {options.latency_ms} ms")
    with FleetSandboxProcess(spec) as sandboxes:
        web = WebProcess(database_url()) if options.webhooks else None
        env = webhook_env(web.base_url, sandboxes.urls["squarespace"]) if web else {}
        with webhook_settings(env) if web else nullcontext():
            ids = fleet_wire(sandboxes.urls, options, say, sandboxes.grant() if web else None)
            not_live = subscriptions_make(ids, say) if web else []
            accounts_unknown = accounts_learn(ids, say)
        cluster = Cluster(options.workers)
        try:
            if web:
                say(f"starting the web process at {web.base_url} (runserver; log {web.log})")
                web.start(env)
            say(f"starting the qcluster ({options.workers} workers; log {cluster.log})")
            cluster.start(env)
            # Its scheduler's first turn is 30 s away, and no schedule exists yet: the fleet syncs once meanwhile.
            with webhook_settings(env) if web else nullcontext():
                not_synced = fleet_sync_once(ids, say)
                first_due = fleet_schedules(ids, polled_every(options))
            figures = _measure(options, sandboxes, cluster, first_due, began, say, web)
        finally:
            cluster.stop()
            if web:
                web.stop()
        figures.update(sandboxes.figures())
        if web:
            figures["subscriptions_at_sites"] = sandboxes.subscriptions()
            figures["connections_without_webhooks"] = len(not_live)
        figures["connections_account_unknown"] = len(accounts_unknown)
        figures["connections_not_synced_before"] = len(not_synced)
    if not figures["drained"]:  # what had not arrived was still on its way, not known lost
        figures["not_at_warehouse_when_stopped"], figures["lost"] = figures["lost"], None
    figures["run_seconds"] = round(time.monotonic() - began, 1)
    return _ordered(options, figures)


def _measure(
    options: FleetOptions,
    sandboxes: FleetSandboxProcess,
    cluster: Cluster,
    first_due: dict[int, datetime],
    began: float,
    say: Callable[[str], None],
    web: WebProcess | None,
) -> dict[str, Any]:
    sampler = Sampler(cluster, web)
    started = timezone.now()
    sampler.wait(CLUSTER_START_SECONDS, until=lambda: finished_runs(started) > 0)
    if not finished_runs(started):
        raise RuntimeError(f"the qcluster finished no run within {CLUSTER_START_SECONDS} s; its log: {cluster.log}")
    say(f"idle window: {IDLE_SECONDS} s of connections syncing with nothing new")
    idle_from, cpu_before = timezone.now(), sampler.sample()
    sampler.wait(IDLE_SECONDS)
    idle_cpu, idle_runs = sampler.sample() - cpu_before, finished_runs(idle_from)
    say(f"placing {options.orders_per_minute} orders a minute for {options.minutes:g} minute(s)")
    cpu_before, web_cpu_before = sampler.sample(), sampler.web_cpu_seconds()
    sandboxes.place(options.orders_per_minute, options.minutes)
    status: dict[str, Any] = {}

    def drained() -> bool:
        status.update(sandboxes.status())
        return not status["placing"] and status["arrived"] >= status["placed"]

    last_said = time.monotonic()
    while time.monotonic() - began < BUDGET_SECONDS - 30 and not drained():
        sampler.wait(5)
        if time.monotonic() - last_said >= 30:
            say(f"placed {status['placed']}, at the warehouse {status['arrived']}")
            last_said = time.monotonic()
    load_cpu = sampler.sample() - cpu_before
    web_cpu = sampler.web_cpu_seconds() - web_cpu_before
    placed = max(status.get("placed", 0), 1)
    web_figures = {
        "web_cpu_ms_per_order": round(web_cpu * 1000 / placed, 2),
        "web_peak_rss_mb": round(sampler.web_peak_rss_mb, 1),
    }
    return {
        **(web_figures if web is not None else {}),
        "idle_connection_syncs": idle_runs,
        "idle_cpu_ms_per_connection_sync": round(idle_cpu * 1000 / idle_runs, 2) if idle_runs else None,
        "worker_cpu_ms_per_order": round(load_cpu * 1000 / placed, 2),
        "peak_rss_mb_per_worker": round(sampler.peak_rss_mb, 1),
        "schedule_lag_p99_s": schedule_lag_p99(first_due, polled_every(options)),
        "drained": drained(),
    }


def _ordered(options: FleetOptions, figures: dict[str, Any]) -> dict[str, Any]:
    head = {
        "merchants": options.merchants,
        "minutes": options.minutes,
        "latency_ms": options.latency_ms,
        "orders_per_minute": options.orders_per_minute,
        "webhooks": options.webhooks,
        "poll_minutes": polled_every(options),
        "workers": options.workers,
        "database": db_connection.vendor,
        "cpus": os.cpu_count(),
        "delivery_batches_per_turn": settings.DELIVERY_BATCHES_PER_TURN,
        "webhook_drain_threads": settings.WEBHOOK_DRAIN_THREADS if options.webhooks else None,
    }
    return {**head, **figures}
