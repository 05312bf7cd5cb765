"""django-q2 tasks of the sync app: thin callers of its services, safe to run twice."""

from __future__ import annotations

from sync.reconcile.result import totals
from sync.reconcile.run import DEFAULT_DAYS, reconcile


def reconcile_task(*, days: int = DEFAULT_DAYS) -> str:
    """The daily reconciliation of every active cart connection (each result recorded, each gap a problem)."""
    summed = totals(results=reconcile(days=days))
    return (
        f"reconciled {summed['connections']} connection(s), {summed['cart_orders']} cart order(s): "
        f"{summed['gaps']} gap(s), {summed['unreadable']} not readable"
    )
