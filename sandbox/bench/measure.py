"""The measured steps of ``bench_sync`` and the figures they give.

In one run: the order sync of N orders into a database without orders (wall time, CPU time of this process,
queries, peak RSS), the admin's order changelist over them, the inventory sync of M levels and its rerun,
then the API floor, the sync's requests replayed against a fresh copy of the sandboxes. The sandboxes live
in another process (``SandboxProcess``): none of their CPU is ours. The bench connections declare that the
sandboxes take any rate (``ANY_RATE_PER_MINUTE``): the benchmark measures our cost, not the platforms' limits.

The database is the one ``DATABASE_URL`` names. The benchmark owns the merchant ``bench`` there and deletes
what a previous run left under it; it refuses to run when any other merchant has orders, since the sync
must run into an empty order table (point ``DATABASE_URL`` at a throwaway database).
"""

from __future__ import annotations

import cProfile
import gc
import io
import os
import pstats
import re
import resource
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.backends.signals import connection_created
from django.test import Client
from django.urls import reverse

from integrations.models import CartConnection, Merchant
from orders.models import Order, Shipment
from sandbox.bench.process import SandboxProcess
from sandbox.bench.replay import Replay, replay
from sandbox.bench.seeding import SHIP_CODE, SHIPPING_METHOD, BenchSpec, earliest_order_date, placed_from
from sandbox.run_settings import settings_applied
from sandbox.wiring import (
    ANY_RATE_PER_MINUTE,
    SandboxMerchant,
    bergen_account,
    merchant_wire_sandboxes,
    squarespace_account,
)
from sync.cycle import cart_connection_sync_orders
from sync.return_path import inventory_sync

BENCH_SLUG = "bench"
BENCH_ADMIN = "bench-admin"
PROFILED_STEPS = ("sync", "inventory", "inventory_rerun")
CLEANUP_BATCH = 1000


class BenchRefused(Exception):
    """The database is not one the benchmark may run in."""


class QueryCounter:
    """Counts the queries of every database connection, in every thread, while it is entered.

    ``connection.execute_wrapper`` covers one thread's connection only; deliveries that run in worker
    threads open their own, so the counter also hooks every connection opened meanwhile.
    """

    def __init__(self) -> None:
        self.count = 0
        self.statements: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._hooked: list[Any] = []

    def __call__(self, execute, sql, params, many, context):
        shape = _statement_shape(sql)
        with self._lock:
            self.count += 1
            self.statements[shape] += 1
        return execute(sql, params, many, context)

    def _hook(self, wrapper) -> None:
        if self not in wrapper.execute_wrappers:
            wrapper.execute_wrappers.append(self)
            self._hooked.append(wrapper)

    def _opened(self, sender, connection, **kwargs) -> None:
        self._hook(connection)

    def __enter__(self) -> QueryCounter:
        self._hook(connection)
        connection_created.connect(self._opened, weak=False)
        return self

    def __exit__(self, *exc_info: object) -> None:
        connection_created.disconnect(self._opened)
        for wrapper in self._hooked:
            if self in wrapper.execute_wrappers:
                wrapper.execute_wrappers.remove(self)
        self._hooked.clear()


_SHAPES = (
    (re.compile(r"(?:\(?%s\)?,\s*)+\(?%s\)?"), "…"),  # IN (%s, %s, …) and VALUES (…), (…)
    (re.compile(r"^SELECT .*? FROM "), "SELECT … FROM "),  # the column list
    (re.compile(r"^INSERT INTO (\S+) \(.*?\) (VALUES|SELECT)"), r"INSERT INTO \1 (…) \2"),
    (re.compile(r'"s\d+_x\d+"'), '"s…"'),  # savepoint names
)


@lru_cache(maxsize=4096)  # the same statements come back page after page: shape each once
def _statement_shape(sql: str) -> str:
    """A statement without its parameters, column lists and savepoint names: what to count it under."""
    shape = " ".join(sql.split())
    for pattern, replacement in _SHAPES:
        shape = pattern.sub(replacement, shape)
    return shape[:150]


@dataclass
class Measured:
    """What one step cost."""

    seconds: float = 0.0
    cpu_seconds: float = 0.0
    queries: int = 0
    statements: Counter = field(default_factory=Counter)


def measured(step: Callable[[], Any], *, profile: cProfile.Profile | None = None) -> tuple[Any, Measured]:
    counter = QueryCounter()
    cpu, wall = time.process_time(), time.perf_counter()
    with counter:
        if profile is not None:
            profile.enable()
        try:
            result = step()
        finally:
            if profile is not None:
                profile.disable()
    cost = Measured(time.perf_counter() - wall, time.process_time() - cpu, counter.count, counter.statements)
    return result, cost


def peak_rss_reset() -> bool:
    """Start this process's peak RSS afresh (Linux: ``/proc/self/clear_refs``), so that it is the measured
    step's peak and not the set-up's; False where the platform cannot (the peak is then the process's)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear_refs:
            clear_refs.write("5")
    except OSError:
        return False
    return True


def peak_rss_mb() -> float:
    """This process's peak resident set so far (``ru_maxrss`` is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


# --- the database -----------------------------------------------------------------------------------


def bench_database_prepare() -> None:
    """Delete what a previous benchmark left under the ``bench`` merchant; refuse a database with other orders."""
    merchant = Merchant.objects.filter(slug=BENCH_SLUG).first()
    if merchant is not None:
        Shipment.objects.filter(warehouse__merchant=merchant).delete()
        # In batches: deleting loads the orders, and 50,000 at once would weigh on this process's memory.
        orders = Order.objects.filter(merchant=merchant)
        while batch := list(orders.values_list("pk", flat=True)[:CLEANUP_BATCH]):
            Order.objects.filter(pk__in=batch).delete()
        with transaction.atomic():
            CartConnection.objects.filter(merchant=merchant).delete()
            merchant.delete()
    others = Order.objects.count()
    if others:
        raise BenchRefused(
            f"this database holds {others} order(s) of other merchants; the benchmark syncs into an empty "
            "order table: point DATABASE_URL at a throwaway database (e.g. sqlite:////tmp/bench.sqlite3)"
        )


def bench_merchant_wire(spec: BenchSpec, urls: dict[str, str]) -> CartConnection:
    """The ``bench`` merchant: a Squarespace cart and a Bergen warehouse pointed at the sandboxes, whose
    accounts are the sandboxes' defaults (they run in another process: only their URLs come back)."""
    return merchant_wire_sandboxes(
        merchant=SandboxMerchant(
            slug=BENCH_SLUG,
            name="Benchmark merchant",
            contact_email="",
            cart_name="Bench store",
            warehouse_name="Bench warehouse",
        ),
        cart=squarespace_account(urls["squarespace"], api_key="sandbox-squarespace-key"),
        warehouse=bergen_account(urls["bergen"], username="sandbox-user", password="sandbox-pass", customer="DEMO"),
        earliest_order_date=earliest_order_date(spec),
        ship_codes={SHIPPING_METHOD: SHIP_CODE},
        requests_per_minute=ANY_RATE_PER_MINUTE,  # the bench sandboxes have no rate limit
    )


def _reloaded(cart: CartConnection) -> CartConnection:
    return CartConnection.objects.select_related("merchant", "warehouse").get(pk=cart.pk)


# --- the admin --------------------------------------------------------------------------------------


def admin_changelist() -> tuple[Measured, int]:
    """GET the order changelist as a superuser through the real URLconf; the second request is measured
    (the first compiles templates and fills caches). Returns the cost and the HTTP status."""
    User = get_user_model()
    user, _ = User.objects.update_or_create(
        username=BENCH_ADMIN, defaults={"is_staff": True, "is_superuser": True, "is_active": True}
    )
    client = Client()
    client.force_login(user)
    url = reverse("admin:orders_order_changelist")
    with settings_applied(ALLOWED_HOSTS=[*settings.ALLOWED_HOSTS, "testserver"]):
        client.get(url, secure=True)
        response, cost = measured(lambda: client.get(url, secure=True))
    return cost, response.status_code


# --- the whole run ----------------------------------------------------------------------------------


@dataclass
class BenchResult:
    figures: dict[str, Any]
    sync_statements: Counter
    problems: list[str]
    profile_text: str = ""


def run_benchmark(*, orders: int, skus: int, say: Callable[[str], None], profile_dir: str | None = None) -> BenchResult:
    """The whole benchmark; ``profile_dir`` gets a cProfile dump of the sync and of each inventory run.

    cProfile sees the calling thread only: deliveries sent from worker threads show as waiting
    (profile with ``DELIVERY_CONCURRENCY=1`` to see their own work)."""
    spec = BenchSpec(orders=orders, skus=skus, placed_from=placed_from(datetime.now(UTC)))
    bench_database_prepare()
    profiles = {step: cProfile.Profile() for step in PROFILED_STEPS} if profile_dir else {}
    # As in production: no debug cursor logging every query.
    with settings_applied(DEBUG=False):
        say(f"Seeding {orders} orders and {skus} SKUs in the sandbox process…")
        with SandboxProcess(spec) as sandboxes:
            cart = bench_merchant_wire(spec, sandboxes.urls)
            sandboxes.requests()  # nothing is expected before the sync; start from a clean log
            gc.collect()
            peak_is_the_syncs = peak_rss_reset()
            say("Syncing orders (measured)…")
            run, sync = measured(
                lambda: cart_connection_sync_orders(connection=cart, progress=_throttled(say)),
                profile=profiles.get("sync"),
            )
            peak = peak_rss_mb()
            recorded = sandboxes.requests()
            at_warehouse = sandboxes.counts()
            say("Admin changelist…")
            admin, admin_status = admin_changelist()
            say(f"Inventory sync of {skus} levels, then again with nothing changed…")
            first_runs, inventory = measured(
                lambda: inventory_sync(connections=[_reloaded(cart)]), profile=profiles.get("inventory")
            )
            rerun_runs, rerun = measured(
                lambda: inventory_sync(connections=[_reloaded(cart)]), profile=profiles.get("inventory_rerun")
            )
        say(f"API floor: replaying the sync's {len(recorded)} requests against fresh sandboxes…")
        floor, sandbox_cpu, served = api_floor(spec, recorded)
    pushed = sum(int(r.counts.get("inventory_pushed", 0)) for r in first_runs)
    pushed_again = sum(int(r.counts.get("inventory_pushed", 0)) for r in rerun_runs)
    problems = _problems(
        orders=orders,
        run=run,
        at_warehouse=at_warehouse,
        floor=floor,
        served=served,
        admin_status=admin_status,
        inventory_runs=[*first_runs, *rerun_runs],
        pushed_again=pushed_again,
    )
    figures = _figures(
        orders=orders,
        skus=skus,
        floor=(floor, sandbox_cpu, served),
        steps=(sync, inventory, rerun, admin),
        peak=(peak, peak_is_the_syncs),
        counts=run.counts or {},
        pushed=(pushed, pushed_again),
    )
    figures["profiled"] = bool(profiles)
    profile_text = _profiles_dump(profiles, profile_dir) if profile_dir else ""
    return BenchResult(figures=figures, sync_statements=sync.statements, problems=problems, profile_text=profile_text)


def api_floor(spec: BenchSpec, recorded: list[dict[str, Any]]) -> tuple[Replay, float, int]:
    """The sync's requests replayed against a fresh copy of the sandboxes: the replay, the CPU seconds the
    sandboxes spent meanwhile and how many requests they served."""
    with SandboxProcess(spec) as fresh:
        cpu_before = fresh.cpu_seconds()
        floor = replay(recorded, fresh.urls)
        return floor, fresh.cpu_seconds() - cpu_before, len(fresh.requests())


def _figures(
    *,
    orders: int,
    skus: int,
    floor: tuple[Replay, float, int],
    steps: tuple[Measured, Measured, Measured, Measured],
    peak: tuple[float, bool],
    counts: dict[str, Any],
    pushed: tuple[int, int],
) -> dict[str, Any]:
    """The figures ``--json`` prints, in their order: ``floor`` is the replay, the sandboxes' CPU seconds and
    the requests served; ``steps`` the sync, the inventory run, its rerun and the admin changelist."""
    replayed, sandbox_cpu, served = floor
    sync, inventory, rerun, admin = steps
    return {
        "orders": orders,
        "skus": skus,
        "database": connection.vendor,
        "requests": replayed.requests,
        "floor_s": round(replayed.seconds, 3),
        "sandbox_rps": round(served / replayed.seconds, 1) if replayed.seconds else 0.0,
        "sandbox_cpu_share": round(sandbox_cpu / replayed.seconds, 3) if replayed.seconds else 0.0,
        "floor_client_cpu_ms_per_order": round(replayed.cpu_seconds * 1000 / orders, 3),
        "sync_s": round(sync.seconds, 3),
        "ratio": round(sync.seconds / replayed.seconds, 3) if replayed.seconds else 0.0,
        "cpu_ms_per_order": round(sync.cpu_seconds * 1000 / orders, 3),
        "queries_per_order": round(sync.queries / orders, 3),
        "inventory_s": round(inventory.seconds, 3),
        "inventory_rerun_s": round(rerun.seconds, 3),
        "peak_rss_mb": round(peak[0], 1),
        # "sync": the peak from the start of the sync; "process": since the process started.
        "peak_rss_scope": "sync" if peak[1] else "process",
        "admin_changelist_queries": admin.queries,
        "admin_changelist_ms": round(admin.seconds * 1000, 1),
        "delivered": int(counts.get("delivered", 0)),
        "held": int(counts.get("held", 0)),
        "inventory_pushed": pushed[0],
        "inventory_rerun_pushed": pushed[1],
        "cpus": os.cpu_count() or 0,
    }


def _problems(*, orders, run, at_warehouse, floor, served, admin_status, inventory_runs, pushed_again) -> list[str]:
    """What makes the run's figures meaningless: each is reported, and the command exits non-zero."""
    problems = []
    if run.status != "succeeded" or int((run.counts or {}).get("delivered", 0)) != orders:
        problems.append(f"the sync ended {run.status} with {run.counts}: {run.error or 'no error recorded'}")
    if at_warehouse["warehouse_orders"] != orders or at_warehouse["warehouse_duplicates"]:
        problems.append(f"the warehouse sandbox holds {at_warehouse}")
    if at_warehouse["handler_errors"]:
        problems.append(f"the sandboxes answered {at_warehouse['handler_errors']} request(s) with a handler error")
    if floor.failed or served != floor.requests:
        problems.append(f"the floor replay got {dict(floor.statuses)} ({served} served of {floor.requests})")
    if admin_status != 200:
        problems.append(f"the admin changelist answered {admin_status}")
    problems += [f"an inventory run ended {r.status}: {r.error}" for r in inventory_runs if r.status != "succeeded"]
    if pushed_again:
        problems.append(f"the inventory rerun pushed {pushed_again} level(s) though nothing changed")
    return problems


def _throttled(say: Callable[[str], None], every: float = 2.0) -> Callable[[str], None]:
    last = [0.0]

    def progress(text: str) -> None:
        now = time.monotonic()
        if now - last[0] >= every:
            last[0] = now
            say(f"  {text}")

    return progress


def _profiles_dump(profiles: dict[str, cProfile.Profile], directory: str, top: int = 25) -> str:
    """Each step's profile into ``directory/<step>.prof``; their heaviest functions as text."""
    os.makedirs(directory, exist_ok=True)
    text = io.StringIO()
    for step, profile in profiles.items():
        path = os.path.join(directory, f"{step}.prof")
        profile.dump_stats(path)
        text.write(f"\n=== {step} ({path}) ===\n")
        stats = pstats.Stats(profile, stream=text).strip_dirs()
        stats.sort_stats("tottime").print_stats(top)
        stats.sort_stats("cumulative").print_stats(top)
    return text.getvalue()
