"""Making a stored, pending order ready to send, or holding it with the reason.

Used when an order is changed at the cart before it reached the warehouse, and when a hold is
lifted (`holds`); new orders go through the same steps in memory, a page at a time (`new_orders`).
"""

from __future__ import annotations

from orders.models import HoldCode, Order, OrderLine, OrderStatus, SyncRun
from orders.services.intake.cust_refs import order_assign_cust_ref
from orders.services.records.history import order_set_status
from orders.services.records.problems import order_held_problem
from orders.services.translation.translate import (
    Hold,
    TranslationContext,
    order_translate,
    order_validate,
    warehouse_order_for,
)


def order_prepare(
    *, order: Order, lines: list[OrderLine], ctx: TranslationContext, run: SyncRun | None = None, why: str = ""
) -> str:
    """Translate and validate a pending order, fix its `cust_ref`, and set it `new` or held.

    Returns the resulting status. Saves the order and its lines. An order held by hand stays held
    (with its reason), whatever the checks find: only a person's release lifts that hold.
    """
    holds: list[Hold] = order_translate(order=order, lines=lines, ctx=ctx)
    holds += order_validate(order=order, lines=lines, ctx=ctx)
    if order.warehouse_id is None and ctx.warehouse is not None:
        order.warehouse = ctx.warehouse
    if order.warehouse_id and not order.cust_ref:
        order_assign_cust_ref(order=order)
    OrderLine.objects.bulk_update(lines, ["warehouse_sku"])
    if ctx.warehouse_connector is not None and order.cust_ref:
        order.warehouse_payload = ctx.warehouse_connector.format_order(warehouse_order_for(order=order, lines=lines))
    if order.hold_code == HoldCode.HELD_BY_HAND:  # kept until a person releases it (`hand_hold`)
        order.save()
        return OrderStatus.ERROR
    if holds:
        order.hold_code = holds[0].code
        order.hold_reason = " ".join(h.message for h in holds)
        if order.status != OrderStatus.ERROR:
            order_set_status(
                order=order,
                status=OrderStatus.ERROR,
                message=f"Held: {order.hold_reason}",
                code=order.hold_code,
                run=run,
            )
        else:
            order.save()
            order_held_problem(order=order)  # still held: the open problem counts up, or names the new reason
        return OrderStatus.ERROR
    was_held = order.status == OrderStatus.ERROR
    order.hold_code, order.hold_reason = "", ""
    if was_held:
        because = f" ({why})" if why else ""
        order_set_status(
            order=order,
            status=OrderStatus.NEW,
            message=f"Released{because}: ready to send to the warehouse.",
            code="released",
            run=run,
        )
    else:
        order.save()
    return OrderStatus.NEW
