"""Missing here: the cart orders the import missed, imported now through the import's own path.

They are stored (or their missed change applied) by `cart_page_store`, exactly as an import run would,
under the cart's orders lock and recorded as an orders run of their own; the next orders run sends
what is ready. While an orders run holds the lock nothing is imported, and the reconciliation says so.
"""

from __future__ import annotations

from django.utils import timezone

from integrations.connectors.canonical import CartOrder, OrderPage, RejectedCartOrder
from integrations.models import CartConnection, SyncOutcome
from integrations.services import ConnectionNotConfigured, warehouse_connector_for
from orders.models import SyncRun
from orders.services.intake.importer import Importer
from orders.services.intake.pages import IMPORT_COUNTS, cart_page_store
from orders.services.records.locks import lock_key, sync_lock
from orders.services.records.sync_runs import counting_into
from orders.services.translation.run_context import translation_context_factory


def missing_orders_import(
    *, connection: CartConnection, cart_orders: list[CartOrder], rejected: list[RejectedCartOrder]
) -> str:
    """Store the missed orders now; returns what was done, for the reconciliation's notes."""
    if not cart_orders and not rejected:
        return ""
    with sync_lock(key=lock_key(SyncRun.Kind.ORDERS, connection)) as token:
        if token is None:
            return (
                f"{len(cart_orders) + len(rejected)} missed order(s) not imported now: an orders run holds the lock. "
                "The next reconciliation tries again."
            )
        warehouse = connection.resolved_warehouse()
        notes: list[str] = []
        try:
            connector = warehouse_connector_for(connection=warehouse) if warehouse is not None else None
        except ConnectionNotConfigured:
            connector = None
        run = SyncRun.objects.create(
            kind=SyncRun.Kind.ORDERS,
            merchant_id=connection.merchant_id,
            cart_connection=connection,
            warehouse=warehouse,
        )
        counts = counting_into(None, *IMPORT_COUNTS)
        importer = Importer(
            connection=connection,
            run=run,
            context_factory=translation_context_factory(
                connection=connection, warehouse=warehouse, connector=connector, notes=notes
            ),
            counts=counts,
        )
        cart_page_store(importer=importer, page=OrderPage(orders=cart_orders, rejected=rejected))
        numbers = ", ".join(f"#{o.order_number}" for o in [*cart_orders, *rejected])
        message = f"Reconciliation imported orders the import had missed: {numbers}."
        run.status, run.counts, run.finished_at = SyncOutcome.SUCCEEDED, counts, timezone.now()
        run.error = "\n".join([message, *notes])
        run.save(update_fields=["status", "counts", "finished_at", "error"])
        return f"{message} Orders run #{run.pk} recorded it; the next orders run sends what is ready."
