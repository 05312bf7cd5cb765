"""Orders out: deliver each order to its warehouse exactly once, in effect.

An order is claimed with a conditional UPDATE (status `new`, claim free or expired), so two
workers never send it at the same time; that claim and every later change of the order's delivery
state go through `claims`. Before the send, `delivery_uncertain` is committed; it is
cleared only when the warehouse's answer is known. A worker that dies mid-send, a timeout or a
lost reply leaves it set, and the next attempt asks the warehouse for the `cust_ref` before
sending anything. What the warehouse holds under the reference then, or after a "duplicate reference"
answer, counts as delivered only when it is this order (`reference_check`); another order's reference
holds ours with a new one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from integrations.connectors.base import WarehouseConnector
from integrations.connectors.canonical import CART_CANCELED, CART_FULFILLED, WarehouseOrder
from integrations.connectors.errors import (
    AuthenticationError,
    BadPayloadError,
    ConnectorError,
    DuplicateReferenceError,
    OrderRejectedError,
    TemporaryError,
    ThrottledError,
)
from orders.models import Order, SyncRun
from orders.selectors import deliverable_orders
from orders.services.delivery.batch import BatchDeliverer
from orders.services.delivery.claims import (
    DELIVERY_BATCH_SIZE,
    DELIVERY_COUNTS,
    TAKEN,
    DeliveryOutcome,
    delivered_message,
    order_cancel,
    order_claim,
    order_hold,
    order_hold_reference_taken,
    order_mark_delivered,
    order_mark_uncertain,
    order_release,
    order_retry_later,
)
from orders.services.delivery.reference_check import already_there_message, reference_check, reference_unreadable
from orders.services.delivery.turns import DeliveryTurn
from orders.services.delivery.verify import (
    VERIFY_COUNTS,
    matched,
    orders_verification_record,
    unverified_orders_recheck,
    warehouse_read_back,
)
from orders.services.records.sync_runs import counting_into
from orders.services.translation.translate import warehouse_order_for

log = logging.getLogger(__name__)


def pending_orders_deliver(
    *,
    cart_connection_id: int,
    connector: WarehouseConnector,
    run: SyncRun | None,
    progress: Callable[[str], None] | None = None,
    counts: dict[str, int] | None = None,
    turn: DeliveryTurn | None = None,
) -> dict[str, int]:
    """Deliver every due `new` order of a cart connection, counting into `counts` as it goes; with a
    `turn`, as many batches as it allows (the rest deferred). Stops (raising) when the warehouse
    refuses our credentials or throttles us for long: the rest waits for the next run."""
    counts = counting_into(counts, *DELIVERY_COUNTS, *VERIFY_COUNTS)
    before = counts[DeliveryOutcome.DELIVERED]
    due = list(deliverable_orders(cart_connection_id=cart_connection_id).values_list("pk", "delivery_uncertain"))
    for order_id in [pk for pk, uncertain in due if uncertain]:  # may be at the warehouse: ask first
        outcome = order_deliver(order_id=order_id, connector=connector, run=run, counts=counts)
        key = TAKEN if outcome == DeliveryOutcome.SKIPPED else outcome.value
        counts[key] = counts.get(key, 0) + 1
    ready = [pk for pk, uncertain in due if not uncertain]
    with BatchDeliverer(connector, run, counts=counts, turn=turn) as deliverer:
        for start in range(0, len(ready), DELIVERY_BATCH_SIZE):
            deliverer.deliver(ready[start : start + DELIVERY_BATCH_SIZE])
            if progress:
                progress(f"delivered {counts[DeliveryOutcome.DELIVERED] - before} of {len(due)}")
        deliverer.finish()
    # Earlier deliveries not verified yet, read back again when due (bounded per run).
    unverified_orders_recheck(cart_connection_id=cart_connection_id, connector=connector, run=run, counts=counts)
    return counts


def order_deliver(
    *, order_id: int, connector: WarehouseConnector, run: SyncRun | None = None, counts: dict[str, int] | None = None
) -> DeliveryOutcome:
    """Claim one order and deliver it; return DELIVERED, HELD, RETRY, CANCELED or SKIPPED. A delivered
    order is read back (`verify`), counted as verified or unverified into `counts` when given."""
    lease = order_claim(order_id=order_id)
    if lease is None:
        return DeliveryOutcome.SKIPPED
    token = lease.token
    order = Order.objects.select_related("warehouse").get(pk=order_id)
    was_uncertain = order.delivery_uncertain  # a previous attempt may have reached the warehouse
    sending = False
    try:
        lines = list(order.lines.all())
        payload = warehouse_order_for(order=order, lines=lines)
        if was_uncertain:
            found = _found_before_sending(order, token, payload, connector, run, counts)
            if found is not None:
                return found
        elif order.cart_status in (CART_CANCELED, CART_FULFILLED):
            return order_cancel(order=order, token=token, run=run)
        if not order_mark_uncertain(order=order, token=token):
            return DeliveryOutcome.SKIPPED  # our claim was taken over (this attempt outlived its lease): send nothing
        sending = True
        try:
            ref = connector.submit_order(payload)
        except DuplicateReferenceError:
            return _duplicate_answer(order, token, payload, connector, run, counts)
        outcome = order_mark_delivered(
            order=order, token=token, ref=ref, message=delivered_message(order, ref, lines), run=run
        )
        check = warehouse_read_back(connector=connector, sent=payload, ref=ref)
        orders_verification_record(checks=[(order, check)], run=run, counts=counts)
        return outcome
    except OrderRejectedError as exc:
        return order_hold(order=order, token=token, exc=exc, run=run, uncertain=was_uncertain and not sending)
    except (ThrottledError, AuthenticationError) as exc:
        # A 429 or 401 on the send means the warehouse did not take the order.
        order_release(order=order, token=token, uncertain=was_uncertain and not sending, error=str(exc))
        raise
    except (TemporaryError, BadPayloadError) as exc:
        maybe = getattr(exc, "maybe_delivered", True) if sending else was_uncertain
        return order_retry_later(order=order, token=token, exc=exc, run=run, uncertain=maybe)
    except ConnectorError as exc:
        refused = OrderRejectedError(str(exc), status=exc.status)
        return order_hold(order=order, token=token, exc=refused, run=run, uncertain=was_uncertain and not sending)
    except Exception as exc:  # a bug must not lose the order nor stop the batch
        log.exception("delivery of order %s failed", order_id)
        return order_retry_later(order=order, token=token, exc=exc, run=run, uncertain=sending or was_uncertain)


def _found_before_sending(
    order: Order,
    token: str,
    payload: WarehouseOrder,
    connector: WarehouseConnector,
    run: SyncRun | None,
    counts: dict[str, int] | None,
) -> DeliveryOutcome | None:
    """An uncertain order (a previous send may have reached the warehouse): ask the warehouse for its
    reference first. Delivered when it is this order there; canceled when closed at the cart and not
    there; held when only another order has the reference; None when it may be sent (again)."""
    check = reference_check(connector=connector, sent=payload)
    closed_at_cart = order.cart_status in (CART_CANCELED, CART_FULFILLED)
    if check.ours is not None:
        message = already_there_message(payload.cust_ref, interrupted=True)
        if closed_at_cart:
            message += " It was closed at the cart meanwhile: ask the warehouse to stop it."
        outcome = order_mark_delivered(order=order, token=token, ref=check.ours, message=message, run=run)
        orders_verification_record(checks=[(order, matched(ref=check.ours))], run=run, counts=counts)
        return outcome
    if closed_at_cart:
        return order_cancel(order=order, token=token, run=run)
    if check.others:  # the reference is another order's: ours never got there
        return order_hold_reference_taken(
            order=order, token=token, check=check, sent=payload, connector=connector, run=run
        )
    return None


def _duplicate_answer(
    order: Order,
    token: str,
    payload: WarehouseOrder,
    connector: WarehouseConnector,
    run: SyncRun | None,
    counts: dict[str, int] | None,
) -> DeliveryOutcome:
    """The warehouse refused the send as a duplicate reference: delivered only if the order under it
    is this one (`reference_check`); else held with a new reference; unreadable, asked again later."""
    try:
        check = reference_check(connector=connector, sent=payload)
    except ConnectorError as exc:
        unreadable = reference_unreadable(payload.cust_ref, exc)
        return order_retry_later(order=order, token=token, exc=unreadable, run=run, uncertain=True)
    if check.ours is not None:
        message = already_there_message(payload.cust_ref, interrupted=False)
        outcome = order_mark_delivered(order=order, token=token, ref=check.ours, message=message, run=run)
        orders_verification_record(checks=[(order, matched(ref=check.ours))], run=run, counts=counts)
        return outcome
    return order_hold_reference_taken(order=order, token=token, check=check, sent=payload, connector=connector, run=run)
