"""django-q2 tasks: thin callers of the sync services, taking ids, safe to run twice.

Scheduled runs respect the connection's retry state (`next_attempt_at`, `blocked_reason`); the
lock in the services keeps two runs of the same sync from overlapping whatever starts them.
"""

from __future__ import annotations

from django.utils import timezone

from integrations.models import CartConnection
from integrations.tenancy import CrossMerchantLink
from orders.services.holds_fix import sku_list_read
from sync.alerts import alerts_send_digests
from sync.cycle import cart_connection_sync_orders_turn
from sync.reread import cart_connection_reread_orders
from sync.return_path import inventory_sync, shipments_sync
from sync.sweep import sweep, sync_runs_prune
from sync.webhooks.drain import inbox_prune


def _due_connection(connection_id: int, *, scheduled: bool) -> tuple[CartConnection | None, str]:
    connection = (
        CartConnection.objects.select_related("merchant", "warehouse")
        .filter(pk=connection_id, active=True, merchant__active=True)
        .first()
    )
    if connection is None:
        return None, f"cart connection {connection_id} is gone or inactive: nothing to do"
    if scheduled and connection.blocked_reason:
        return None, f"{connection}: waiting for a person ({connection.blocked_reason})"
    if scheduled and connection.next_attempt_at and connection.next_attempt_at > timezone.now():
        return None, f"{connection}: deferred until {connection.next_attempt_at:%H:%M:%S} UTC"
    return connection, ""


def sync_orders_task(connection_id: int, scheduled: bool = True) -> str:
    connection, why_not = _due_connection(connection_id, scheduled=scheduled)
    if connection is None:
        return why_not
    run = cart_connection_sync_orders_turn(connection=connection)
    return f"orders run {run.pk}: {run.status}"


def reread_orders_task(connection_id: int, scheduled: bool = True) -> str:
    """The daily re-read of a cart that lists orders by creation time only (`sync.reread`)."""
    connection, why_not = _due_connection(connection_id, scheduled=scheduled)
    if connection is None:
        return why_not
    run = cart_connection_reread_orders(connection=connection)
    return f"orders re-read run {run.pk}: {run.status}"


def _warehouse_waits(connection: CartConnection, *, scheduled: bool) -> str:
    """Why a scheduled return-path run leaves the cart's warehouse alone (it needs a person), or ""."""
    try:
        warehouse = connection.resolved_warehouse()
    except CrossMerchantLink:
        return ""  # the run itself refuses it, and says why
    if scheduled and warehouse is not None and warehouse.blocked_reason:
        return f"{warehouse}: waiting for a person ({warehouse.blocked_reason})"
    return ""


def sync_shipments_task(connection_id: int, scheduled: bool = True) -> str:
    connection, why_not = _due_connection(connection_id, scheduled=scheduled)
    if connection is None:
        return why_not
    if why_not := _warehouse_waits(connection, scheduled=scheduled):
        return why_not
    runs = shipments_sync(connections=[connection])
    return ", ".join(f"shipments run {r.pk}: {r.status}" for r in runs)


def sync_inventory_task(connection_id: int, scheduled: bool = True) -> str:
    connection, why_not = _due_connection(connection_id, scheduled=scheduled)
    if connection is None:
        return why_not
    if why_not := _warehouse_waits(connection, scheduled=scheduled):
        return why_not
    # Not on the schedule (a person's retry, the sweep's due retry): read the carts' item lists afresh.
    runs = inventory_sync(connections=[connection], read_catalog=not scheduled)
    return ", ".join(f"inventory run {r.pk}: {r.status}" for r in runs)


def sweep_task() -> str:
    return sweep()


def alerts_task() -> str:
    return alerts_send_digests()


def prune_task() -> str:
    return f"{sync_runs_prune()}; {inbox_prune()} handled webhook notification(s) pruned"


def warehouse_sku_list_read_task(warehouse_id: int) -> str:
    """Read a warehouse's SKU list for the order pages (queued when the stored one is stale)."""
    return sku_list_read(warehouse_id=warehouse_id)
