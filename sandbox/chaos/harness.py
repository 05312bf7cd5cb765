"""The chaos run: sandboxes in their own process, workers in theirs, a killer thread, and the verdict.

1. A child process starts the Squarespace and Bergen sandboxes (the warehouse storing a repeated
   reference again with ``accept_duplicate_references``); the harness seeds them (the cart's N orders, a
   tenth of them invalid, and the warehouse's stock), plants the duplicate canary in the warehouse and
   sets the fault rate on both.
2. A fresh merchant (``chaos-<timestamp>``) is wired to them in the database.
3. W worker processes run the cycle (``cycle.cycle_pass``) in a loop. When every order is delivered or
   held, the warehouse sandbox ships every order it holds and the workers add the shipments sync;
   the run has settled when every parcel's tracking was accepted by the cart (or refused, for an order
   the cart canceled). With cancel and edit rates, the cart changes orders at their moments meanwhile
   (``cart_changes.ChangeDriver``); shipping and settling wait until those changes are made, seen by
   our import and passed on (``change_figures.changes_unsettled``).
4. Meanwhile a killer thread SIGKILLs a random working worker K times and starts another in its place.
   The kills are spread over the run: each is due once the run's progress (half orders, half tracking)
   passes a random point, and comes a random moment after that.
5. Workers stopped, the outcome is read from the database and from both sandboxes (``cycle_report``); the
   duplicates at the warehouse are counted in its own store, and the canary must be among them.

The workers run with timeouts, retry backoffs, throttle waits, claim and lock leases scaled down
(``OVERRIDES``), so that a worker killed mid-delivery is taken over in seconds rather than minutes and a
failed delivery or tracking push is retried seconds later. Settings are the only way the harness shortens
time: it never writes the rows under test.
"""

from __future__ import annotations

import copy
import math
import multiprocessing
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils import timezone

from integrations.checks import send_seconds_at_most
from sandbox.chaos.change_figures import changes_unsettled
from sandbox.chaos.cycle import (
    chaos_merchant_retire,
    cycle_diagnosis,
    cycle_report,
    cycle_state,
    wire_chaos_merchant,
)
from sandbox.chaos.sandboxes import SandboxProcess
from sandbox.chaos.scenario import chaos_changes, chaos_orders
from sandbox.chaos.workers import PHASE_SHIPMENTS, WorkerConfig, WorkerPool

# Settings the workers run with (the harness's own process keeps its settings).
OVERRIDES: dict[str, Any] = {
    "HTTP_TIMEOUT_SECONDS": 1.0,
    "HTTP_MAX_RETRIES": 2,
    "HTTP_BACKOFF_SECONDS": 0.01,
    "HTTP_MAX_THROTTLE_WAIT_SECONDS": 1.5,
    "SYNC_LOCK_SECONDS": 12,
    "ORDER_IMPORT_LAG_SECONDS": 0,
    # A failed delivery or tracking push is retried after 0.2, 0.4, 0.8... s, at most 2 s.
    "DELIVERY_RETRY_BASE_SECONDS": 0.2,
    "DELIVERY_RETRY_CAP_SECONDS": 2.0,
    "TRACKING_PUSH_RETRY_BASE_SECONDS": 0.2,
    "TRACKING_PUSH_RETRY_CAP_SECONDS": 2.0,
}
# The shortest claim lease the system check accepts with these HTTP settings (8 s).
OVERRIDES["DELIVERY_CLAIM_LEASE_SECONDS"] = math.ceil(
    send_seconds_at_most(
        timeout=OVERRIDES["HTTP_TIMEOUT_SECONDS"],
        retries=OVERRIDES["HTTP_MAX_RETRIES"],
        throttle_wait=OVERRIDES["HTTP_MAX_THROTTLE_WAIT_SECONDS"],
    )
)
# A "timeout" fault holds the request longer than the workers' HTTP timeout; a 429 asks for a short wait.
FAULT_TIMEOUT_DELAY = 1.5
FAULT_RETRY_AFTER = 1.0
POLL_SECONDS = 0.5
STALL_SECONDS = 20


@dataclass
class ChaosOptions:
    orders: int = 200
    fault_rate: float = 0.2
    kills: int = 3
    workers: int = 1
    seed: int | None = None
    time_limit: float = 170.0
    accept_duplicate_references: bool = False
    cancel_rate: float = 0.0
    edit_rate: float = 0.0


class Killer(threading.Thread):
    """SIGKILLs a random working worker ``kills`` times, each once ``progress`` (0..1, set by the harness)
    passes a random point, a random moment after that; the pool starts another worker in its place."""

    def __init__(self, pool: WorkerPool, kills: int, rng: random.Random, say: Callable[[str], None]) -> None:
        super().__init__(name="chaos-killer", daemon=True)
        self.pool = pool
        self.planned = kills
        self.rng = rng
        self.say = say
        self.thresholds = sorted(rng.uniform(0.02, 0.95) for _ in range(kills))
        self.progress = 0.0
        self.kills = 0
        self._stopping = threading.Event()

    @property
    def done(self) -> bool:
        return self.kills >= self.planned

    def stop(self) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join(timeout=15)

    def run(self) -> None:
        for threshold in self.thresholds:
            while self.progress < threshold or not self.pool.working():
                if self._stopping.wait(0.1):
                    return
            if self._stopping.wait(self.rng.uniform(0.2, 1.5)):
                return
            working = self.pool.working()
            if not working:
                continue
            slot = self.rng.choice(working)
            pid = self.pool.kill_and_restart(slot)
            self.kills += 1
            self.say(f"killed worker {slot} (pid {pid}) with SIGKILL at {self.progress:.0%}; restarted it")


def _progress(done: float, total: int) -> float:
    return done / total if total else 1.0


def run_chaos(options: ChaosOptions, *, say: Callable[[str], None] = lambda text: None) -> dict[str, Any]:
    """One chaos run against the default database; returns the outcome (see ``cycle_report``) with
    ``kills``, ``faults_injected``, ``seconds``, ``settled`` and ``problems`` (empty when it held).

    Long because the run's steps read in order, each needed in the ``finally`` that stops what was started."""
    if options.orders < 1:
        raise ValueError("a chaos run needs at least one order")
    seed = options.seed if options.seed is not None else secrets.randbelow(10**6)
    rng = random.Random(seed)
    context = multiprocessing.get_context("spawn")
    started = time.monotonic()
    scenario = chaos_orders(options.orders, seed=seed)
    sandboxes = SandboxProcess(context, accept_duplicate_references=options.accept_duplicate_references)
    addresses = sandboxes.start()
    say(
        f"sandboxes up in their own process (pid {sandboxes.process.pid}): {addresses['squarespace_url']}, "
        f"{addresses['bergen_url']}"
        f"{' (accepting duplicate references)' if options.accept_duplicate_references else ''}; seed {seed}"
    )
    pool: WorkerPool | None = None
    killer: Killer | None = None
    cart_id: int | None = None
    settled = False
    try:
        sandboxes.call("seed", orders=scenario, stock_per_sku=options.orders * 10 + 100)
        sandboxes.call("plant_duplicate_canary")
        changes = chaos_changes(scenario, cancel_rate=options.cancel_rate, edit_rate=options.edit_rate, seed=seed)
        sandboxes.call("plan_changes", changes=changes)
        slug = f"chaos-{timezone.now():%Y%m%d-%H%M%S-%f}"
        cart_id = wire_chaos_merchant(addresses, slug=slug).pk
        sandboxes.call(
            "set_fault_rate",
            rate=options.fault_rate,
            seed=seed,
            timeout_delay=FAULT_TIMEOUT_DELAY,
            retry_after=FAULT_RETRY_AFTER,
        )
        config = WorkerConfig(
            cart_id=cart_id,
            settings_module=settings.SETTINGS_MODULE,
            database=copy.deepcopy(connections["default"].settings_dict),
            overrides=dict(OVERRIDES),
        )
        pool = WorkerPool(context, config, options.workers)
        pool.start()
        killer = Killer(pool, options.kills, rng, say)
        killer.start()
        say(
            f"merchant {slug}: {options.orders} orders, {options.workers} worker(s), faults at {options.fault_rate:.0%}"
        )
        settled = _watch(options, cart_id, sandboxes, pool, killer, started, say)
    finally:
        if killer is not None:
            killer.stop()
        if pool is not None:
            pool.stop()
        try:
            sides = sandboxes.call("report", cart_connection_id=cart_id)
        finally:
            sandboxes.stop()
        if cart_id is not None:
            chaos_merchant_retire(cart_id)
    result = cycle_report(cart_id, scenario, sides)
    result.update(_run_figures(options, sides, killer, started, seed, slug), settled=settled)
    result["problems"] = chaos_problems(result, sides)
    if not settled:
        result["diagnosis"] = cycle_diagnosis(cart_id)
    return result


def _run_figures(
    options: ChaosOptions, sides: dict[str, Any], killer: Killer, started: float, seed: int, slug: str
) -> dict[str, Any]:
    """What the run was: its options, kills, faults and time."""
    return dict(
        kills=killer.kills,
        faults_injected=sides["faults_by_mode"],
        faults_total=sum(sides["faults_by_mode"].values()),
        requests=sides["requests"],
        seconds=round(time.monotonic() - started, 1),
        seed=seed,
        workers=options.workers,
        fault_rate=options.fault_rate,
        accept_duplicate_references=options.accept_duplicate_references,
        cancel_rate=options.cancel_rate,
        edit_rate=options.edit_rate,
        database=connections["default"].vendor,
        merchant=slug,
    )


def _watch(
    options: ChaosOptions,
    cart_id: int,
    sandboxes: SandboxProcess,
    pool: WorkerPool,
    killer: Killer,
    started: float,
    say: Callable[[str], None],
) -> bool:
    """Follow the run until it settles (True) or the time limit passes (False), making the cart's changes
    as their moments come; ship when the orders and the changes made before shipping have settled."""
    parcels: int | None = None
    last_said = 0.0
    last_state, moved_at = None, time.monotonic()
    while time.monotonic() - started < options.time_limit:
        pool.check()
        state = cycle_state(cart_id)
        drive = sandboxes.call("drive_changes")
        changes = changes_unsettled(cart_id, drive["made"])
        changes_settled = changes["unseen"] == 0 and changes["pending"] == 0
        if (state, changes) != last_state:
            last_state, moved_at = (state, changes), time.monotonic()
        elif time.monotonic() - moved_at >= STALL_SECONDS:
            moved_at = time.monotonic()
            say(f"no progress for {STALL_SECONDS} s: {cycle_diagnosis(cart_id)}, worker passes {list(pool.beats)}")
        if parcels is None:
            done = state.delivered + state.held + state.canceled + state.skipped
            killer.progress = 0.5 * _progress(done, options.orders)
            if state.orders_settled(options.orders) and changes_settled and not drive["left_before_shipping"]:
                parcels = sandboxes.call("ship_all", tracking_prefix=f"1ZCHAOS{cart_id}-")
                pool.phase.value = PHASE_SHIPMENTS
                say(f"every order delivered, held or canceled; the warehouse shipped {parcels} parcel(s)")
        else:
            killer.progress = 0.5 + 0.5 * _progress(state.shipments_accepted, parcels)
            if state.shipments_settled(parcels) and changes_settled and not drive["left"] and killer.done:
                return True
        if time.monotonic() - last_said >= 5:
            last_said = time.monotonic()
            say(
                f"{last_said - started:5.1f} s: orders imported {state.imported}/{options.orders}, delivered "
                f"{state.delivered}, held {state.held}, canceled {state.canceled + state.skipped}; cart changes "
                f"made {len(drive['made'])}, left {drive['left']}, not yet seen {changes['unseen']}, pending "
                f"{changes['pending']}; tracking accepted {state.shipments_accepted}/"
                f"{'?' if parcels is None else parcels}; kills {killer.kills}/{killer.planned}"
            )
        time.sleep(POLL_SECONDS)
    return False


def chaos_problems(result: dict[str, Any], sides: dict[str, Any]) -> list[str]:
    """What broke the promises (empty: every order delivered once or held, every parcel's tracking at the
    cart once)."""
    problems = []
    if not result["settled"]:
        problems.append("the run did not settle within the time limit")
    accounted = result["delivered"] + result["held"] + result["canceled"] + result["skipped_canceled"]
    if accounted != result["orders"]:
        problems.append(f"delivered + held + canceled = {accounted}, not {result['orders']}")
    if not result["duplicate_canary_seen"]:
        problems.append("the duplicate canary planted at the warehouse was not seen: its counts prove nothing")
    for key in (
        "lost",
        "wrongly_sent",
        "warehouse_duplicates",
        "warehouse_duplicate_orders",
        "tracking_duplicates",
        "tracking_missing",
        "held_without_reason",
        "shipped_after_cancel_unflagged",
        "shipped_stale_unflagged",
    ):
        if result[key]:
            problems.append(f"{key} = {result[key]}")
    told = result["shipments_pushed"] + result["tracking_refused_canceled"]
    if told != result["parcels_shipped"]:
        problems.append(f"{told} shipments pushed (or refused: canceled) of {result['parcels_shipped']} shipped")
    problems += [f"sandbox handler error: {error}" for error in sides["handler_errors"]]
    return problems
