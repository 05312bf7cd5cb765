"""The chaos run's worker processes: each runs the sync cycle in a loop on its own database connection,
and the harness SIGKILLs and restarts them.

A worker is a fresh interpreter (multiprocessing's "spawn" start method: nothing inherited from the
harness, no copied database connection, as a django-q2 worker started on another machine). It loads the
harness's settings module, points its default database at the harness's database (the test database
too, when the harness runs under pytest), applies the run's scaled-down settings, calls
``django.setup()`` and then runs ``cycle_pass`` until told to stop.

Shared with the harness, lock-free (a worker SIGKILLed while holding a lock would leave it held): the
phase (orders, shipments, stop) and one counter per worker slot, raised at the start of each pass.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

PHASE_ORDERS, PHASE_SHIPMENTS, PHASE_STOP = 0, 1, 2


@dataclass
class WorkerConfig:
    """What a worker needs to know; pickled into each spawned process."""

    cart_id: int
    settings_module: str
    database: dict[str, Any]
    overrides: dict[str, Any] = field(default_factory=dict)
    pause_seconds: float = 0.05


def worker_main(config: WorkerConfig, phase: Any, beats: Any, slot: int) -> None:
    """A worker process's whole life: set Django up as configured, then sync until the phase says stop."""
    os.environ["DJANGO_SETTINGS_MODULE"] = config.settings_module
    from django.conf import settings

    settings.DATABASES = {"default": config.database}
    for name, value in config.overrides.items():
        setattr(settings, name, value)
    import django

    django.setup()
    from django.db import connections

    from sandbox.chaos.cycle import cycle_pass

    while phase.value != PHASE_STOP:
        beats[slot] += 1
        try:
            cycle_pass(config.cart_id, shipments=phase.value == PHASE_SHIPMENTS)
        except Exception:  # the services never raise; the database can (e.g. locked for too long): go on
            traceback.print_exc()
            connections.close_all()
            time.sleep(0.5)
        time.sleep(config.pause_seconds)
    connections.close_all()


class WorkerPool:
    """``size`` worker processes of ``context`` (use "spawn"), each in a slot that can be killed and refilled."""

    def __init__(self, context: Any, config: WorkerConfig, size: int) -> None:
        self.context = context
        self.config = config
        self.size = size
        self.phase = context.RawValue("i", PHASE_ORDERS)
        self.beats = context.RawArray("i", size)
        self._processes: list[Any] = [None] * size
        self._lock = threading.Lock()

    def start(self) -> None:
        with self._lock:
            for slot in range(self.size):
                self._spawn(slot)

    def _spawn(self, slot: int) -> None:
        self.beats[slot] = 0
        process = self.context.Process(
            target=worker_main,
            args=(self.config, self.phase, self.beats, slot),
            name=f"chaos-worker-{slot}",
            daemon=True,
        )
        process.start()
        self._processes[slot] = process

    def working(self) -> list[int]:
        """Slots whose worker is alive and has started a pass (set up, not still booting)."""
        with self._lock:
            return [s for s, p in enumerate(self._processes) if p.is_alive() and self.beats[s] > 0]

    def kill_and_restart(self, slot: int) -> int:
        """SIGKILL the worker in ``slot`` (wherever it is: mid-request, mid-transaction), then start
        another in its place. Returns the killed process's pid."""
        with self._lock:
            process = self._processes[slot]
            process.kill()
            process.join(timeout=10)
            self._spawn(slot)
            return process.pid

    def check(self) -> None:
        """Raise when a worker ended by itself (it only ends when told to): its setup failed."""
        with self._lock:
            for slot, process in enumerate(self._processes):
                if not process.is_alive() and self.phase.value != PHASE_STOP:
                    raise RuntimeError(f"chaos worker {slot} exited by itself (exit code {process.exitcode})")

    def stop(self, timeout: float = 30) -> None:
        """Let each worker finish its pass and exit; kill those that do not within ``timeout``."""
        self.phase.value = PHASE_STOP
        deadline = time.monotonic() + timeout
        with self._lock:
            for process in self._processes:
                if process is not None:
                    process.join(timeout=max(0.1, deadline - time.monotonic()))
            for process in self._processes:
                if process is not None and process.is_alive():
                    process.kill()
                    process.join(timeout=10)
