"""Changes at the cart to orders we already have.

Before the order reached the warehouse, the cart's version wins: the order is updated and prepared
again, or canceled when the cart closed it. While a send may have reached the warehouse, the change
is recorded and not applied (the delivery asks the warehouse, and sends nothing the cart has
canceled), and kept to pass on once the order is found there. Sent, a cancellation of the order or
of some of its lines, or an edit, is recorded as a change to pass on (`orders.services.changes`); the
order itself keeps what the warehouse holds until the change is applied there. Shipped, the change
is too late at once (a problem for a person).
"""

from __future__ import annotations

from django.utils import timezone

from integrations.connectors.canonical import CART_CANCELED, CART_FULFILLED, CartOrder
from orders.models import HoldCode, Order, OrderLine, OrderStatus
from orders.services.changes.detect import cart_change_record
from orders.services.intake.importer import Importer
from orders.services.intake.prepare import order_prepare
from orders.services.records.history import order_event, order_set_status
from orders.services.translation.cart_fields import apply_cart_fields, build_lines

PENDING_STATUSES = (OrderStatus.NEW, OrderStatus.ERROR)
DELIVERED_STATUSES = (OrderStatus.AT_WMS, OrderStatus.SHIPPED, OrderStatus.CONFIRMED)


def known_order_update(*, importer: Importer, order: Order, cart_order: CartOrder, changed: bool = False) -> None:
    """Apply to `order` what changed at the cart since we last saw it (nothing when unchanged).

    `changed`: the caller saw a change that the cart's status and modification time do not show (a
    line Overstock canceled later, `intake.reread`)."""
    if not changed and not known_order_changed_at_cart(order=order, cart_order=cart_order):
        return  # seen again in the overlap window, unchanged
    # Locked for the page's transaction: a delivery cannot claim it while we change it, and we
    # see a claim taken before (never overwriting a worker's delivery bookkeeping).
    order = Order.objects.select_for_update().get(pk=order.pk)
    if not changed and not known_order_changed_at_cart(order=order, cart_order=cart_order):
        return
    if order.status in PENDING_STATUSES and send_in_flight(order=order):
        _changed_during_send(importer, order, cart_order)
    elif order.status in PENDING_STATUSES:
        _changed_before_delivery(importer, order, cart_order)
    else:
        _changed_after_delivery(importer, order, cart_order)


def send_in_flight(*, order: Order) -> bool:
    """A send may have reached the warehouse, or a live worker is sending it now."""
    live_claim = bool(order.claimed_by) and order.claimed_until is not None and order.claimed_until > timezone.now()
    return order.delivery_uncertain or live_claim


def _changed_during_send(importer: Importer, order: Order, co: CartOrder) -> None:
    """The warehouse may hold it already: record what the cart says and let the delivery decide; the
    change is kept (`changes.detect`) and passed on once the order is found at the warehouse."""
    cart_change_record(order=order, co=co, ctx=importer.context, run=importer.run)
    _cart_status_record(order, co)
    if co.cart_status in (CART_CANCELED, CART_FULFILLED):
        note = (
            "Closed at the cart while a send may have reached the warehouse: if the warehouse has it, "
            "ask it to stop the order; if not, it will not be sent."
        )
    else:
        note = "Changed at the cart while being sent: the change is not applied."
    order_event(order=order, message=note, code="changed_during_send", run=importer.run)


def _changed_before_delivery(importer: Importer, order: Order, co: CartOrder) -> None:
    if co.cart_status in (CART_CANCELED, CART_FULFILLED):
        why = "Canceled" if co.cart_status == CART_CANCELED else "Marked shipped"
        apply_cart_fields(order=order, co=co)
        order.hold_code, order.hold_reason = "", ""
        order_set_status(
            order=order,
            status=OrderStatus.CANCELED,
            message=f"{why} at the cart before it reached the warehouse: it will not be sent.",
            code="cart_" + co.cart_status,
            run=importer.run,
        )
        importer.counts["canceled"] += 1
        return
    apply_cart_fields(order=order, co=co)
    order.save()
    order.lines.all().delete()
    lines = build_lines(order=order, co=co)
    OrderLine.objects.bulk_create(lines)
    order_event(order=order, message="Updated from the cart (order changed there).", code="updated", run=importer.run)
    importer.counts["updated"] += 1
    if order_prepare(order=order, lines=lines, ctx=importer.context, run=importer.run) == OrderStatus.ERROR:
        importer.counts["held"] += 1


def _changed_after_delivery(importer: Importer, order: Order, co: CartOrder) -> None:
    """Record the cart's status; sent (at the warehouse or shipped), what changed is recorded as a
    change to pass on (`changes.detect`), which a shipped order meets as too late, with a problem."""
    if order.status in DELIVERED_STATUSES:
        cart_change_record(order=order, co=co, ctx=importer.context, run=importer.run)
    _cart_status_record(order, co)  # the order keeps what the warehouse holds until a change is applied


def _cart_status_record(order: Order, co: CartOrder) -> None:
    Order.objects.filter(pk=order.pk).update(
        cart_status=co.cart_status, cart_modified_at=co.modified_at or order.cart_modified_at
    )


def known_order_changed_at_cart(*, order: Order, cart_order: CartOrder) -> bool:
    """Whether the cart's copy of a stored order shows a change we have not applied."""
    co = cart_order
    if order.hold_code == HoldCode.BAD_PAYLOAD or co.cart_status != order.cart_status:
        return True
    return co.modified_at is None or order.cart_modified_at is None or co.modified_at > order.cart_modified_at


def _canceled_line_ids(co: CartOrder) -> set[str]:
    return {line.cart_line_id or str(line.line_no) for line in co.lines if line.canceled}
