"""The worker's side of the inbox: the notified orders read from the cart and delivered, by one run.

A connection's pending notifications are taken together. One whose order was read after the
notification was made (another notification's run read it since) is superseded: nothing to do,
which is what keeps a late, out-of-order notification from changing anything. The others' orders
are read by id in one orders run (`sync.cycle`, the same intake and delivery as polling, under the
same lock): the cart's current state is stored once, and an order we hold already changes only if
the cart changed it. A run that fails leaves them for another try, and after `MAX_ATTEMPTS` to polling.

A notification stored while a run holds the lock is not left for the sweep: its own drain is
skipped, but the drain that holds the lock takes the connection's waiting rows again after each
run until none is left (at most `MAX_ROUNDS` runs), and a polling run, once it lets the lock go,
queues a drain when rows wait (`inbox_drain_queue_if_waiting`). The sweep only catches what a lost
task left behind.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Max
from django.utils import timezone

from integrations.models import CartConnection, SyncOutcome
from sync.cycle import cart_connection_sync_orders
from sync.models import WebhookNotification
from sync.webhooks.inbox import notifications_waiting

MAX_ATTEMPTS = 5
# Runs one drain makes at most, for rows that keep arriving while it runs (then the next drain goes on).
MAX_ROUNDS = 20
Outcome = WebhookNotification.Outcome


def _superseded(connection: CartConnection, pending: list[WebhookNotification]) -> list[WebhookNotification]:
    """The pending rows whose order was read (by a handled notification's run) after they were made."""
    ids = {row.cart_order_id for row in pending}
    last_read = dict(
        WebhookNotification.objects.filter(cart_connection=connection, cart_order_id__in=ids, outcome=Outcome.IMPORTED)
        .values("cart_order_id")
        .annotate(last=Max("handled_at"))
        .values_list("cart_order_id", "last")
    )
    return [row for row in pending if last_read.get(row.cart_order_id) and last_read[row.cart_order_id] >= row.event_at]


def inbox_drain(*, connection_id: int) -> str:
    """Handle the connection's pending notifications, again after each run while new ones came in
    meanwhile; a summary for the task's result."""
    connection = CartConnection.objects.select_related("merchant", "warehouse").filter(pk=connection_id).first()
    pending_rows = notifications_waiting(connection_id=connection_id)
    if connection is None or not (connection.active and connection.merchant.active):
        gone = pending_rows.update(handled_at=timezone.now(), outcome=Outcome.GONE)
        return f"cart connection {connection_id} is gone or inactive: {gone} notification(s) set aside"
    tried: set[int] = set()  # rows a failed run of this drain left for a later try
    results = []
    for _round in range(MAX_ROUNDS):
        pending = [row for row in pending_rows.all() if row.pk not in tried]
        if not pending:
            break
        result, ran = _drain_round(connection, pending)
        results.append(result)
        if not ran:
            break
        tried.update(row.pk for row in pending)
    return "; ".join(results) or f"{connection}: no notification waiting"


def _drain_round(connection: CartConnection, pending: list[WebhookNotification]) -> tuple[str, bool]:
    """One run over these rows: the summary, and whether it held the lock (False: another run has it)."""
    superseded = _superseded(connection, pending)
    WebhookNotification.objects.filter(pk__in=[r.pk for r in superseded]).update(
        handled_at=timezone.now(), outcome=Outcome.SUPERSEDED
    )
    rest = [r for r in pending if r not in superseded]
    if not rest:
        return f"{connection}: {len(superseded)} notification(s) superseded, nothing to read", True
    order_ids = list(dict.fromkeys(r.cart_order_id for r in rest))
    run = cart_connection_sync_orders(connection=connection, cart_order_ids=order_ids)
    rows = WebhookNotification.objects.filter(pk__in=[r.pk for r in rest])
    if run.status == SyncOutcome.SKIPPED:
        waiting = f"{len(rest)} notification(s) wait for it to finish"
        return f"{connection}: another orders run is in progress; {waiting}", False
    if run.status in (SyncOutcome.SUCCEEDED, SyncOutcome.PARTIAL):
        rows.update(handled_at=timezone.now(), outcome=Outcome.IMPORTED, sync_run=run)
        return f"{connection}: {len(order_ids)} notified order(s) read in orders run {run.pk} ({run.status})", True
    for row in rest:
        row.attempts += 1
        if row.attempts >= MAX_ATTEMPTS:
            row.handled_at, row.outcome = timezone.now(), Outcome.GAVE_UP
        row.sync_run = run
        row.save(update_fields=["attempts", "handled_at", "outcome", "sync_run"])
    return f"{connection}: orders run {run.pk} {run.status}; {len(rest)} notification(s) to try again", True


def inbox_prune() -> int:
    """Delete handled notifications older than `WEBHOOK_INBOX_RETENTION_DAYS`; returns how many."""
    cutoff = timezone.now() - timedelta(days=settings.WEBHOOK_INBOX_RETENTION_DAYS)
    return WebhookNotification.objects.filter(handled_at__lt=cutoff).delete()[0]
