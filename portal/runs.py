"""What a connection's last syncs did, in words: one line per kind of run (orders, tracking, stock),
each from that run's own counts, so a tracking run that found nothing never hides the orders run
before it that imported six and held four."""

from __future__ import annotations

from dataclasses import dataclass

from integrations.models import CartConnection, Connection, SyncOutcome
from orders.models import SyncRun
from portal.scope import scoped

KIND_LABELS = {SyncRun.Kind.ORDERS: "Orders", SyncRun.Kind.SHIPMENTS: "Tracking", SyncRun.Kind.INVENTORY: "Stock"}
# Counts that describe the run's mechanics, not what it did for the merchant.
NOT_SHOWN = {"pages", "levels_read", "unverified_runs"}
FIRST = ("imported", "delivered", "held", "skipped")


@dataclass(frozen=True)
class RunLine:
    kind: str
    run: SyncRun
    text: str
    bad: bool


def run_summary(run: SyncRun) -> str:
    """ "imported 6, held 4"; a failure with its reason; "found nothing to do" only for a run that succeeded."""
    if run.status in (SyncOutcome.FAILED, SyncOutcome.INTERRUPTED, SyncOutcome.THROTTLED):
        reason = (run.error or "").strip().splitlines()
        return f"{run.get_status_display()}: {reason[0]}" if reason else run.get_status_display()
    if run.status in (SyncOutcome.SKIPPED, SyncOutcome.NOT_SUPPORTED):
        return run.get_status_display()
    counts = {
        key: value
        for key, value in (run.counts or {}).items()
        if type(value) is int and value > 0 and key not in NOT_SHOWN
    }
    order = sorted(counts, key=lambda key: (FIRST.index(key) if key in FIRST else len(FIRST), key))
    text = ", ".join(f"{key.replace('_', ' ')} {counts[key]}" for key in order) or "found nothing to do"
    if run.status == SyncOutcome.PARTIAL:
        text += f" ({run.get_status_display()}{': ' + run.error.splitlines()[0] if run.error.strip() else ''})"
    return text


def last_runs(connection: Connection) -> list[RunLine]:
    """The latest finished run of each kind for this connection, orders first."""
    side = "cart_connection" if isinstance(connection, CartConnection) else "warehouse"
    runs = scoped(SyncRun, connection.merchant).filter(**{side: connection}, finished_at__isnull=False)
    lines = []
    for kind, label in KIND_LABELS.items():
        run = runs.filter(kind=kind).order_by("-finished_at", "-pk").first()
        if run is not None:
            bad = run.status in (SyncOutcome.FAILED, SyncOutcome.INTERRUPTED, SyncOutcome.PARTIAL)
            lines.append(RunLine(kind=label, run=run, text=run_summary(run), bad=bad))
    return lines
