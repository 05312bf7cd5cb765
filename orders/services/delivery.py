"""Orders out: deliver each order to its warehouse exactly once, in effect.

An order is claimed with a conditional UPDATE (status `new`, claim free or expired), so two
workers never send it at the same time. Before the send, `delivery_uncertain` is committed; it is
cleared only when the warehouse's answer is known. A worker that dies mid-send, a timeout or a
lost reply leaves it set, and the next attempt asks the warehouse for the `cust_ref` before
sending anything. What the warehouse holds under the reference then, or after a "duplicate reference"
answer, counts as delivered only when it is this order (`reference_check`); another order's reference
holds ours with a new one.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Max, Q
from django.utils import timezone

from integrations.connectors.base import WarehouseConnector
from integrations.connectors.canonical import CART_CANCELED, CART_FULFILLED, WarehouseOrder, WarehouseOrderRef
from integrations.connectors.errors import (
    AuthenticationError,
    BadPayloadError,
    ConnectorError,
    DuplicateReferenceError,
    OrderRejectedError,
    TemporaryError,
    ThrottledError,
)
from orders.models import HoldCode, Order, OrderStatus, SyncRun
from orders.services.delivery_batch import DELIVERY_BATCH_SIZE, TAKEN, BatchDeliverer
from orders.services.health import doubling_delay
from orders.services.history import order_event
from orders.services.reference_check import (
    HELD,
    already_there_message,
    order_hold_reference_taken,
    reference_check,
    reference_unreadable,
)
from orders.services.sync_runs import counting_into
from orders.services.translation import unknown_sku_hold, warehouse_order_for

log = logging.getLogger(__name__)

DELIVERED = "delivered"
RETRY = "retry"
SKIPPED = "skipped"
CANCELED = "canceled"


def retry_delay(attempts: int) -> timedelta:
    """Backoff after a failed attempt: `DELIVERY_RETRY_BASE_SECONDS` (a minute), doubled after each
    further failure, at most `DELIVERY_RETRY_CAP_SECONDS` (an hour)."""
    return doubling_delay(attempts, base=settings.DELIVERY_RETRY_BASE_SECONDS, cap=settings.DELIVERY_RETRY_CAP_SECONDS)


def deliverable_orders(*, cart_connection_id: int, now=None):
    now = now or timezone.now()
    return (
        Order.objects.filter(cart_connection_id=cart_connection_id, status=OrderStatus.NEW, warehouse__isnull=False)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("pk")
    )


def pending_orders_deliver(
    *,
    cart_connection_id: int,
    connector: WarehouseConnector,
    run: SyncRun | None,
    progress: Callable[[str], None] | None = None,
    counts: dict[str, int] | None = None,
) -> dict[str, int]:
    """Deliver every due `new` order of a cart connection, counting into `counts` as it goes. Stops
    (raising) when the warehouse refuses our credentials or throttles us for long: the rest waits
    for the next run."""
    counts = counting_into(counts, DELIVERED, HELD, RETRY, CANCELED)
    before = counts[DELIVERED]
    due = list(deliverable_orders(cart_connection_id=cart_connection_id).values_list("pk", "delivery_uncertain"))
    for order_id in [pk for pk, uncertain in due if uncertain]:  # may be at the warehouse: ask first
        outcome = order_deliver(order_id=order_id, connector=connector, run=run)
        key = TAKEN if outcome == SKIPPED else outcome
        counts[key] = counts.get(key, 0) + 1
    ready = [pk for pk, uncertain in due if not uncertain]
    with BatchDeliverer(connector, run, counts=counts) as deliverer:
        for start in range(0, len(ready), DELIVERY_BATCH_SIZE):
            deliverer.deliver(ready[start : start + DELIVERY_BATCH_SIZE])
            if progress:
                progress(f"delivered {counts[DELIVERED] - before} of {len(due)}")
        deliverer.finish()
    return counts


@dataclass(frozen=True)
class ClaimedElsewhere:
    """New orders of a connection that another run holds a delivery claim on: being sent, or left
    behind by a worker that stopped (taken over when the last claim ends)."""

    count: int
    last_claim_ends: datetime | None


def orders_claimed_elsewhere(*, cart_connection_id: int, now: datetime | None = None) -> ClaimedElsewhere:
    now = now or timezone.now()
    found = Order.objects.filter(
        cart_connection_id=cart_connection_id, status=OrderStatus.NEW, claimed_until__gte=now
    ).aggregate(count=Count("pk"), ends=Max("claimed_until"))
    return ClaimedElsewhere(found["count"], found["ends"])


def order_deliver(*, order_id: int, connector: WarehouseConnector, run: SyncRun | None = None) -> str:
    """Claim one order and deliver it; return DELIVERED, HELD, RETRY or SKIPPED."""
    token = uuid.uuid4().hex
    now = timezone.now()
    claimed = (
        Order.objects.filter(pk=order_id, status=OrderStatus.NEW)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(claimed_by=token, claimed_until=now + timedelta(seconds=settings.DELIVERY_CLAIM_LEASE_SECONDS))
    )
    if not claimed:
        return SKIPPED
    order = Order.objects.select_related("warehouse").get(pk=order_id)
    was_uncertain = order.delivery_uncertain  # a previous attempt may have reached the warehouse
    sending = False
    try:
        closed_at_cart = order.cart_status in (CART_CANCELED, CART_FULFILLED)
        payload = warehouse_order_for(order, list(order.lines.all()))
        check = reference_check(connector, payload) if was_uncertain else None
        if check is not None and check.ours is not None:
            message = already_there_message(payload.cust_ref, interrupted=True)
            if closed_at_cart:
                message += " It was closed at the cart meanwhile: ask the warehouse to stop it."
            return _delivered(order, token, check.ours, message, run)
        if closed_at_cart:
            return _canceled(order, token, run)
        if check is not None and check.others:  # the reference is another order's: ours never got there
            return order_hold_reference_taken(order, token, check, payload, connector, run) or SKIPPED
        still_ours = Order.objects.filter(pk=order_id, claimed_by=token).update(
            delivery_uncertain=True, delivery_attempts=F("delivery_attempts") + 1
        )
        if not still_ours:
            return SKIPPED  # our claim was taken over (this attempt outlived its lease): send nothing
        order.delivery_attempts += 1
        sending = True
        try:
            ref = connector.submit_order(payload)
        except DuplicateReferenceError:
            return _duplicate_answer(order, token, payload, connector, run)
        message = f"Delivered to {order.warehouse.platform_label} as {order.cust_ref}" + (
            f" (warehouse order {ref.warehouse_order_id})." if ref.warehouse_order_id else "."
        )
        return _delivered(order, token, ref, message, run)
    except OrderRejectedError as exc:
        return _held(order, token, exc, run, uncertain=was_uncertain and not sending)
    except (ThrottledError, AuthenticationError) as exc:
        # A 429 or 401 on the send means the warehouse did not take the order.
        _release(order, token, uncertain=was_uncertain and not sending, error=str(exc))
        raise
    except (TemporaryError, BadPayloadError) as exc:
        maybe = getattr(exc, "maybe_delivered", True) if sending else was_uncertain
        return _retry_later(order, token, exc, run, uncertain=maybe)
    except ConnectorError as exc:
        refused = OrderRejectedError(str(exc), status=exc.status)
        return _held(order, token, refused, run, uncertain=was_uncertain and not sending)
    except Exception as exc:  # a bug must not lose the order nor stop the batch
        log.exception("delivery of order %s failed", order_id)
        return _retry_later(order, token, exc, run, uncertain=sending or was_uncertain)


def _duplicate_answer(
    order: Order, token: str, payload: WarehouseOrder, connector: WarehouseConnector, run: SyncRun | None
) -> str:
    """The warehouse refused the send as a duplicate reference: delivered only if the order under it
    is this one (`reference_check`); else held with a new reference; unreadable, asked again later."""
    try:
        check = reference_check(connector, payload)
    except ConnectorError as exc:
        return _retry_later(order, token, reference_unreadable(payload.cust_ref, exc), run, uncertain=True)
    if check.ours is not None:
        return _delivered(order, token, check.ours, already_there_message(payload.cust_ref, interrupted=False), run)
    return order_hold_reference_taken(order, token, check, payload, connector, run) or SKIPPED


def _delivered(order: Order, token: str, ref: WarehouseOrderRef, message: str, run: SyncRun | None) -> str:
    now = timezone.now()
    Order.objects.filter(pk=order.pk, claimed_by=token).update(
        status=OrderStatus.AT_WMS,
        warehouse_order_id=(ref.warehouse_order_id or "")[:100],
        delivered_at=now,
        delivery_uncertain=False,
        claimed_by="",
        claimed_until=None,
        next_attempt_at=None,
        last_error="",
        hold_code="",
        hold_reason="",
    )
    order_event(order, message, code="delivered", from_status=order.status, to_status=OrderStatus.AT_WMS, run=run)
    return DELIVERED


def _canceled(order: Order, token: str, run: SyncRun | None) -> str:
    Order.objects.filter(pk=order.pk, claimed_by=token).update(
        status=OrderStatus.CANCELED, delivery_uncertain=False, claimed_by="", claimed_until=None, next_attempt_at=None
    )
    order_event(
        order,
        "Closed at the cart before it reached the warehouse (the warehouse does not have it): not sent.",
        code="cart_" + order.cart_status,
        from_status=order.status,
        to_status=OrderStatus.CANCELED,
        run=run,
    )
    return CANCELED


def _held(order: Order, token: str, exc: OrderRejectedError, run: SyncRun | None, *, uncertain: bool) -> str:
    if exc.reason_code == HoldCode.UNKNOWN_SKU and exc.skus:
        reason = unknown_sku_hold(exc.skus).message
    else:
        code_text = {
            HoldCode.MISSING_ADDRESS: "Correct the ship-to address at the cart, then retry.",
            HoldCode.UNKNOWN_SKU: "Add an SKU alias (or create the item at the warehouse), then retry.",
        }.get(exc.reason_code, "Fix what it names, then retry.")
        reason = f"The warehouse refused the order: {exc.message}. {code_text}"
    code = exc.reason_code if exc.reason_code in HoldCode.values else HoldCode.WAREHOUSE_REJECTED
    Order.objects.filter(pk=order.pk, claimed_by=token).update(
        status=OrderStatus.ERROR,
        hold_code=code,
        hold_reason=reason,
        delivery_uncertain=uncertain,
        claimed_by="",
        claimed_until=None,
        last_error=exc.message,
    )
    previous = order.status
    order.status, order.hold_code, order.hold_reason = OrderStatus.ERROR, code, reason
    order_event(order, f"Held: {reason}", code=code, from_status=previous, to_status=OrderStatus.ERROR, run=run)
    return HELD


def _retry_later(order: Order, token: str, exc: Exception, run: SyncRun | None, *, uncertain: bool) -> str:
    when = timezone.now() + retry_delay(order.delivery_attempts)
    Order.objects.filter(pk=order.pk, claimed_by=token).update(
        delivery_uncertain=uncertain, claimed_by="", claimed_until=None, next_attempt_at=when, last_error=str(exc)
    )
    asked = " The warehouse will be asked for it before any resend." if uncertain else ""
    order_event(
        order,
        f"Delivery attempt {order.delivery_attempts} failed: {exc}. Retrying after {when:%Y-%m-%d %H:%M} UTC.{asked}",
        code="delivery_failed",
        run=run,
    )
    return RETRY


def _release(order: Order, token: str, *, uncertain: bool, error: str) -> None:
    Order.objects.filter(pk=order.pk, claimed_by=token).update(
        delivery_uncertain=uncertain, claimed_by="", claimed_until=None, last_error=error
    )
