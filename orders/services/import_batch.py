"""Storing a page's new orders in a handful of queries (not a handful per order).

Everything an order needs before it is stored — translation, validation, its `cust_ref` — is
worked out in memory first; then the orders, their lines and their history rows are each written
with one bulk insert. When the insert collides (another run stored one of them a moment ago, or
took a reference), the page's new orders are stored one at a time instead, by the careful path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.accounts import connection_account_key
from integrations.connectors.canonical import CartOrder
from integrations.models import WMSConnection
from orders.models import Order, OrderLine, OrderStatus, SkippedOrder
from orders.services.bulk import rows_insert
from orders.services.cart_fields import apply_cart_fields, build_lines, fit
from orders.services.history import EventRow, order_events_write
from orders.services.lookups import cust_refs_taken
from orders.services.references import reference_candidates
from orders.services.translation import order_translate, order_validate, warehouse_order_for

if TYPE_CHECKING:
    from orders.services.importing import _PageImporter

PREFETCHED_CANDIDATES = 3


def new_orders_store(importer: _PageImporter, cart_orders: list[CartOrder]) -> None:
    connection = importer.connection
    skipped, fresh = [], []
    for co in cart_orders:
        reason = importer._skip_reason(co)
        if reason is None:
            fresh.append(co)
            continue
        skipped.append(
            SkippedOrder(
                cart_connection=connection,
                cart_order_id=co.cart_order_id,
                order_number=fit(SkippedOrder, "order_number", co.order_number),
                reason_code=reason[0],
                reason=reason[1],
                cart_status=co.cart_status,
                ordered_at=co.ordered_at,
                last_seen_at=timezone.now(),
            )
        )
    if skipped:
        SkippedOrder.objects.bulk_create(
            skipped,
            update_conflicts=True,
            unique_fields=["cart_connection", "cart_order_id"],
            update_fields=["order_number", "reason_code", "reason", "cart_status", "ordered_at", "last_seen_at"],
        )
        importer.counts["skipped"] += len(skipped)
    if not fresh:
        return
    ctx = importer.context
    orders: list[Order] = []
    lines_of: dict[int, list[OrderLine]] = {}
    holds_of: dict[int, list] = {}
    for co in fresh:
        order = Order(
            merchant_id=connection.merchant_id,
            cart_connection=connection,
            cart_order_id=co.cart_order_id,
            warehouse=ctx.warehouse,
        )
        apply_cart_fields(order, co)
        lines = build_lines(order, co)
        holds = order_translate(order, lines, ctx) + order_validate(order, lines, ctx)
        orders.append(order)
        lines_of[id(order)], holds_of[id(order)] = lines, holds
    if ctx.warehouse is not None:
        cust_refs_choose(orders, ctx.warehouse)
    for order in orders:
        holds = holds_of[id(order)]
        if ctx.warehouse_connector is not None and order.cust_ref:
            order.warehouse_payload = ctx.warehouse_connector.format_order(
                warehouse_order_for(order, lines_of[id(order)])
            )
        if holds:
            order.status = OrderStatus.ERROR
            order.hold_code = holds[0].code
            order.hold_reason = " ".join(h.message for h in holds)
    ready = [o for o in orders if o.status == OrderStatus.NEW and o.warehouse_id is not None]
    # Claimed as they are stored (committed with the page), when the delivery takes them at once.
    lease = importer.delivery.lease() if importer.delivery is not None and ready else None
    for order in ready if lease is not None else ():
        lease.apply(order)
    try:
        with transaction.atomic():
            rows_insert(Order, orders)
    except IntegrityError:
        for co in fresh:  # a concurrent run stored one of them, or took a reference: one at a time
            importer._store_new(co)
        return
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
    SkippedOrder.objects.filter(
        cart_connection=connection, cart_order_id__in=[o.cart_order_id for o in orders]
    ).delete()
    held = [o for o in orders if o.status == OrderStatus.ERROR]
    if lease is not None:
        lines_by_order = {o.pk: sorted(lines_of[id(o)], key=lambda line: line.line_no) for o in ready}
        importer.claimed.append((lease, ready, lines_by_order))
    else:
        importer.ready.extend(o.pk for o in ready)
    importer.counts["imported"] += len(orders)
    importer.counts["held"] += len(held)


def cust_refs_choose(orders: list[Order], warehouse: WMSConnection) -> None:
    """Give each order its reference in memory: the first candidate free in the warehouse's account
    (ignoring case) and in this batch. One query for the usual candidates; the unique constraint on
    (reference, account) still guards."""
    account = connection_account_key(warehouse)
    generators, first = {}, {}
    for order in orders:
        generator = reference_candidates(order, warehouse)
        generators[id(order)] = generator
        first[id(order)] = [next(generator) for _ in range(PREFETCHED_CANDIDATES)]
    wanted = {c.lower() for candidates in first.values() for c in candidates}
    taken = cust_refs_taken(account, wanted)
    for order in orders:
        for candidate in _candidates(first[id(order)], generators[id(order)]):
            key = candidate.lower()
            if key in taken:
                continue
            if key not in wanted and cust_refs_taken(account, {key}):
                taken.add(key)
                continue
            order.cust_ref, order.warehouse_account = candidate, account
            taken.add(key)
            break


def _candidates(prefetched: list[str], rest):
    yield from prefetched
    yield from rest
