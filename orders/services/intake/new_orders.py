"""Storing new orders: a page's at once, in a handful of queries (not a handful per order).

Everything an order needs before it is stored — translation, validation, its `cust_ref` — is
worked out in memory first; then the orders, their lines and their history rows are each written
with one bulk insert. When the insert collides (another run stored one of them a moment ago, or
took a reference), the page's new orders are stored one at a time by the same path, each in its
own savepoint: one that another run stored is a known order now, and one whose reference was taken
meanwhile chooses again.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.connectors.canonical import CartOrder
from integrations.models import CartConnection
from orders.models import Order, OrderLine, OrderStatus, SkippedOrder
from orders.services.bulk import rows_insert
from orders.services.intake.cust_refs import cust_refs_choose
from orders.services.intake.importer import Importer
from orders.services.intake.known_orders import known_order_update
from orders.services.intake.skipping import skipped_orders_store
from orders.services.records.history import EventRow, order_events_write
from orders.services.translation.cart_fields import apply_cart_fields, build_lines
from orders.services.translation.translate import Hold, order_translate, order_validate, warehouse_order_for

COLLISION_ATTEMPTS = 3  # one order stored alone, its reference taken by another run each time


def new_orders_store(*, importer: Importer, cart_orders: list[CartOrder]) -> None:
    """Store the page's new orders, or record why one is skipped. Those ready to send are given to
    `importer` (claimed under the delivery's lease when it gives one) for after the page commits."""
    fresh = skipped_orders_store(importer=importer, cart_orders=cart_orders)
    if not fresh or _orders_store(importer, fresh, hand_over=True):
        return
    for co in fresh:  # a concurrent run stored one of them, or took a reference: one at a time
        _order_store_alone(importer, co)


def _order_store_alone(importer: Importer, co: CartOrder) -> None:
    """Store one new order after a collision; left for the run's pending deliveries, not handed over."""
    for _ in range(COLLISION_ATTEMPTS):
        if _orders_store(importer, [co], hand_over=False):
            return
        stored = Order.objects.filter(cart_connection=importer.connection, cart_order_id=co.cart_order_id).first()
        if stored is not None:  # another run stored it a moment ago: it is an existing order now
            known_order_update(importer=importer, order=stored, cart_order=co)
            return
    raise RuntimeError(f"no free cust_ref for cart order {co.cart_order_id!r}: taken by other runs each time")


def _orders_store(importer: Importer, fresh: list[CartOrder], *, hand_over: bool) -> bool:
    """Store `fresh` with their lines and history; False, with none of them stored, on a collision."""
    connection = importer.connection
    orders, lines_of = _orders_build(importer, fresh)
    # Those waiting in the connection's hold window are not handed over: a run after it sends them.
    ready = [o for o in orders if o.status == OrderStatus.NEW and o.warehouse_id is not None and o.hold_until is None]
    # Claimed as they are stored (committed with the page), when the delivery takes them at once.
    lease = importer.delivery.lease() if hand_over and importer.delivery is not None and ready else None
    for order in ready if lease is not None else ():
        lease.apply(order)
    try:
        with transaction.atomic():
            rows_insert(Order, orders)
    except IntegrityError:
        return False
    _imported_rows_write(importer, orders, lines_of)
    SkippedOrder.objects.filter(
        cart_connection=connection, cart_order_id__in=[o.cart_order_id for o in orders]
    ).delete()
    held = [o for o in orders if o.status == OrderStatus.ERROR]
    if lease is not None:
        lines_by_order = {o.pk: sorted(lines_of[id(o)], key=lambda line: line.line_no) for o in ready}
        importer.claimed.append((lease, ready, lines_by_order))
    elif hand_over:
        importer.ready.extend(o.pk for o in ready)
    importer.counts["imported"] += len(orders)
    importer.counts["held"] += len(held)
    return True


def _orders_build(importer: Importer, fresh: list[CartOrder]) -> tuple[list[Order], dict[int, list[OrderLine]]]:
    """The orders and their lines (by `id()` of the order) in memory: translated, validated, with
    their references and warehouse payloads, held where a rule says so."""
    connection, ctx = importer.connection, importer.context
    orders: list[Order] = []
    lines_of: dict[int, list[OrderLine]] = {}
    holds_of: dict[int, list[Hold]] = {}
    for co in fresh:
        order = Order(
            merchant_id=connection.merchant_id,
            cart_connection=connection,
            cart_order_id=co.cart_order_id,
            warehouse=ctx.warehouse,
        )
        apply_cart_fields(order=order, co=co)
        lines = build_lines(order=order, co=co)
        holds = order_translate(order=order, lines=lines, ctx=ctx) + order_validate(order=order, lines=lines, ctx=ctx)
        orders.append(order)
        lines_of[id(order)], holds_of[id(order)] = lines, holds
    if ctx.warehouse is not None:
        cust_refs_choose(orders=orders, warehouse=ctx.warehouse)
    now = timezone.now()
    for order in orders:
        order.hold_until = hold_window_end(connection=connection, ordered_at=order.ordered_at, now=now)
        holds = holds_of[id(order)]
        if ctx.warehouse_connector is not None and order.cust_ref:
            order.warehouse_payload = ctx.warehouse_connector.format_order(
                warehouse_order_for(order=order, lines=lines_of[id(order)])
            )
        if holds:
            order.status = OrderStatus.ERROR
            order.hold_code = holds[0].code
            order.hold_reason = " ".join(h.message for h in holds)
    return orders, lines_of


def hold_window_end(*, connection: CartConnection, ordered_at: datetime | None, now: datetime) -> datetime | None:
    """When a new order's hold window ends, or None when it has none left.

    Counted from when the order was placed, as the customer sees it (the window is the time they
    have to change their mind, whenever our sync happens to read the order), or from now when the
    cart gives no time or one in the future; plus `ORDER_IMPORT_LAG_SECONDS`, so that the import
    before the send has read the cart up to the window's end."""
    if not connection.hold_minutes:
        return None
    start = min(ordered_at or now, now)
    ends = start + connection.hold_window + timedelta(seconds=settings.ORDER_IMPORT_LAG_SECONDS)
    return ends if ends > now else None


def _imported_rows_write(importer: Importer, orders: list[Order], lines_of: dict[int, list[OrderLine]]) -> None:
    """The stored orders' lines, and their history: imported, and held where they are."""
    connection = importer.connection
    all_lines, events = [], []
    label = connection.platform_label
    for order in orders:
        for line in lines_of[id(order)]:
            line.order = order
            all_lines.append(line)
        events.append(
            EventRow(
                order=order,
                message=f"Imported from {label} (order #{order.order_number}).",
                code="imported",
                to_status=OrderStatus.NEW,
            )
        )
        if order.status == OrderStatus.ERROR:
            events.append(
                EventRow(
                    order=order,
                    message=f"Held: {order.hold_reason}",
                    code=order.hold_code,
                    from_status=OrderStatus.NEW,
                    to_status=OrderStatus.ERROR,
                )
            )
    rows_insert(OrderLine, all_lines)
    order_events_write(events=events, run=importer.run, new_orders=True)  # and the held orders' problems
