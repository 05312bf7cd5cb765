"""django-q2 tasks of the sync app: thin callers of its services, safe to run twice."""

from __future__ import annotations

from integrations.models import CartConnection
from integrations.webhooks import webhooks_remove
from sync.heartbeat import heartbeat_beat
from sync.jobs import job_run
from sync.reconcile.result import totals
from sync.reconcile.run import DEFAULT_DAYS, reconcile
from sync.webhooks.pump import inbox_drain_pump
from sync.webhooks.subscriptions import webhooks_check


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


def webhook_inbox_drain_task(*, connection_id: int) -> str:
    """The notified orders of one cart connection read and delivered, and other connections' waiting
    ones alongside (`sync.webhooks.pump`)."""
    return inbox_drain_pump(connection_id=connection_id)


def webhooks_check_task() -> str:
    """The daily check of every cart connection's webhook subscriptions at its platform."""
    return webhooks_check()


def webhooks_remove_task(*, connection_id: int) -> str:
    """A deactivated connection's webhook subscriptions removed at its platform and here."""
    connection = CartConnection.objects.filter(pk=connection_id).first()
    if connection is None or connection.active:
        return f"cart connection {connection_id}: gone or active again, nothing removed"
    return f"{connection}: {webhooks_remove(connection=connection)} webhook subscription(s) removed"
