"""One order sync of a cart connection: import, then deliver; recorded as a SyncRun.

Connection-level failures (credentials refused, platform unreachable, a page that cannot be read,
a long rate limit) end the run with a readable error on the run and on the connection; what was
stored before stays stored, and the next run carries on from the watermark.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from integrations.accounts import connection_account_learn
from integrations.connectors.base import WarehouseConnector
from integrations.connectors.errors import ConnectorError, ThrottledError
from integrations.cooldowns import cooldown_key, cooldown_record, cooldowns_wait_short
from integrations.models import CartConnection, SyncOutcome, WMSConnection
from integrations.services import (
    ConnectionNotConfigured,
    cart_connector_for,
    connection_mark_auth_problem,
    warehouse_connector_for,
)
from integrations.tenancy import CrossMerchantLink
from inventory.services import cart_inventory_push, warehouse_stock_read
from orders.models import SyncRun
from orders.services.delivery import ClaimedElsewhere, orders_claimed_elsewhere, pending_orders_deliver
from orders.services.delivery_batch import TAKEN, BatchDeliverer
from orders.services.health import NEEDS_PERSON, PERMANENT, connection_record_run, failure_kind
from orders.services.intake.pages import IMPORT_COUNTS, cart_orders_import
from orders.services.locks import lock_key, sync_lock
from orders.services.shipments import warehouse_shipments_import
from orders.services.sync_runs import RunCheckpoint, RunLease, sync_run_start, sync_runs_close_interrupted
from orders.services.tracking import cart_tracking_push
from orders.services.translation import TranslationContext, load_context

log = logging.getLogger(__name__)


def cart_connections_for_sync(*, merchant_slug: str | None = None, connection_id: int | None = None):
    qs = CartConnection.objects.select_related("merchant", "warehouse").filter(active=True, merchant__active=True)
    if merchant_slug:
        qs = qs.filter(merchant__slug=merchant_slug)
    if connection_id:
        qs = qs.filter(pk=connection_id)
    return qs.order_by("merchant__name", "pk")


def warehouse_skus(connector: WarehouseConnector | None) -> tuple[set[str] | None, str]:
    """The warehouse's SKU list, or None with the reason when it cannot be read now."""
    if connector is None:
        return None, ""
    try:
        return connector.list_skus(), ""
    except ConnectorError as exc:
        return None, f"SKUs not checked before sending (the warehouse's list could not be read: {exc})"


def translation_context_factory(
    connection: CartConnection, warehouse: WMSConnection | None, connector: WarehouseConnector | None, notes: list[str]
) -> Callable[[], TranslationContext]:
    def build() -> TranslationContext:
        skus, note = warehouse_skus(connector)
        if note:
            notes.append(note)
        return load_context(
            merchant_id=connection.merchant_id, warehouse=warehouse, warehouse_skus=skus, warehouse_connector=connector
        )

    return build


@dataclass
class _Failure:
    """What a step raised, classified for the run and the connection's retry state."""

    kind: str = ""
    retry_after: float | None = None


def _classify(exc: BaseException, label: str, errors: list[str], connection, failure: _Failure) -> str:
    """Record a step's exception as a readable error; return the run outcome it means."""
    kind = failure_kind(exc)
    if not failure.kind or kind in (NEEDS_PERSON, PERMANENT):
        failure.kind = kind
    if isinstance(exc, ThrottledError):
        failure.retry_after = exc.retry_after
        if connection is not None and exc.retry_after:  # (also when a concurrent send met it: every run keeps to it)
            cooldown_record(cooldown_key(connection), seconds=exc.retry_after, reason=str(exc))
        errors.append(f"{label}: {exc}. The next run carries on.")
        return SyncOutcome.THROTTLED
    if isinstance(exc, (ConnectorError, ConnectionNotConfigured, CrossMerchantLink)):
        if connection is not None:
            connection_mark_auth_problem(connection, exc)
        errors.append(f"{label}: {exc}")
    else:
        log.error("%s: internal error", label, exc_info=exc)
        errors.append(f"{label}: internal error ({type(exc).__name__}: {exc})")
    return SyncOutcome.FAILED


def _skipped_run(kind: str, connection) -> SyncRun:
    side = {"cart_connection": connection} if isinstance(connection, CartConnection) else {"warehouse": connection}
    return SyncRun.objects.create(
        kind=kind,
        merchant_id=connection.merchant_id,
        status=SyncOutcome.SKIPPED,
        finished_at=timezone.now(),
        error="Skipped: another run of this sync for this connection is in progress.",
        **side,
    )


def cart_connection_sync_orders(
    *, connection: CartConnection, progress: Callable[[str], None] | None = None
) -> SyncRun:
    """Import new orders from one cart connection and deliver what is ready. Never raises.

    Skipped (recorded as such) while another orders run of the same connection holds its lock."""
    key = lock_key(SyncRun.Kind.ORDERS, connection)
    with sync_lock(key) as token:
        if token is None:
            return _skipped_run(SyncRun.Kind.ORDERS, connection)
        sync_runs_close_interrupted(key=key)  # an earlier run's worker died: its lease ran out
        return _sync_orders(connection, RunLease(key, token), progress)


def _sync_orders(connection: CartConnection, lease: RunLease, progress: Callable[[str], None] | None) -> SyncRun:
    try:
        warehouse = connection.resolved_warehouse()
    except CrossMerchantLink as exc:
        return _refused_run(SyncRun.Kind.ORDERS, connection, exc)
    run = sync_run_start(
        SyncRun.Kind.ORDERS, connection.merchant_id, lease, cart_connection=connection, warehouse=warehouse
    )
    # Every step counts into this one dict as it goes; each checkpoint records it on the run.
    counts: dict[str, int] = dict.fromkeys(IMPORT_COUNTS, 0)
    checkpoint = RunCheckpoint(run, lease, counts, progress)
    cooldowns_wait_short([connection, warehouse], progress)
    errors: list[str] = []
    notes: list[str] = []
    failure = _Failure()
    status = SyncOutcome.SUCCEEDED
    connector: WarehouseConnector | None = None
    if warehouse is not None:
        try:
            connector = warehouse_connector_for(warehouse)
        except ConnectionNotConfigured as exc:
            errors.append(f"Warehouse: {exc}")
        else:
            notes += _account_learned(warehouse, connector)
    else:
        notes.append("No warehouse connected for this cart: orders are imported and held until one is.")
    # Orders ready to send go to the warehouse page by page, while the next page is read and stored.
    with (
        BatchDeliverer(connector, run, checkpoint, counts=counts) if connector is not None else nullcontext()
    ) as deliverer:
        try:
            cart_orders_import(
                connection=connection,
                run=run,
                now=timezone.now(),
                context=translation_context_factory(connection, warehouse, connector, notes),
                progress=checkpoint,
                delivery=deliverer,
                counts=counts,
            )
        except Exception as exc:
            status = _classify(exc, "Cart", errors, connection, failure)
        if connector is not None:
            try:
                deliverer.finish()
                for key in UNSENT_KEYS:  # those orders are due again, and tried again (and counted) just below
                    counts.pop(key, None)
                pending_orders_deliver(  # what is due besides: retries, uncertain sends, other runs' leftovers
                    cart_connection_id=connection.pk, connector=connector, run=run, progress=checkpoint, counts=counts
                )
                notes += delivery_notes(counts, orders_claimed_elsewhere(cart_connection_id=connection.pk))
            except Exception as exc:
                outcome = _classify(exc, "Warehouse", errors, warehouse, failure)
                status = status if status == SyncOutcome.FAILED else outcome
    if status == SyncOutcome.SUCCEEDED and (
        errors or counts.get("held") or counts.get("retry") or counts.get("rejected") or counts.get("not_sent")
    ):
        status = SyncOutcome.PARTIAL
    return sync_run_finish(run, connection, status=status, counts=counts, errors=errors + notes, failure=failure)


def _refused_run(kind: str, connection: CartConnection, exc: CrossMerchantLink) -> SyncRun:
    """A run that reads and sends nothing: the cart's warehouse is another merchant's. It fails as
    needing a person, so scheduled runs stop (and a problem is raised) until someone corrects it."""
    run = SyncRun.objects.create(kind=kind, merchant_id=connection.merchant_id, cart_connection=connection)
    return sync_run_finish(
        run, connection, status=SyncOutcome.FAILED, counts={}, errors=[f"Cart: {exc}"], failure=_Failure(NEEDS_PERSON)
    )


def _usable_carts(kind: str, connections: list[CartConnection]) -> tuple[list[CartConnection], list[SyncRun]]:
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


UNSENT_KEYS = ("not_sent", "claims_ran_out")


def delivery_notes(counts: dict[str, int], elsewhere: ClaimedElsewhere) -> list[str]:
    """Why orders due to be sent were not sent by this run, so that a run that sent nothing never
    reads as if there was nothing to send. Adds the orders claimed by another run to `counts`."""
    notes = []
    if counts.get("claims_ran_out"):
        notes.append(
            f"{counts['claims_ran_out']} order(s) not sent: their delivery claim would have ended before a send "
            f"could finish (DELIVERY_CLAIM_LEASE_SECONDS is {settings.DELIVERY_CLAIM_LEASE_SECONDS} s). The next "
            "run sends them; if this repeats, `manage.py check` says how long the claim must be."
        )
    if counts.get(TAKEN):
        notes.append(f"{counts[TAKEN]} order(s) were taken by another run at the same moment: left to it.")
    if elsewhere.count:
        counts["claimed_by_another_run"] = elsewhere.count
        notes.append(
            f"{elsewhere.count} order(s) are claimed by another run: being sent, or its worker stopped, and then "
            f"they are taken over after {elsewhere.last_claim_ends:%Y-%m-%d %H:%M:%S} UTC."
        )
    return notes


def sync_run_finish(
    run: SyncRun,
    connection: CartConnection | WMSConnection,
    *,
    status: str,
    counts: dict,
    errors: list[str],
    failure: _Failure | None = None,
) -> SyncRun:
    failure = failure or _Failure()
    run.status = status
    run.counts = counts
    run.finished_at = timezone.now()
    run.error = "\n".join(filter(None, [run.error, *errors]))
    run.failure_kind = failure.kind if status in (SyncOutcome.FAILED, SyncOutcome.THROTTLED) else ""
    run.save(update_fields=["status", "counts", "finished_at", "error", "failure_kind"])
    type(connection).objects.filter(pk=connection.pk).update(
        last_sync_at=run.finished_at, last_sync_status=status, last_sync_message=run.error[:2000] or summary(counts)
    )
    connection_record_run(connection, run, retry_after=failure.retry_after)
    return run


def summary(counts: dict) -> str:
    parts = [f"{counts.get(k, 0)} {k}" for k in ("imported", "delivered", "held", "skipped") if counts.get(k)]
    return ", ".join(parts) or "nothing new"


def _warehouses_of(connections: list[CartConnection]) -> list[WMSConnection]:
    seen: dict[int, WMSConnection] = {}
    for connection in connections:
        warehouse = connection.resolved_warehouse()
        if warehouse is not None and warehouse.active:
            seen.setdefault(warehouse.pk, warehouse)
    return list(seen.values())


def _one_step_run(
    kind: str,
    connection,
    step: Callable[[SyncRun, dict[str, int], RunCheckpoint], object],
    problem_keys=(),
    progress: Callable[[str], None] | None = None,
) -> SyncRun:
    """A run of one step against one connection (cart or warehouse side): locked, recorded and
    classified. Skipped while another run of the same kind holds the connection's lock. The step
    counts into the dict it is given and reports progress to the checkpoint it is given."""
    key = lock_key(kind, connection)
    with sync_lock(key) as token:
        if token is None:
            return _skipped_run(kind, connection)
        sync_runs_close_interrupted(key=key)
        lease = RunLease(key, token)
        side = {"cart_connection": connection} if isinstance(connection, CartConnection) else {"warehouse": connection}
        run = sync_run_start(kind, connection.merchant_id, lease, **side)
        counts: dict[str, int] = {}
        errors: list[str] = []
        failure = _Failure()
        outcome = SyncOutcome.SUCCEEDED
        cooldowns_wait_short([connection], progress)
        try:
            step(run, counts, RunCheckpoint(run, lease, counts, progress))
        except Exception as exc:
            label = "Cart" if isinstance(connection, CartConnection) else "Warehouse"
            outcome = _classify(exc, label, errors, connection, failure)
        if outcome == SyncOutcome.SUCCEEDED and (errors or run.error or any(counts.get(k) for k in problem_keys)):
            outcome = SyncOutcome.PARTIAL
        return sync_run_finish(run, connection, status=outcome, counts=counts, errors=errors, failure=failure)


def warehouse_sync_shipments(*, warehouse: WMSConnection, progress=None) -> SyncRun:
    return _one_step_run(
        SyncRun.Kind.SHIPMENTS,
        warehouse,
        lambda run, counts, checkpoint: warehouse_shipments_import(
            warehouse=warehouse, run=run, now=timezone.now(), progress=checkpoint, counts=counts
        ),
        ("unmatched", "unreadable"),
        progress,
    )


def cart_connection_push_tracking(*, connection: CartConnection, progress=None) -> SyncRun:
    return _one_step_run(
        SyncRun.Kind.SHIPMENTS,
        connection,
        lambda run, counts, checkpoint: cart_tracking_push(
            connection=connection,
            connector=cart_connector_for(connection),
            run=run,
            progress=checkpoint,
            counts=counts,
        ),
        ("tracking_failed",),
        progress,
    )


def shipments_sync(*, connections: list[CartConnection], progress=None) -> list[SyncRun]:
    """Read shipments from each warehouse once, then tell each cart."""
    connections, runs = _usable_carts(SyncRun.Kind.SHIPMENTS, connections)
    runs += [warehouse_sync_shipments(warehouse=w, progress=progress) for w in _warehouses_of(connections)]
    runs += [cart_connection_push_tracking(connection=c, progress=progress) for c in connections]
    return runs


def warehouse_sync_stock(*, warehouse: WMSConnection, progress=None) -> SyncRun:
    return _one_step_run(
        SyncRun.Kind.INVENTORY,
        warehouse,
        lambda run, counts, checkpoint: warehouse_stock_read(warehouse=warehouse, progress=checkpoint, counts=counts),
        progress=progress,
    )


def cart_connection_push_inventory(
    *, connection: CartConnection, full: bool = False, read_catalog: bool = False, progress=None
) -> SyncRun:
    return _one_step_run(
        SyncRun.Kind.INVENTORY,
        connection,
        lambda run, counts, checkpoint: cart_inventory_push(
            connection=connection,
            connector=cart_connector_for(connection),
            run=run,
            full=full,
            read_catalog=read_catalog,
            progress=checkpoint,
            counts=counts,
        ),
        ("inventory_refused",),
        progress,
    )


def inventory_sync(
    *, connections: list[CartConnection], full: bool = False, read_catalog: bool = False, progress=None
) -> list[SyncRun]:
    """Read stock from each warehouse once, then push levels to each cart that syncs inventory.

    A cart whose warehouse could not be read this run (failed, or throttled) is not pushed (stale
    levels would be wrong).
    `read_catalog` re-reads each cart's item list even when it was read recently (asked by a person).
    """
    connections, runs = _usable_carts(SyncRun.Kind.INVENTORY, [c for c in connections if c.inventory_sync_enabled])
    stock_runs = {}
    for warehouse in _warehouses_of(connections):
        stock_runs[warehouse.pk] = warehouse_sync_stock(warehouse=warehouse, progress=progress)
    runs += stock_runs.values()
    for connection in connections:
        warehouse = connection.resolved_warehouse()
        read = stock_runs.get(warehouse.pk) if warehouse else None
        if read is None or read.status in (SyncOutcome.FAILED, SyncOutcome.THROTTLED):
            continue
        runs.append(
            cart_connection_push_inventory(
                connection=connection, full=full, read_catalog=read_catalog, progress=progress
            )
        )
    return runs
