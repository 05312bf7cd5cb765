"""A sync run's record while it runs: started under its lease, its counts written as it goes (the
lease renewed with them), and closed as interrupted once its worker is gone.

A worker can die at any moment (SIGKILL, django-q2's task timeout, a restart, a lost machine); its run
would stay *running* for ever. The run holds a lease (`SyncLock`, renewed at each checkpoint); a
running run that no longer holds it has no worker left, and the sweep, or the next run of the same
sync, closes it as *interrupted* with the counts it had recorded.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from integrations.models import CartConnection, SyncOutcome, WMSConnection
from orders.models import SyncLock, SyncRun
from orders.services.records.locks import lease_acquire, sync_lock_release, sync_lock_renew

INTERRUPTED_MESSAGE = (
    "Interrupted: its worker stopped before the run finished (killed, timed out or restarted) and its "
    "lease ran out. Its counts are what it had recorded by then; the next run carries on, and asks the "
    "warehouse about any order it may have been sending before sending it again."
)


@dataclass(frozen=True)
class RunLease:
    """The `SyncLock` a run holds: its key and the token it was taken with."""

    key: str
    token: str


def counting_into(counts: dict[str, int] | None, *keys: str) -> dict[str, int]:
    """The dict a step counts into: the caller's when given, so that what the step did so far is
    known (and recorded) also when it stops midway; `keys` start at 0."""
    counts = {} if counts is None else counts
    for key in keys:
        counts.setdefault(key, 0)
    return counts


@contextmanager
def run_lease(*, key: str) -> Iterator[str | None]:
    """`with run_lease(key=key) as token:` the lease a sync run runs under (None: another run has it, do
    not run). Taken over from a holder whose lease ran out, the dead worker's run of the same key is
    first closed as interrupted. A lease its holder let go leaves no run behind (the rare run whose
    finish failed after it is closed by the one-minute sweep), so an idle run reads nothing for it."""
    token, taken_over = lease_acquire(key=key)
    try:
        if taken_over:
            sync_runs_close_interrupted(key=key)
        yield token
    finally:
        if token is not None:
            sync_lock_release(key=key, token=token)


def sync_run_start(*, kind: str, merchant_id: int, lease: RunLease, **side: object) -> SyncRun:
    """The run's row, recorded with the lease it runs under (`side`: its cart connection and/or warehouse)."""
    return SyncRun.objects.create(
        kind=kind, merchant_id=merchant_id, lock_key=lease.key, lock_token=lease.token, **side
    )


class RunCheckpoint:
    """The `progress` callback a run hands its steps. Besides telling the person watching (the
    callback it wraps), it writes the run's counts so far and renews its lease: a run whose worker
    dies shows what it had done, and a run that keeps making progress is never taken for dead. It writes
    at most once every `EVERY_SECONDS` (a page of orders takes a few milliseconds: two writes per page
    would be a third of the import's queries), so what an interrupted run shows is at most that old.
    While nothing but pages has been counted it writes nothing (the run's row and lease are fresh):
    an idle run, which reads one empty page, costs no write here."""

    EVERY_SECONDS = 1.0

    def __init__(
        self,
        run: SyncRun,
        lease: RunLease,
        counts: dict[str, int],
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.run, self.lease, self.counts, self.progress = run, lease, counts, progress
        self._written_at: float | None = None

    def __call__(self, text: str) -> None:
        if self.progress is not None:
            self.progress(text)
        now = time.monotonic()
        if self._written_at is None and not any(v for k, v in self.counts.items() if k != "pages"):
            return
        if self._written_at is not None and now - self._written_at < self.EVERY_SECONDS:
            return
        self._written_at = now
        SyncRun.objects.filter(pk=self.run.pk).update(counts=dict(self.counts))
        sync_lock_renew(key=self.lease.key, token=self.lease.token)


def sync_runs_close_interrupted(*, key: str | None = None) -> int:
    """Close as interrupted each running run (of lease `key`, or all) that no longer holds its lease;
    its counts stay as it recorded them. Returns how many were closed."""
    now = timezone.now()
    lease_held = SyncLock.objects.filter(key=OuterRef("lock_key"), owner=OuterRef("lock_token"), locked_until__gte=now)
    orphaned = Q(~Q(lock_key=""), ~Exists(lease_held))
    if key is None:  # runs recorded without their lease: once older than any lease
        orphaned |= Q(lock_key="", started_at__lt=now - timedelta(seconds=settings.SYNC_LOCK_SECONDS))
    runs = SyncRun.objects.filter(orphaned, status=SyncOutcome.RUNNING)
    if key is not None:
        runs = runs.filter(lock_key=key)
    closed = 0
    for run in runs.only("pk", "cart_connection_id", "warehouse_id", "started_at", "error"):
        error = "\n".join(filter(None, [run.error, INTERRUPTED_MESSAGE]))
        if SyncRun.objects.filter(pk=run.pk, status=SyncOutcome.RUNNING).update(
            status=SyncOutcome.INTERRUPTED, finished_at=now, error=error
        ):
            _connection_note_interrupted(run, now)
            closed += 1
    return closed


def _connection_note_interrupted(run: SyncRun, now) -> None:
    """Show the interruption as the connection's last sync, unless a later run has finished since."""
    if run.cart_connection_id:
        model, pk = CartConnection, run.cart_connection_id
    else:
        model, pk = WMSConnection, run.warehouse_id
    model.objects.filter(pk=pk).filter(Q(last_sync_at__isnull=True) | Q(last_sync_at__lte=run.started_at)).update(
        last_sync_at=now, last_sync_status=SyncOutcome.INTERRUPTED, last_sync_message=INTERRUPTED_MESSAGE
    )
