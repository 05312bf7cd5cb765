"""Orders out: deliver each order to its warehouse exactly once, in effect.

An order is claimed with a conditional UPDATE (status `new`, claim free or expired), so two
workers never send it at the same time. Before the send, `delivery_uncertain` is committed; it is
cleared only when the warehouse's answer is known. A worker that dies mid-send, a timeout or a
lost reply leaves it set, and the next attempt asks the warehouse for the `cust_ref` before
sending anything. A "duplicate reference" answer counts as delivered.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from integrations.connectors.base import WarehouseConnector
from integrations.connectors.canonical import CART_CANCELED, CART_FULFILLED, WarehouseOrderRef
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
from orders.services.delivery_batch import DELIVERY_BATCH_SIZE, BatchDeliverer
from orders.services.history import order_event
from orders.services.translation import unknown_sku_hold, warehouse_order_for

log = logging.getLogger(__name__)

DELIVERED = "delivered"
HELD = "held"
RETRY = "retry"
SKIPPED = "skipped"
CANCELED = "canceled"


def retry_delay(attempts: int) -> timedelta:
    """Backoff after a failed attempt: `DELIVERY_RETRY_BASE_SECONDS` (a minute), doubled after each
    further failure, at most `DELIVERY_RETRY_CAP_SECONDS` (an hour)."""
    base, cap = settings.DELIVERY_RETRY_BASE_SECONDS, settings.DELIVERY_RETRY_CAP_SECONDS
    return timedelta(seconds=min(base * 2 ** min(max(attempts - 1, 0), 32), cap))


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
) -> dict[str, int]:
    """Deliver every due `new` order of a cart connection. Stops (raising) when the warehouse
    refuses our credentials or throttles us for long: the rest waits for the next run."""
    counts = {DELIVERED: 0, HELD: 0, RETRY: 0, CANCELED: 0}
    due = list(deliverable_orders(cart_connection_id=cart_connection_id).values_list("pk", "delivery_uncertain"))
    for order_id in [pk for pk, uncertain in due if uncertain]:  # may be at the warehouse: ask first
        outcome = order_deliver(order_id=order_id, connector=connector, run=run)
        if outcome in counts:
            counts[outcome] += 1
    ready = [pk for pk, uncertain in due if not uncertain]
    with BatchDeliverer(connector, run) as deliverer:
        try:
            for start in range(0, len(ready), DELIVERY_BATCH_SIZE):
                deliverer.deliver(ready[start : start + DELIVERY_BATCH_SIZE])
                if progress:
                    progress(f"delivered {counts[DELIVERED] + deliverer.counts[DELIVERED]} of {len(due)}")
            deliverer.finish()
        finally:
            deliverer.counts_into(counts)
    return counts


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
        if was_uncertain:
            found = connector.find_order(order.cust_ref or "")
            if found is not None:
                message = f"Found at the warehouse as {order.cust_ref} after an interrupted send: not sent again."
                if closed_at_cart:
                    message += " It was closed at the cart meanwhile: ask the warehouse to stop it."
                return _delivered(order, token, found, message, run)
        if closed_at_cart:
            return _canceled(order, token, run)
        still_ours = Order.objects.filter(pk=order_id, claimed_by=token).update(
            delivery_uncertain=True, delivery_attempts=F("delivery_attempts") + 1
        )
        if not still_ours:
            return SKIPPED  # our claim was taken over (this attempt outlived its lease): send nothing
        order.delivery_attempts += 1
        payload = warehouse_order_for(order, list(order.lines.all()))
        sending = True
        try:
            ref = connector.submit_order(payload)
        except DuplicateReferenceError:
            ref = _find_quietly(connector, order.cust_ref) or WarehouseOrderRef("", order.cust_ref or "")
            message = f"The warehouse already had reference {order.cust_ref}: counted as delivered, not sent again."
        else:
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


def _find_quietly(connector: WarehouseConnector, cust_ref: str | None) -> WarehouseOrderRef | None:
    try:
        return connector.find_order(cust_ref or "")
    except ConnectorError:
        return None


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
