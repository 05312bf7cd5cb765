"""The return path of a cycle, one step per run: shipments read from each warehouse and tracking
pushed to each cart; stock read from each warehouse and levels pushed to each cart. Each run is
locked, recorded and classified like an orders run (`sync.cycle`)."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from integrations.budget import spending_for
from integrations.cooldowns import cooldowns_wait_short
from integrations.models import CartConnection, SyncOutcome, WMSConnection
from integrations.services import cart_connector_for, warehouse_connector_for
from inventory.services import cart_inventory_push, warehouse_stock_read
from orders.models import SyncRun
from orders.services.records.locks import lock_key
from orders.services.records.sync_runs import RunCheckpoint, RunLease, run_lease, sync_run_start
from orders.services.tracking.push import cart_tracking_push
from orders.services.tracking.shipments import warehouse_shipments_import
from orders.services.warehouse_side import warehouse_orders_check
from sync.cycle import RunFailure, failure_classify, skipped_run, sync_run_finish, usable_carts


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
    with run_lease(key=key) as token:
        if token is None:
            return skipped_run(kind=kind, connection=connection)
        lease = RunLease(key, token)
        side = {"cart_connection": connection} if isinstance(connection, CartConnection) else {"warehouse": connection}
        run = sync_run_start(kind=kind, merchant_id=connection.merchant_id, lease=lease, **side)
        counts: dict[str, int] = {}
        errors: list[str] = []
        failure = RunFailure()
        outcome = SyncOutcome.SUCCEEDED
        cooldowns_wait_short([connection], progress)
        try:
            with spending_for(kind):  # the connectors the step builds spend the account's budget as `kind`
                step(run, counts, RunCheckpoint(run, lease, counts, progress))
        except Exception as exc:
            label = "Cart" if isinstance(connection, CartConnection) else "Warehouse"
            outcome = failure_classify(exc=exc, label=label, errors=errors, connection=connection, failure=failure)
        if outcome == SyncOutcome.SUCCEEDED and (errors or run.error or any(counts.get(k) for k in problem_keys)):
            outcome = SyncOutcome.PARTIAL
        return sync_run_finish(
            run=run, connection=connection, status=outcome, counts=counts, errors=errors, failure=failure
        )


def _shipments_and_warehouse_changes(
    warehouse: WMSConnection, run: SyncRun, counts: dict[str, int], checkpoint: RunCheckpoint
) -> None:
    """The parcels first (so an order that shipped is not read as short), then the orders that have
    waited at the warehouse, read there for what it changed (`orders.services.warehouse_side`)."""
    now = timezone.now()
    warehouse_shipments_import(warehouse=warehouse, run=run, now=now, progress=checkpoint, counts=counts)
    connector = warehouse_connector_for(connection=warehouse)
    warehouse_orders_check(warehouse=warehouse, connector=connector, run=run, now=now, counts=counts)


def warehouse_sync_shipments(*, warehouse: WMSConnection, progress: Callable[[str], None] | None = None) -> SyncRun:
    return _one_step_run(
        SyncRun.Kind.SHIPMENTS,
        warehouse,
        lambda run, counts, checkpoint: _shipments_and_warehouse_changes(warehouse, run, counts, checkpoint),
        ("unmatched", "unreadable"),
        progress,
    )


def cart_connection_push_tracking(
    *, connection: CartConnection, progress: Callable[[str], None] | None = None
) -> SyncRun:
    return _one_step_run(
        SyncRun.Kind.SHIPMENTS,
        connection,
        lambda run, counts, checkpoint: cart_tracking_push(
            connection=connection,
            connector=cart_connector_for(connection=connection),
            run=run,
            progress=checkpoint,
            counts=counts,
        ),
        ("tracking_failed",),
        progress,
    )


def shipments_sync(
    *, connections: list[CartConnection], progress: Callable[[str], None] | None = None
) -> list[SyncRun]:
    """Read shipments from each warehouse once, then tell each cart."""
    connections, runs = usable_carts(kind=SyncRun.Kind.SHIPMENTS, connections=connections)
    runs += [warehouse_sync_shipments(warehouse=w, progress=progress) for w in _warehouses_of(connections)]
    runs += [cart_connection_push_tracking(connection=c, progress=progress) for c in connections]
    return runs


def warehouse_sync_stock(*, warehouse: WMSConnection, progress: Callable[[str], None] | None = None) -> SyncRun:
    return _one_step_run(
        SyncRun.Kind.INVENTORY,
        warehouse,
        lambda run, counts, checkpoint: warehouse_stock_read(warehouse=warehouse, progress=checkpoint, counts=counts),
        progress=progress,
    )


def cart_connection_push_inventory(
    *,
    connection: CartConnection,
    full: bool = False,
    read_catalog: bool = False,
    progress: Callable[[str], None] | None = None,
) -> SyncRun:
    return _one_step_run(
        SyncRun.Kind.INVENTORY,
        connection,
        lambda run, counts, checkpoint: cart_inventory_push(
            connection=connection,
            connector=cart_connector_for(connection=connection),
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
    *,
    connections: list[CartConnection],
    full: bool = False,
    read_catalog: bool = False,
    progress: Callable[[str], None] | None = None,
) -> list[SyncRun]:
    """Read stock from each warehouse once, then push levels to each cart that syncs inventory.

    A cart whose warehouse could not be read this run (failed, or throttled) is not pushed (stale
    levels would be wrong).
    `read_catalog` re-reads each cart's item list even when it was read recently (asked by a person).
    """
    connections, runs = usable_carts(
        kind=SyncRun.Kind.INVENTORY, connections=[c for c in connections if c.inventory_sync_enabled]
    )
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
