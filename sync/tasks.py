"""django-q2 tasks of the sync app: thin callers of its services, safe to run twice."""

from __future__ import annotations

from sync.heartbeat import heartbeat_beat
from sync.jobs import job_run
from sync.reconcile.result import totals
from sync.reconcile.run import DEFAULT_DAYS, reconcile


def reconcile_task(*, days: int = DEFAULT_DAYS) -> str:
    """The daily reconciliation of every active cart connection (each result recorded, each gap a problem)."""
    summed = totals(results=reconcile(days=days))
    return (
        f"reconciled {summed['connections']} connection(s), {summed['cart_orders']} cart order(s): "
        f"{summed['gaps']} gap(s), {summed['unreadable']} not readable"
    )


def job_run_task(*, job_id: int) -> str:
    """A job a person queued (sync now, send now, test connection)."""
    return job_run(job_id=job_id)


def heartbeat_task() -> str:
    """The one-minute beat that keeps an idle worker seen (`sync.heartbeat`)."""
    heartbeat_beat(force=True)
    return "worker alive"
