"""Changes at the cart passed on to the warehouse, each once in effect, and confirmed there.

Run in the orders sync after the deliveries. Each due pending change of the connection's orders is
claimed (`claims`); an order still being delivered keeps its change until it is found at the
warehouse, one that never got there drops it, one that has shipped is too late at once. Otherwise the
change is marked uncertain and the warehouse called: `order_cancel` (the order, or the units to take
off) or `order_update` (the whole order as it should be). The connectors read the order first and
answer CHANGE_ALREADY for a change already made, so a call repeated after a lost answer changes
nothing twice. The answer decides: applied (read back), too late (picking, shipped: a problem), refused
(a problem), or no clear answer (retried with backoff, then a problem).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from integrations.connectors.base import WarehouseConnector
from integrations.connectors.canonical import (
    WH_SHIPPED,
    Address,
    WarehouseOrder,
    WarehouseOrderLine,
    WarehouseOrderRef,
)
from integrations.connectors.errors import (
    AuthenticationError,
    ChangeNotSupportedError,
    ChangeRefusedError,
    ChangeTooLateError,
    ConnectorError,
    TemporaryError,
    ThrottledError,
)
from orders.models import Order, OrderChange, OrderStatus, SyncRun
from orders.services.changes.claims import (
    change_applied,
    change_claim,
    change_mark_uncertain,
    change_refused,
    change_release,
    change_retry_later,
    change_superseded,
    change_too_late,
    units_by_sku_of,
)

CHANGE_COUNTS = ("changes_applied", "changes_too_late", "changes_refused", "changes_retry")
SHIPPED = (OrderStatus.SHIPPED, OrderStatus.CONFIRMED)


def pending_changes_send(
    *, cart_connection_id: int, connector: WarehouseConnector, run: SyncRun | None, counts: dict[str, int]
) -> dict[str, int]:
    """Pass on the connection's due changes; raises (after letting the claim go) when the warehouse
    throttles us or refuses our credentials, as a delivery does."""
    now = timezone.now()
    due = (
        OrderChange.objects.filter(order__cart_connection_id=cart_connection_id, status=OrderChange.Status.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for change_id in list(due[:500]):
        outcome = change_send(change_id=change_id, connector=connector, run=run)
        if outcome:
            counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def change_send(*, change_id: int, connector: WarehouseConnector, run: SyncRun | None) -> str:
    """One change: claimed, then passed on (or settled without a call); the count it adds, or ""."""
    token = change_claim(change_id=change_id)
    if token is None:
        return ""
    change = OrderChange.objects.select_related("order__warehouse").get(pk=change_id)
    order = change.order
    if order.status in (OrderStatus.NEW, OrderStatus.ERROR):  # still being delivered: after it is found there
        change_release(change=change, token=token)
        return ""
    if order.status == OrderStatus.CANCELED or not order.warehouse_order_id:
        change_superseded(change=change, token=token, why="The order is not at the warehouse: nothing to pass on.")
        return ""
    if order.status in SHIPPED:
        reason = "it has shipped: plan a return with the customer, or ask the warehouse to intercept the parcel"
        change_too_late(change=change, token=token, reason=reason, run=run)
        return "changes_too_late"
    if not change_mark_uncertain(change=change, token=token):
        return ""  # our claim was taken over: call nothing
    return _call(change, token, order, connector, run)


def _call(change: OrderChange, token: str, order: Order, connector: WarehouseConnector, run: SyncRun | None) -> str:
    ref = WarehouseOrderRef(
        warehouse_order_id=order.warehouse_order_id,
        cust_ref=order.cust_ref or "",
        items=[
            WarehouseOrderLine(line_no=line.line_no, sku=line.warehouse_sku, quantity=line.quantity)
            for line in order.lines.filter(canceled_at_cart=False).order_by("line_no")
        ],
    )
    try:
        if change.kind == OrderChange.Kind.CANCEL:
            result = connector.order_cancel(ref, reason="Canceled at the cart")
        elif change.kind == OrderChange.Kind.CANCEL_LINES:
            result = connector.order_cancel(ref, reason="Canceled at the cart", lines=_units_off(ref, change.wanted))
        else:
            result = connector.order_update(ref, _warehouse_order(change.wanted))
    except ChangeTooLateError as exc:
        deadline = "" if exc.state == WH_SHIPPED else intercept_deadline(order=order, now=timezone.now())
        change_too_late(change=change, token=token, reason=f"{exc}{deadline}", run=run)
        return "changes_too_late"
    except (ChangeRefusedError, ChangeNotSupportedError) as exc:
        change_refused(change=change, token=token, reason=str(exc), run=run)
        return "changes_refused"
    except (ThrottledError, AuthenticationError):
        change_release(change=change, token=token)  # uncertain stays set: read first next time
        raise
    except (TemporaryError, ConnectorError, ValueError) as exc:
        change_retry_later(change=change, token=token, reason=str(exc), uncertain=True, run=run)
        return "changes_retry"
    state = result.state
    said = (
        f"{result.outcome}; the warehouse shows it {state.platform_status or state.state}" if state else result.outcome
    )
    change_applied(change=change, token=token, result=said, run=run)
    return "changes_applied"


def intercept_deadline(*, order: Order, now: datetime) -> str:
    """What a too-late change's problem says of the deadline to intercept the order: the warehouse's
    next carrier cut-off in its own zone, or how to make it known."""
    warehouse = order.warehouse
    cutoff = warehouse.next_cutoff(now) if warehouse is not None else None
    if cutoff is None:
        return (
            ". Deadline not known: set the warehouse's daily carrier cut-off on its connection to see, on changes "
            "refused as too late, when its carriers next collect"
        )
    zone = warehouse.time_zone or "UTC"
    return f". Deadline: before {cutoff:%Y-%m-%d %H:%M} ({zone}), when the warehouse's carriers next collect"


def _units_off(ref: WarehouseOrderRef, wanted: dict) -> list[WarehouseOrderLine]:
    """The units to take off: what the warehouse holds less what the cart wants now."""
    held = units_by_sku_of(items=[{"sku": i.sku, "quantity": i.quantity} for i in ref.items or []])
    keep = units_by_sku_of(items=wanted.get("items") or [])
    return [
        WarehouseOrderLine(line_no=0, sku=sku, quantity=n - keep.get(sku, 0))
        for sku, n in held.items()
        if n > keep.get(sku, 0)
    ]


def _warehouse_order(wanted: dict) -> WarehouseOrder:
    """The whole order as it should be, from its JSON (`detect`)."""
    ordered = wanted.get("ordered_at")
    return WarehouseOrder(
        cust_ref=wanted["cust_ref"],
        cust_po_no=wanted.get("cust_po_no", ""),
        ship_to=Address(**wanted.get("ship_to", {})),
        ship_code=wanted.get("ship_code", ""),
        items=[
            WarehouseOrderLine(**{**item, "price": Decimal(str(item.get("price") or "0"))})
            for item in wanted.get("items", [])
        ],
        orig_ship_code=wanted.get("orig_ship_code", ""),
        ordered_at=datetime.fromisoformat(ordered) if ordered else None,
        is_test=wanted.get("is_test", False),
        notes=wanted.get("notes", ""),
    )
