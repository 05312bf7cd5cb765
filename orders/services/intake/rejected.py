"""Orders the cart sent in a form we cannot store: held with the reason, or named on the run.

Whatever the connector let by, an order our columns cannot hold is turned down here, before any
of it is written; an order we already have is held only while it has not reached the warehouse.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction

from integrations.connectors.canonical import MAX_PRICE, MAX_QUANTITY, CartOrder, OrderPage, RejectedCartOrder
from orders.models import HoldCode, Order, OrderStatus
from orders.services.intake.importer import Importer
from orders.services.intake.known_orders import PENDING_STATUSES, send_in_flight
from orders.services.records.history import order_event, order_set_status
from orders.services.translation.cart_fields import fit, jsonable


def page_storable(*, page: OrderPage) -> OrderPage:
    """The page with orders our columns cannot hold moved to its rejected orders, with the reason.
    An id with a NUL character can be neither stored nor looked up (PostgreSQL refuses it in text):
    its order is rejected as one without an id, which the run names."""
    orders, rejected = [], []
    for co in page.orders:
        bad_id = _unusable_id(co.cart_order_id)
        reason = bad_id or _out_of_range(co)
        if not reason:
            orders.append(co)
            continue
        rejected.append(
            RejectedCartOrder(
                cart_order_id="" if bad_id else co.cart_order_id,
                order_number=fit(Order, "order_number", co.order_number),
                reason=reason,
                raw=co.raw,
            )
        )
    for bad in page.rejected:
        bad_id = _unusable_id(bad.cart_order_id)
        if bad_id:
            bad.reason, bad.cart_order_id = f"{bad_id}; {bad.reason}", ""
        rejected.append(bad)
    return OrderPage(orders=orders, rejected=rejected)


def rejected_order_store(*, importer: Importer, rejected: RejectedCartOrder, order: Order | None) -> None:
    """Hold the order (`order`: ours already, if known) with the reason, or name it on the run when
    it has no id to store it under."""
    if order is not None:
        order = Order.objects.select_for_update().get(pk=order.pk)
    importer.counts["rejected"] += 1
    rejected.reason = rejected.reason.replace("\x00", "")
    message = (
        f"The cart sent this order in a form we cannot read: {rejected.reason}. "
        "Fix it at the cart; the next sync reads it again."
    )
    run = importer.run
    if not rejected.cart_order_id:
        run.error = (run.error + "\n" if run.error else "") + f"An order without an id was skipped: {rejected.reason}"
        return
    if order is None:
        _new_order_hold(importer, rejected, message)
    elif (
        order.status in PENDING_STATUSES
        and not send_in_flight(order=order)
        and order.hold_code not in (HoldCode.BAD_PAYLOAD, HoldCode.HELD_BY_HAND)  # a hand hold stays a person's
    ):
        order.hold_code, order.hold_reason = HoldCode.BAD_PAYLOAD, message
        order.cart_payload = jsonable(rejected.raw)
        order_set_status(order=order, status=OrderStatus.ERROR, message=message, code=HoldCode.BAD_PAYLOAD, run=run)
        importer.counts["held"] += 1


def _new_order_hold(importer: Importer, rejected: RejectedCartOrder, message: str) -> None:
    connection = importer.connection
    order = Order(
        merchant_id=connection.merchant_id,
        cart_connection=connection,
        cart_order_id=rejected.cart_order_id,
        order_number=fit(Order, "order_number", rejected.order_number or rejected.cart_order_id),
        status=OrderStatus.ERROR,
        hold_code=HoldCode.BAD_PAYLOAD,
        hold_reason=message,
        cart_payload=jsonable(rejected.raw),
    )
    try:
        with transaction.atomic():
            order.save()
    except IntegrityError:
        return
    order_event(order=order, message=message, code=HoldCode.BAD_PAYLOAD, to_status=OrderStatus.ERROR, run=importer.run)
    importer.counts["held"] += 1


def _out_of_range(co: CartOrder) -> str:
    """Why an order our columns cannot hold must be turned down (whatever the connector let by)."""
    for line in co.lines:
        if not 0 <= line.quantity <= MAX_QUANTITY:
            return f"line {line.line_no}: quantity {line.quantity} is not one an order holds"
        if not line.price.is_finite() or abs(line.price) > MAX_PRICE:
            return f"line {line.line_no}: price {line.price} is out of range"
    return ""


def _unusable_id(cart_order_id: str | None) -> str:
    if cart_order_id and "\x00" in cart_order_id:
        return f"its id {cart_order_id[:60]!r} holds a NUL character, which no database column can store"
    return ""
