"""The daily re-read of a cart that lists orders by creation time only (Overstock): the windows of its
orders not yet shipped read again (`orders.services.intake.reread`), then the changes found passed on
to the warehouse. An orders run under the connection's orders lock, so it never overlaps an import."""

from __future__ import annotations

from collections.abc import Callable

from django.utils import timezone

from integrations.models import CartConnection, SyncOutcome
from integrations.services import cart_connector_for
from orders.models import SyncRun
from orders.services.changes.send import pending_changes_send
from orders.services.intake.reread import cart_orders_reread
from orders.services.records.locks import lock_key
from orders.services.records.sync_runs import RunLease, run_lease, sync_run_start
from orders.services.translation.run_context import translation_context_factory
from sync.cycle import (
    RunFailure,
    failure_classify,
    skipped_run,
    sync_run_finish,
    usable_carts,
    warehouse_connector_of,
)


def cart_connection_reread_orders(
    *, connection: CartConnection, progress: Callable[[str], None] | None = None
) -> SyncRun:
    """Read the connection's recent open orders again and pass on what changed. Never raises; a run
    of a cart that lists orders by modification time reads nothing (its imports see every change)."""
    _usable, refused = usable_carts(kind=SyncRun.Kind.ORDERS, connections=[connection])
    if refused:  # its warehouse is another merchant's: nothing read or sent, and the run says why
        return refused[0]
    key = lock_key(SyncRun.Kind.ORDERS, connection)
    with run_lease(key=key) as token:
        if token is None:
            return skipped_run(kind=SyncRun.Kind.ORDERS, connection=connection)
        return _reread(connection, RunLease(key, token))


def _reread(connection: CartConnection, lease: RunLease) -> SyncRun:
    warehouse = connection.resolved_warehouse()
    run = sync_run_start(
        kind=SyncRun.Kind.ORDERS,
        merchant_id=connection.merchant_id,
        lease=lease,
        cart_connection=connection,
        warehouse=warehouse,
    )
    counts: dict[str, int] = {}
    errors: list[str] = []
    notes = ["Orders not yet shipped read again by their creation windows (a line canceled later is seen)."]
    failure = RunFailure()
    status = SyncOutcome.SUCCEEDED
    connector = warehouse_connector_of(warehouse=warehouse, errors=errors, notes=notes)
    context = translation_context_factory(connection=connection, warehouse=warehouse, connector=connector, notes=notes)
    try:
        cart = cart_connector_for(connection=connection)
        if cart.lists_by_creation:
            cart_orders_reread(
                connection=connection, connector=cart, run=run, now=timezone.now(), context=context, counts=counts
            )
    except Exception as exc:
        status = failure_classify(exc=exc, label="Cart", errors=errors, connection=connection, failure=failure)
    if connector is not None:
        try:
            pending_changes_send(cart_connection_id=connection.pk, connector=connector, run=run, counts=counts)
        except Exception as exc:
            outcome = failure_classify(exc=exc, label="Warehouse", errors=errors, connection=warehouse, failure=failure)
            status = status if status == SyncOutcome.FAILED else outcome
    if status == SyncOutcome.SUCCEEDED and errors:
        status = SyncOutcome.PARTIAL
    return sync_run_finish(
        run=run, connection=connection, status=status, counts=counts, errors=errors + notes, failure=failure
    )
