"""One order sync of a cart connection: import, then deliver; recorded as a SyncRun.

Connection-level failures (credentials refused, platform unreachable, a page that cannot be read,
a long rate limit) end the run with a readable error on the run and on the connection; what was
stored before stays stored, and the next run carries on from the watermark. How a run is finished
and classified here serves the return path too (`sync.return_path`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from integrations.accounts import connection_account_learn
from integrations.connectors.base import WarehouseConnector
from integrations.connectors.errors import CallTurnedOffError, ConnectorError, ThrottledError
from integrations.cooldowns import cooldown_key, cooldown_record, cooldowns_wait_short
from integrations.models import CartConnection, SyncOutcome, WMSConnection
from integrations.services import ConnectionNotConfigured, connection_mark_auth_problem, warehouse_connector_for
from integrations.tenancy import CrossMerchantLink
from orders.models import SyncRun
from orders.selectors import (
    ClaimedElsewhere,
    InHoldWindow,
    delivery_work_waiting,
    orders_claimed_elsewhere,
    orders_in_hold_window,
)
from orders.services.changes.send import pending_changes_send
from orders.services.delivery.batch import BatchDeliverer
from orders.services.delivery.claims import TAKEN
from orders.services.delivery.deliver import pending_orders_deliver
from orders.services.delivery.turns import DEFERRED, DeliveryTurn
from orders.services.intake.pages import IMPORT_COUNTS, cart_orders_import, cart_orders_import_by_id
from orders.services.records.health import FailureKind, connection_record_run, failure_kind
from orders.services.records.locks import lock_key
from orders.services.records.sync_runs import RunCheckpoint, RunLease, run_lease, sync_run_start
from orders.services.translation.run_context import translation_context_factory
from orders.services.translation.translate import TranslationContext
from sync.webhooks.inbox import inbox_drain_queue_if_waiting
from sync.webhooks.missed import missed_by_webhooks_count

log = logging.getLogger(__name__)


def cart_connections_for_sync(
    *, merchant_slug: str | None = None, connection_id: int | None = None
) -> QuerySet[CartConnection]:
    qs = CartConnection.objects.select_related("merchant", "warehouse").filter(active=True, merchant__active=True)
    if merchant_slug:
        qs = qs.filter(merchant__slug=merchant_slug)
    if connection_id:
        qs = qs.filter(pk=connection_id)
    return qs.order_by("merchant__name", "pk")


@dataclass
class RunFailure:
    """What a step raised, classified for the run and the connection's retry state."""

    kind: str = ""
    retry_after: float | None = None


def failure_classify(
    *,
    exc: BaseException,
    label: str,
    errors: list[str],
    connection: CartConnection | WMSConnection,
    failure: RunFailure,
) -> str:
    """Record a step's exception as a readable error; return the run outcome it means."""
    if isinstance(exc, CallTurnedOffError):  # not a failure: no retry, no problem, the reason said
        errors.append(str(exc))
        return SyncOutcome.NOT_SUPPORTED
    kind = failure_kind(exc)
    if not failure.kind or kind in (FailureKind.NEEDS_PERSON, FailureKind.PERMANENT):
        failure.kind = kind
    if isinstance(exc, ThrottledError):
        failure.retry_after = exc.retry_after
        if connection is not None and exc.retry_after:  # (also when a concurrent send met it: every run keeps to it)
            cooldown_record(cooldown_key(connection), seconds=exc.retry_after, reason=str(exc))
        errors.append(f"{label}: {exc}. The next run carries on.")
        return SyncOutcome.THROTTLED
    if isinstance(exc, (ConnectorError, ConnectionNotConfigured, CrossMerchantLink)):
        if connection is not None:
            connection_mark_auth_problem(connection=connection, exc=exc)
        errors.append(f"{label}: {exc}")
    else:
        log.error("%s: internal error", label, exc_info=exc)
        errors.append(f"{label}: internal error ({type(exc).__name__}: {exc})")
    return SyncOutcome.FAILED


def skipped_run(*, kind: str, connection: CartConnection | WMSConnection) -> SyncRun:
    side = {"cart_connection": connection} if isinstance(connection, CartConnection) else {"warehouse": connection}
    return SyncRun.objects.create(
        kind=kind,
        merchant_id=connection.merchant_id,
        status=SyncOutcome.SKIPPED,
        finished_at=timezone.now(),
        error="Skipped: another run of this sync for this connection is in progress.",
        **side,
    )


NEXT_TURN_TASK = "orders.tasks.sync_orders_task"


def cart_connection_sync_orders(
    *,
    connection: CartConnection,
    progress: Callable[[str], None] | None = None,
    cart_order_ids: list[str] | None = None,
    turn: DeliveryTurn | None = None,
) -> SyncRun:
    """Import new orders from one cart connection and deliver what is ready (with a `turn`, as many
    batches as it allows). Never raises.

    With `cart_order_ids` (orders a webhook named), only those orders are read, by id, instead of the listing
    since the watermark. Skipped (recorded as such) while another orders run of the same connection holds its lock."""
    key = lock_key(SyncRun.Kind.ORDERS, connection)
    with run_lease(key=key) as token:
        if token is None:
            return skipped_run(kind=SyncRun.Kind.ORDERS, connection=connection)
        run = _sync_orders(connection, RunLease(key, token), progress, turn or DeliveryTurn(), cart_order_ids)
    if cart_order_ids is None:  # a notification's drain skipped while this polling run held the lock
        inbox_drain_queue_if_waiting(connection_id=connection.pk)
    return run


def cart_connection_sync_orders_turn(*, connection: CartConnection) -> SyncRun:
    """One turn of a connection's orders sync on the shared workers: at most DELIVERY_BATCHES_PER_TURN
    batches delivered, then, when more is due, the connection's next turn queued behind the work already
    waiting. So a merchant's backlog never keeps another merchant's first order waiting for more than
    that many batches (on each worker)."""
    turn = DeliveryTurn(batches=settings.DELIVERY_BATCHES_PER_TURN)
    run = cart_connection_sync_orders(connection=connection, turn=turn)
    if turn.deferred:
        transaction.on_commit(lambda: async_task(NEXT_TURN_TASK, connection.pk, True, group="orderbridge-turns"))
    return run


def warehouse_connector_of(
    *, warehouse: WMSConnection | None, errors: list[str], notes: list[str]
) -> WarehouseConnector | None:
    """The connector orders are delivered through; None (with the reason in `errors` or `notes`)
    when there is no warehouse or it is not configured, and the orders are imported and held."""
    if warehouse is None:
        notes.append("No warehouse connected for this cart: orders are imported and held until one is.")
        return None
    try:
        connector = warehouse_connector_for(connection=warehouse)
    except ConnectionNotConfigured as exc:
        errors.append(f"Warehouse: {exc}")
        return None
    notes += _account_learned(warehouse, connector)
    return connector


def _sync_orders(
    connection: CartConnection,
    lease: RunLease,
    progress: Callable[[str], None] | None,
    turn: DeliveryTurn,
    cart_order_ids: list[str] | None = None,
) -> SyncRun:
    try:
        warehouse = connection.resolved_warehouse()
    except CrossMerchantLink as exc:
        return _refused_run(SyncRun.Kind.ORDERS, connection, exc)
    side = {"cart_connection": connection, "warehouse": warehouse}
    run = sync_run_start(kind=SyncRun.Kind.ORDERS, merchant_id=connection.merchant_id, lease=lease, **side)
    # Every step counts into this one dict as it goes; each checkpoint records it on the run.
    counts: dict[str, int] = dict.fromkeys(IMPORT_COUNTS, 0)
    checkpoint = RunCheckpoint(run, lease, counts, progress)
    cooldowns_wait_short([connection, warehouse], progress)
    errors: list[str] = []
    notes: list[str] = []
    failure = RunFailure()
    status = SyncOutcome.SUCCEEDED
    connector = warehouse_connector_of(warehouse=warehouse, errors=errors, notes=notes)
    context = translation_context_factory(connection=connection, warehouse=warehouse, connector=connector, notes=notes)
    # Orders ready to send go to the warehouse page by page, while the next page is read and stored.
    with (
        BatchDeliverer(connector, run, checkpoint, counts=counts, turn=turn) if connector is not None else nullcontext()
    ) as deliverer:
        try:
            _orders_import(connection, run, context, checkpoint, deliverer, counts, notes, cart_order_ids)
        except Exception as exc:
            status = failure_classify(exc=exc, label="Cart", errors=errors, connection=connection, failure=failure)
        if connector is not None:
            try:
                deliverer.finish()
                notes += _due_deliver(connection, connector, run, checkpoint, counts, turn)
            except Exception as exc:
                outcome = failure_classify(
                    exc=exc, label="Warehouse", errors=errors, connection=warehouse, failure=failure
                )
                status = status if status == SyncOutcome.FAILED else outcome
    if status == SyncOutcome.SUCCEEDED and (
        errors or counts.get("held") or counts.get("retry") or counts.get("rejected") or counts.get("not_sent")
    ):
        status = SyncOutcome.PARTIAL
    return sync_run_finish(
        run=run, connection=connection, status=status, counts=counts, errors=errors + notes, failure=failure
    )


def _orders_import(
    connection: CartConnection,
    run: SyncRun,
    context: Callable[[], TranslationContext],
    checkpoint: RunCheckpoint,
    deliverer: BatchDeliverer | None,
    counts: dict[str, int],
    notes: list[str],
    cart_order_ids: list[str] | None,
) -> None:
    """The run's import: the orders a webhook named, by id; else the listing since the watermark,
    counting what it found that no notification announced."""
    if cart_order_ids is not None:
        notes.append(f"Webhook: {len(cart_order_ids)} notified order(s) read by id.")
        cart_orders_import_by_id(
            connection=connection,
            run=run,
            cart_order_ids=cart_order_ids,
            context=context,
            delivery=deliverer,
            counts=counts,
        )
        return
    cart_orders_import(
        connection=connection,
        run=run,
        now=timezone.now(),
        context=context,
        progress=checkpoint,
        delivery=deliverer,
        counts=counts,
    )
    if any(value for key, value in counts.items() if key != "pages"):  # else the import touched no order
        missed_by_webhooks_count(connection=connection, run=run, counts=counts, notes=notes)


def _due_deliver(
    connection: CartConnection,
    connector: WarehouseConnector,
    run: SyncRun,
    progress: RunCheckpoint,
    counts: dict[str, int],
    turn: DeliveryTurn,
) -> list[str]:
    """After the import's own deliveries: what is due besides (retries, uncertain sends, other runs'
    leftovers), then the cart's changes to orders the warehouse has. Returns the run's notes on them."""
    for key in UNSENT_KEYS:  # those orders are due again, and tried again (and counted) just below
        counts.pop(key, None)
    if not delivery_work_waiting(cart_connection_id=connection.pk):  # one read instead of five finding nothing
        return delivery_notes(counts=counts)
    pending_orders_deliver(
        cart_connection_id=connection.pk, connector=connector, run=run, progress=progress, counts=counts, turn=turn
    )
    # Changes at the cart to orders the warehouse has, passed on and confirmed there.
    pending_changes_send(cart_connection_id=connection.pk, connector=connector, run=run, counts=counts)
    elsewhere = orders_claimed_elsewhere(cart_connection_id=connection.pk)
    in_window = orders_in_hold_window(cart_connection_id=connection.pk)
    return delivery_notes(counts=counts, elsewhere=elsewhere, in_window=in_window)


def _refused_run(kind: str, connection: CartConnection, exc: CrossMerchantLink) -> SyncRun:
    """A run that reads and sends nothing: the cart's warehouse is another merchant's. It fails as
    needing a person, so scheduled runs stop (and a problem is raised) until someone corrects it."""
    run = SyncRun.objects.create(kind=kind, merchant_id=connection.merchant_id, cart_connection=connection)
    return sync_run_finish(
        run=run,
        connection=connection,
        status=SyncOutcome.FAILED,
        counts={},
        errors=[f"Cart: {exc}"],
        failure=RunFailure(FailureKind.NEEDS_PERSON),
    )


def usable_carts(*, kind: str, connections: list[CartConnection]) -> tuple[list[CartConnection], list[SyncRun]]:
    """The carts whose warehouse may be used, and a refused run for each of the others."""
    usable, refused = [], []
    for connection in connections:
        try:
            connection.resolved_warehouse()
        except CrossMerchantLink as exc:
            refused.append(_refused_run(kind, connection, exc))
        else:
            usable.append(connection)
    return usable, refused


def _account_learned(warehouse: WMSConnection, connector: WarehouseConnector) -> list[str]:
    """Know the warehouse account before any reference is chosen (asked of the platform only while it is
    not known); if the platform cannot say now, the connection is its own account meanwhile."""
    try:
        connection_account_learn(warehouse, connector, ask=False)
    except ConnectorError as exc:
        return [
            f"The warehouse account could not be identified ({exc}): this run keeps references unique among this "
            "warehouse connection's orders only."
        ]
    return []


UNSENT_KEYS = ("not_sent", "claims_ran_out", DEFERRED)


def delivery_notes(
    *, counts: dict[str, int], elsewhere: ClaimedElsewhere | None = None, in_window: InHoldWindow | None = None
) -> list[str]:
    """Why orders due to be sent were not sent by this run, so that a run that sent nothing never
    reads as if there was nothing to send. Adds the orders claimed by another run, and those waiting
    in the connection's hold window, to `counts`."""
    notes = []
    if counts.get(DEFERRED):
        notes.append(
            f"{counts[DEFERRED]} order(s) left for this connection's next turn, queued behind other merchants' "
            f"work (a turn delivers at most DELIVERY_BATCHES_PER_TURN = {settings.DELIVERY_BATCHES_PER_TURN} "
            "batch(es))."
        )
    if in_window is not None and in_window.count:
        counts["in_hold_window"] = in_window.count
        notes.append(
            f"{in_window.count} order(s) wait in the connection's hold window: the first is sent by a run after "
            f"{in_window.first_ends:%Y-%m-%d %H:%M} UTC (or release it early on its page)."
        )
    if counts.get("claims_ran_out"):
        notes.append(
            f"{counts['claims_ran_out']} order(s) not sent: their delivery claim would have ended before a send "
            f"could finish (DELIVERY_CLAIM_LEASE_SECONDS is {settings.DELIVERY_CLAIM_LEASE_SECONDS} s). The next "
            "run sends them; if this repeats, `manage.py check` says how long the claim must be."
        )
    if counts.get(TAKEN):
        notes.append(f"{counts[TAKEN]} order(s) were taken by another run at the same moment: left to it.")
    if elsewhere is not None and elsewhere.count:
        counts["claimed_by_another_run"] = elsewhere.count
        notes.append(
            f"{elsewhere.count} order(s) are claimed by another run: being sent, or its worker stopped, and then "
            f"they are taken over after {elsewhere.last_claim_ends:%Y-%m-%d %H:%M:%S} UTC."
        )
    return notes


def sync_run_finish(
    *,
    run: SyncRun,
    connection: CartConnection | WMSConnection,
    status: str,
    counts: dict,
    errors: list[str],
    failure: RunFailure | None = None,
) -> SyncRun:
    failure = failure or RunFailure()
    run.status = status
    run.counts = counts
    run.finished_at = timezone.now()
    run.error = "\n".join(filter(None, [run.error, *errors]))
    run.failure_kind = failure.kind if status in (SyncOutcome.FAILED, SyncOutcome.THROTTLED) else ""
    run.save(update_fields=["status", "counts", "finished_at", "error", "failure_kind"])
    message = run.error[:2000] or summary(counts)
    last_sync = {"last_sync_at": run.finished_at, "last_sync_status": status, "last_sync_message": message}
    connection_record_run(connection=connection, run=run, retry_after=failure.retry_after, last_sync=last_sync)
    return run


def summary(counts: dict) -> str:
    parts = [f"{counts.get(k, 0)} {k}" for k in ("imported", "delivered", "held", "skipped") if counts.get(k)]
    return ", ".join(parts) or "nothing new"
