"""Tracking in: read the warehouse's shipments once each and let the orders' status follow.

Each parcel is stored once per (warehouse, warehouse shipment id). An order becomes `shipped` when
every line has shipped (a shipment without lines covers the whole order); until then it stays
`at_wms` and is marked partially shipped. Tracking for a reference we never sent is kept, unmatched,
and named on the run; tracking for an order of another connection to the same warehouse account is
left to that connection (it reads the same feed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import IntegrityError, transaction

from integrations.accounts import connection_account_key
from integrations.connectors.canonical import Shipment as CanonicalShipment
from integrations.models import WMSConnection
from integrations.services import warehouse_connector_for
from integrations.zones import WIDEST_AHEAD_OF_UTC, WIDEST_BEHIND_UTC
from orders.models import Order, OrderStatus, Shipment, SyncRun
from orders.services.lookups import cust_refs_taken
from orders.services.records.history import order_event, order_set_status
from orders.services.records.problems import SHIPPED_SHORT, order_problem_key, problems_resolve
from orders.services.records.sync_runs import counting_into

FIRST_SHIPMENT_LOOKBACK = timedelta(days=30)


class ShipmentOutcome(StrEnum):
    """What became of one parcel the warehouse reported: the run's count it adds to."""

    STORED = "shipments"
    KNOWN = "known"
    UNMATCHED = "unmatched"
    UNREADABLE = "unreadable"
    OTHER_CONNECTION = "other_connection"


@dataclass(frozen=True)
class ShipmentWindow:
    """What one run asks the warehouse for, [since, until), and the real time it has then read up to
    (the next watermark): the two differ while the warehouse's time zone is not known."""

    since: datetime
    until: datetime
    read_up_to: datetime


def shipment_window(*, warehouse: WMSConnection, now: datetime) -> ShipmentWindow:
    """From the watermark (less the overlap) to a little before now, in real time when the
    warehouse's time zone is known (its connector writes the window in that zone).

    While it is not, the connector writes UTC times and the warehouse may compare them with its own
    wall clock, anywhere from UTC-12 to UTC+14: a parcel shipped just after the last run carries a
    time up to 12 hours earlier (a warehouse behind UTC), one shipped just now up to 14 hours later
    (ahead of UTC). So the window starts 12 hours earlier and ends 14 hours later; the watermark
    still advances by real time only, and the parcels read again are recognised by id (`KNOWN`).
    """
    read_up_to = now - timedelta(seconds=settings.ORDER_IMPORT_LAG_SECONDS)
    if warehouse.shipment_watermark is None:
        since = now - FIRST_SHIPMENT_LOOKBACK
    else:
        since = warehouse.shipment_watermark - timedelta(seconds=settings.ORDER_IMPORT_OVERLAP_SECONDS)
    if warehouse.zone is not None:
        return ShipmentWindow(since, read_up_to, read_up_to)
    return ShipmentWindow(since - WIDEST_BEHIND_UTC, read_up_to + WIDEST_AHEAD_OF_UTC, read_up_to)


def warehouse_shipments_import(
    *,
    warehouse: WMSConnection,
    run: SyncRun,
    now: datetime,
    progress: Callable[[str], None] | None = None,
    counts: dict[str, int] | None = None,
) -> dict[str, int]:
    """Read every page of shipments in the window (counting into `counts` as it goes); advance the
    watermark only at the end, and only to the real time read up to (`shipment_window`)."""
    window = shipment_window(warehouse=warehouse, now=now)
    run.window_start, run.window_end = window.since, window.until
    run.save(update_fields=["window_start", "window_end"])
    counts = counting_into(counts, *ShipmentOutcome, "orders_shipped")
    problems: list[str] = []
    connector = warehouse_connector_for(connection=warehouse)
    for page in connector.iter_shipments(shipped_after=window.since, shipped_before=window.until):
        with transaction.atomic():
            for parcel in page:
                outcome, became_shipped = shipment_store(warehouse=warehouse, parcel=parcel, run=run, problems=problems)
                counts[outcome] += 1
                counts["orders_shipped"] += became_shipped
        if progress:
            progress(f"{counts[ShipmentOutcome.STORED]} new shipments")
    WMSConnection.objects.filter(pk=warehouse.pk).update(shipment_watermark=window.read_up_to)
    warehouse.shipment_watermark = window.read_up_to
    if problems:
        run.error = "\n".join(filter(None, [run.error, *problems]))
    return counts


def shipment_store(
    *, warehouse: WMSConnection, parcel: CanonicalShipment, run: SyncRun, problems: list[str]
) -> tuple[ShipmentOutcome, bool]:
    """Store one parcel unless known: (the count it adds to, whether its order became shipped)."""
    tracking = [t.strip() for t in parcel.tracking_numbers if t and t.strip()]
    if not parcel.warehouse_shipment_id or not (tracking or parcel.carrier):
        problems.append(
            f"A shipment the warehouse reported could not be read (reference {parcel.cust_ref or '?'}, "
            f"id {parcel.warehouse_shipment_id or '?'}): no tracking number or carrier. Check it at the warehouse."
        )
        return ShipmentOutcome.UNREADABLE, False
    if Shipment.objects.filter(warehouse=warehouse, warehouse_shipment_id=parcel.warehouse_shipment_id).exists():
        return ShipmentOutcome.KNOWN, False
    # Only an order of the warehouse's own merchant: one assigned to it by a bypass stays unmatched.
    order = (
        Order.objects.select_for_update()
        .filter(warehouse=warehouse, merchant_id=warehouse.merchant_id, cust_ref=parcel.cust_ref)
        .first()
        if parcel.cust_ref
        else None
    )
    if order is None and _another_connections(warehouse, parcel.cust_ref):
        return ShipmentOutcome.OTHER_CONNECTION, False  # its own warehouse connection reads it from the same account
    shipment = Shipment(
        warehouse=warehouse,
        order=order,
        warehouse_shipment_id=parcel.warehouse_shipment_id[:100],
        warehouse_order_id=(parcel.warehouse_order_id or "")[:100],
        cust_ref=(parcel.cust_ref or "")[:64],
        carrier=(parcel.carrier or "")[:80],
        service=(parcel.service or "")[:120],
        tracking_numbers=tracking,
        tracking_url=(parcel.tracking_url or "")[:500],
        shipped_at=parcel.shipped_at,
        lines=[{"sku": ln.sku, "quantity": ln.quantity, "line_no": ln.line_no} for ln in parcel.lines],
        push_status=Shipment.PushStatus.PENDING if order else Shipment.PushStatus.UNMATCHED,
    )
    try:
        with transaction.atomic():
            shipment.save()
    except IntegrityError:
        return ShipmentOutcome.KNOWN, False  # stored by a concurrent run a moment ago
    if order is None:
        problems.append(
            f"Tracking {', '.join(tracking) or parcel.carrier} is for reference {parcel.cust_ref or '?'}, "
            "which we never sent to this warehouse: kept as unmatched, nothing told to any cart."
        )
        return ShipmentOutcome.UNMATCHED, False
    numbers = ", ".join(tracking) or "no tracking number"
    order_event(
        order=order,
        message=f"Shipment from the warehouse: {parcel.carrier} {parcel.service} ({numbers}).".replace("  ", " "),
        code="shipment",
        run=run,
    )
    return ShipmentOutcome.STORED, order_shipped_state_update(order=order, run=run)


def _another_connections(warehouse: WMSConnection, cust_ref: str) -> bool:
    """Whether the reference is an order of another warehouse connection reaching the same account
    (whose tracking feed is the account's): that connection stores the parcel, not this one."""
    account = connection_account_key(warehouse)
    return bool(cust_ref) and bool(cust_refs_taken(account, {cust_ref.lower()}))


def units_ordered_and_shipped(*, order: Order) -> tuple[Counter[str], Counter[str]]:
    """Units per warehouse SKU: those the order holds (lines canceled at the cart left out), and those
    its parcels carried. A parcel without lines covers the whole order."""
    ordered: Counter[str] = Counter()
    for line in order.lines.filter(canceled_at_cart=False):
        ordered[line.warehouse_sku or line.cart_sku] += line.quantity
    parcels = list(order.shipments.all())
    if any(not p.lines for p in parcels):
        return ordered, Counter(ordered)
    shipped: Counter[str] = Counter()
    for parcel in parcels:
        for line in parcel.lines:
            shipped[str(line.get("sku") or "")] += int(line.get("quantity") or 0)
    return ordered, shipped


def order_shipped_state_update(*, order: Order, run: SyncRun | None = None) -> bool:
    """Set `shipped` (every line shipped) or partially shipped; True when it became shipped. An order
    the warehouse closed short (`warehouse_side`) that a late parcel completes is no longer short."""
    ordered, shipped = units_ordered_and_shipped(order=order)
    complete = all(shipped[sku] >= qty for sku, qty in ordered.items())
    if complete:
        if order.status in (OrderStatus.SHIPPED, OrderStatus.CONFIRMED):
            if order.partially_shipped:
                order.partially_shipped = False
                order.save(update_fields=["partially_shipped", "updated_at"])
                order_event(order=order, message="The rest of the order has shipped.", code="shipped", run=run)
                problems_resolve(prefix=order_problem_key(order=order, reason_code=SHIPPED_SHORT))
            return False
        order.partially_shipped = False
        order_set_status(
            order=order,
            status=OrderStatus.SHIPPED,
            message="Shipped in full by the warehouse.",
            code="shipped",
            run=run,
        )
        return True
    if not order.partially_shipped:
        order.partially_shipped = True
        order.save(update_fields=["partially_shipped", "updated_at"])
        order_event(
            order=order, message="Partially shipped: some lines are still to come.", code="partially_shipped", run=run
        )
    return False
