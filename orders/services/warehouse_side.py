"""Changes made at the warehouse, seen by reading the order there: canceled, gone, or shipped short.

A warehouse may cancel an order itself, drop one it accepted, or close one with units missing, and
its shipment feed says none of it. So the shipments sync reads a bounded number of the orders at the
warehouse for a while without having shipped in full (`order_state`; the settings
`WAREHOUSE_CHECK_*` say how long, how often and how many), and for each:

- canceled there, and not by a cancellation we passed on: the order becomes `canceled` (so nothing
  sends it again and it is not counted as stuck), with a history row and a problem;
- no longer there (the connector raises `ChangeRefusedError`): the order stays `at_wms` (a resend
  could ship it twice; a person decides) with a problem, and a history row the first time;
- closed (shipped) with fewer units than ordered: the order becomes `shipped` (nothing more will
  come; waiting tracking can go to the cart), still marked partially shipped, with a problem
  "shipped short: N of M units".

Orders with a change at the cart still to pass on are left to `changes.send`, which reads them itself.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from integrations.connectors.base import WarehouseConnector
from integrations.connectors.canonical import WH_CANCELED, WH_SHIPPED, WarehouseOrderRef, WarehouseOrderState
from integrations.connectors.errors import (
    AuthenticationError,
    ChangeRefusedError,
    ConnectorError,
    ThrottledError,
)
from integrations.models import WMSConnection
from orders.models import Order, OrderChange, OrderStatus, Problem, SyncRun
from orders.services.records.history import order_event, order_set_status
from orders.services.records.problems import (
    CANCELED_AT_WAREHOUSE,
    CHANGE_NOT_APPLIED,
    GONE_AT_WAREHOUSE,
    SHIPPED_SHORT,
    order_problem_key,
    order_problem_raise,
    problems_resolve,
)
from orders.services.records.sync_runs import counting_into
from orders.services.tracking.shipments import units_ordered_and_shipped

# The problems a warehouse's own change raises on an order (shown on both order pages).
WAREHOUSE_SIDE_PROBLEMS = (CANCELED_AT_WAREHOUSE, GONE_AT_WAREHOUSE, SHIPPED_SHORT)
CHECK_COUNTS = ("warehouse_checked", CANCELED_AT_WAREHOUSE, GONE_AT_WAREHOUSE, SHIPPED_SHORT, "warehouse_unread")


def orders_due_for_check(*, warehouse: WMSConnection, now: datetime) -> list[int]:
    """The orders of this warehouse to read there now: at the warehouse since the wait, not read
    within the interval, no change at the cart pending; the longest unread first, at most a run's bound."""
    delivered_before = now - timedelta(minutes=settings.WAREHOUSE_CHECK_AFTER_MINUTES)
    read_before = now - timedelta(minutes=settings.WAREHOUSE_CHECK_EVERY_MINUTES)
    due = (
        Order.objects.filter(
            warehouse=warehouse,
            merchant_id=warehouse.merchant_id,
            status=OrderStatus.AT_WMS,
            delivered_at__lte=delivered_before,
            cust_ref__isnull=False,
        )
        .filter(Q(warehouse_checked_at__isnull=True) | Q(warehouse_checked_at__lte=read_before))
        .exclude(changes__status=OrderChange.Status.PENDING)
        .order_by(F("warehouse_checked_at").asc(nulls_first=True), "delivered_at", "pk")
    )
    return list(due.values_list("pk", flat=True)[: settings.WAREHOUSE_CHECK_PER_RUN])


def warehouse_orders_check(
    *,
    warehouse: WMSConnection,
    connector: WarehouseConnector,
    run: SyncRun | None,
    now: datetime,
    counts: dict[str, int] | None = None,
) -> dict[str, int]:
    """Read the due orders at the warehouse and record what it changed (module docstring). Raises
    when the warehouse throttles us or refuses our credentials (the run says so); an order it cannot
    answer for now is counted as unread and read again by a later run."""
    counts = counting_into(counts, *CHECK_COUNTS)
    for order_id in orders_due_for_check(warehouse=warehouse, now=now):
        outcome = order_warehouse_check(order_id=order_id, connector=connector, run=run, now=now)
        counts["warehouse_checked"] += 1
        if outcome:
            counts[outcome] += 1
    return counts


def order_warehouse_check(*, order_id: int, connector: WarehouseConnector, run: SyncRun | None, now: datetime) -> str:
    """Read one order at the warehouse; the count its outcome adds to, or "" when nothing changed there."""
    Order.objects.filter(pk=order_id).update(warehouse_checked_at=now)
    order = Order.objects.get(pk=order_id)
    ref = WarehouseOrderRef(warehouse_order_id=order.warehouse_order_id, cust_ref=order.cust_ref or "")
    try:
        state = connector.order_state(ref)
    except ChangeRefusedError as exc:
        return _gone(order, str(exc), run)
    except (ThrottledError, AuthenticationError):
        raise
    except ConnectorError:
        return "warehouse_unread"
    problems_resolve(prefix=order_problem_key(order=order, reason_code=GONE_AT_WAREHOUSE))  # it is there
    if state.state == WH_CANCELED:
        return _canceled(order_id, state, run)
    if state.state == WH_SHIPPED and order.partially_shipped:
        return _shipped_short(order_id, state, run)
    return ""


def _problem(order: Order, reason_code: str, message: str) -> None:
    order_problem_raise(order=order, reason_code=reason_code, message=message)


def _said(state: WarehouseOrderState) -> str:
    return state.platform_status or state.state


@transaction.atomic
def _canceled(order_id: int, state: WarehouseOrderState, run: SyncRun | None) -> str:
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.status != OrderStatus.AT_WMS:
        return ""  # changed meanwhile (a change applied, a shipment): read again by its own path
    asked = order.changes.filter(kind=OrderChange.Kind.CANCEL).exclude(status=OrderChange.Status.SUPERSEDED)
    if asked.exists():  # one we passed on (too late or unconfirmed then) reached it: its problem is resolved
        message = f"Canceled at the warehouse, as the cart asked (the warehouse shows it {_said(state)})."
        order_set_status(order=order, status=OrderStatus.CANCELED, message=message, code=CANCELED_AT_WAREHOUSE, run=run)
        # The cancellation it said might not get there did: that problem is settled (it outlasts a status change).
        problems_resolve(prefix=order_problem_key(order=order, reason_code=CHANGE_NOT_APPLIED))
        return CANCELED_AT_WAREHOUSE
    message = (
        f"canceled at the warehouse (it shows the order {_said(state)}), not by Orderbridge or the cart: it will not "
        "ship and is not sent again. Ask the warehouse why; then cancel or refund it at the cart, or have the "
        "warehouse restore it."
    )
    order_set_status(
        order=order,
        status=OrderStatus.CANCELED,
        message=message[0].upper() + message[1:],
        code=CANCELED_AT_WAREHOUSE,
        run=run,
    )
    _problem(order, CANCELED_AT_WAREHOUSE, message)
    return CANCELED_AT_WAREHOUSE


def _gone(order: Order, said: str, run: SyncRun | None) -> str:
    key = order_problem_key(order=order, reason_code=GONE_AT_WAREHOUSE)
    message = (
        f"rejected or removed by the warehouse after it accepted the order ({said}): it will not ship. Orderbridge "
        "does not send it again by itself (the warehouse may still hold it under another number, and it would ship "
        "twice). Ask the warehouse why; then have it restore the order, or cancel it at the cart."
    )
    if not Problem.objects.filter(key=key, status=Problem.Status.OPEN).exists():
        order_event(order=order, message=message[0].upper() + message[1:], code=GONE_AT_WAREHOUSE, run=run)
    _problem(order, GONE_AT_WAREHOUSE, message)
    return GONE_AT_WAREHOUSE


@transaction.atomic
def _shipped_short(order_id: int, state: WarehouseOrderState, run: SyncRun | None) -> str:
    order = Order.objects.select_for_update().get(pk=order_id)
    if order.status != OrderStatus.AT_WMS or not order.partially_shipped:
        return ""
    ordered, shipped = units_ordered_and_shipped(order=order)
    missing = [f"{sku}: {min(shipped[sku], n)} of {n}" for sku, n in sorted(ordered.items()) if shipped[sku] < n]
    if not missing:
        return ""
    total, sent = sum(ordered.values()), sum(min(shipped[sku], n) for sku, n in ordered.items())
    message = (
        f"shipped short: {sent} of {total} units ({'; '.join(missing)}). The warehouse shows the order "
        f"{_said(state)}, so the rest will not come. Ask the warehouse, then ship the rest by hand or refund it "
        "at the cart."
    )
    order_set_status(
        order=order, status=OrderStatus.SHIPPED, message=message[0].upper() + message[1:], code=SHIPPED_SHORT, run=run
    )
    _problem(order, SHIPPED_SHORT, message)
    return SHIPPED_SHORT


def order_warehouse_side_problems(*, order: Order) -> list[Problem]:
    """The open problems a change made at the warehouse raised on the order (for its pages)."""
    return list(order.problems.filter(status=Problem.Status.OPEN, reason_code__in=WAREHOUSE_SIDE_PROBLEMS))
