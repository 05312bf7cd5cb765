"""The one module that changes an order's claim and delivery state.

A delivery attempt holds its order under a claim, a token and the end of its lease (`claimed_by`,
`claimed_until`), taken with a conditional UPDATE: a `new` order whose claim is free or expired (the
claim of a worker that stopped is taken over that way), so two workers never send it at the same
time. Every later change of the attempt is a conditional UPDATE too, guarded by the token ("still
ours"): marked uncertain before the send, then delivered, held, canceled, retried later or released.
An attempt that outlived its lease leaves the order's row to the worker that took it over.

Both delivery paths go through here: `deliver` one order at a time, `batch` a batch at a
time (with one UPDATE per batch wherever the orders share the change). Each change a person needs to
know of writes its history row through `history`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations.connectors.base import WarehouseConnector
from integrations.connectors.canonical import WarehouseOrder, WarehouseOrderRef
from integrations.connectors.errors import ConnectorError, OrderRejectedError
from orders.models import HoldCode, Order, OrderStatus, SyncRun
from orders.selectors import hold_window_over
from orders.services.bulk import rows_update
from orders.services.delivery.reference_check import ReferenceCheck, reference_taken_reason
from orders.services.records.health import doubling_delay
from orders.services.records.history import EventRow, order_event, order_events_write
from orders.services.translation.references import order_reference_propose
from orders.services.translation.translate import adaptation_note, canceled_lines_note, unknown_sku_hold

DELIVERY_BATCH_SIZE = 50  # orders claimed, sent and recorded together
TAKEN = "taken_by_another_run"  # the count of orders another run claimed first (one at a time: SKIPPED)

CLOSED_AT_CART = "Closed at the cart before it reached the warehouse (the warehouse does not have it): not sent."


class DeliveryOutcome(StrEnum):
    """What one delivery attempt did with its order. A run counts them under their values, and
    SKIPPED under TAKEN."""

    DELIVERED = "delivered"
    HELD = "held"
    RETRY = "retry"
    CANCELED = "canceled"
    SKIPPED = "skipped"  # claimed by another attempt, or its claim was taken over: left to that one


# What a delivery run counts from the start, as the plain strings its counts are keyed by.
DELIVERY_COUNTS = tuple(
    o.value for o in (DeliveryOutcome.DELIVERED, DeliveryOutcome.HELD, DeliveryOutcome.RETRY, DeliveryOutcome.CANCELED)
)


def retry_delay(attempts: int) -> timedelta:
    """Backoff after a failed attempt: `DELIVERY_RETRY_BASE_SECONDS` (a minute), doubled after each
    further failure, at most `DELIVERY_RETRY_CAP_SECONDS` (an hour)."""
    return doubling_delay(attempts, base=settings.DELIVERY_RETRY_BASE_SECONDS, cap=settings.DELIVERY_RETRY_CAP_SECONDS)


@dataclass(frozen=True)
class ClaimLease:
    """A delivery claim: the token that says "still ours", held until `until`. New orders an import
    stores for immediate delivery take it as they are first stored (`apply`): committed with them,
    it is the state `orders_claim` would leave them in, without its UPDATE and re-read."""

    token: str
    until: datetime

    @classmethod
    def new(cls, now: datetime | None = None) -> ClaimLease:
        """A fresh token, held for `DELIVERY_CLAIM_LEASE_SECONDS` from `now`."""
        now = now or timezone.now()
        return cls(uuid.uuid4().hex, now + timedelta(seconds=settings.DELIVERY_CLAIM_LEASE_SECONDS))

    def apply(self, order: Order) -> None:
        order.claimed_by, order.claimed_until = self.token, self.until
        order.delivery_uncertain = True  # from here on a crash makes the next attempt ask the warehouse first
        order.delivery_attempts += 1


def _claim_free(now: datetime) -> Q:
    """Never claimed, released, or claimed by an attempt whose lease has ended (taken over)."""
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


def order_claim(*, order_id: int) -> ClaimLease | None:
    """Claim a `new` order out of its hold window for one attempt, taking over an expired claim; None
    when another attempt holds it, it waits in its hold window or it is no longer `new`. Whether it
    may be uncertain is the caller's to ask."""
    now = timezone.now()
    lease = ClaimLease.new(now)
    claimed = (
        Order.objects.filter(pk=order_id, status=OrderStatus.NEW)
        .filter(_claim_free(now), hold_window_over(now=now))
        .update(claimed_by=lease.token, claimed_until=lease.until)
    )
    return lease if claimed else None


def orders_claim(*, order_ids: list[int]) -> tuple[ClaimLease, int]:
    """Claim the `new`, not-uncertain orders among `order_ids` out of their hold window (taking over
    expired claims) and mark them uncertain with their attempt counted, in one UPDATE committed
    before any send: a crash from here on makes the next attempt ask the warehouse first. Returns
    the lease and how many it took (the orders with `claimed_by=lease.token`)."""
    now = timezone.now()
    lease = ClaimLease.new(now)
    claimed = (
        Order.objects.filter(pk__in=order_ids, status=OrderStatus.NEW, delivery_uncertain=False)
        .filter(_claim_free(now), hold_window_over(now=now))
        .update(
            claimed_by=lease.token,
            claimed_until=lease.until,
            delivery_uncertain=True,
            delivery_attempts=F("delivery_attempts") + 1,
        )
    )
    return lease, claimed


def order_mark_uncertain(*, order: Order, token: str) -> bool:
    """Before the send: mark the order uncertain and count the attempt (committed first, so that a
    lost answer makes the next attempt ask the warehouse). False when the claim was taken over (this
    attempt outlived its lease): then nothing may be sent."""
    still_ours = Order.objects.filter(pk=order.pk, claimed_by=token).update(
        delivery_uncertain=True, delivery_attempts=F("delivery_attempts") + 1
    )
    if still_ours:
        order.delivery_attempts += 1
    return bool(still_ours)


def delivered_message(order: Order, ref: WarehouseOrderRef, lines: Iterable) -> str:
    """The history line of an order the warehouse took from our send (of `lines`, the order's lines
    as sent from), with what the send adapted and what it left out."""
    return (
        f"Delivered to {order.warehouse.platform_label} as {order.cust_ref}"
        + (f" (warehouse order {ref.warehouse_order_id})." if ref.warehouse_order_id else ".")
        + adaptation_note(order=order)
        + canceled_lines_note(lines=lines)
    )


def order_mark_delivered(
    *, order: Order, token: str, ref: WarehouseOrderRef, message: str, run: SyncRun | None
) -> DeliveryOutcome:
    Order.objects.filter(pk=order.pk, claimed_by=token).update(
        status=OrderStatus.AT_WMS,
        warehouse_order_id=(ref.warehouse_order_id or "")[:100],
        delivered_at=timezone.now(),
        delivery_uncertain=False,
        claimed_by="",
        claimed_until=None,
        next_attempt_at=None,
        last_error="",
        hold_code="",
        hold_reason="",
    )
    order_event(
        order=order, message=message, code="delivered", from_status=order.status, to_status=OrderStatus.AT_WMS, run=run
    )
    return DeliveryOutcome.DELIVERED


DELIVERED_FIELDS = (
    "warehouse_order_id",
    "status",
    "delivered_at",
    "delivery_uncertain",
    "claimed_by",
    "claimed_until",
    "next_attempt_at",
    "last_error",
    "hold_code",
    "hold_reason",
)


def orders_mark_delivered(
    *, delivered: list[tuple[Order, WarehouseOrderRef, str]], token: str, run: SyncRun | None
) -> None:
    """`order_mark_delivered` for a batch (each order with its warehouse reference and history line):
    one conditional UPDATE per order (still ours), sent as one statement, and the history written in
    bulk. The status and its history are committed together, so neither is ever seen without the other."""
    if not delivered:
        return
    shared = (OrderStatus.AT_WMS, timezone.now(), False, "", None, None, "", "", "")
    rows, events = [], []
    for order, ref, message in delivered:
        order.warehouse_order_id = (ref.warehouse_order_id or "")[:100]
        rows.append((order.warehouse_order_id, *shared, order.pk, token))
        events.append(EventRow(order, message, "delivered", OrderStatus.NEW, OrderStatus.AT_WMS))
    with transaction.atomic():
        rows_update(Order, DELIVERED_FIELDS, rows, where=("pk", "claimed_by"))
        order_events_write(events=events, run=run)


def order_cancel(*, order: Order, token: str, run: SyncRun | None) -> DeliveryOutcome:
    """An order closed at the cart before any send reached the warehouse: canceled, never sent."""
    Order.objects.filter(pk=order.pk, claimed_by=token).update(
        status=OrderStatus.CANCELED, delivery_uncertain=False, claimed_by="", claimed_until=None, next_attempt_at=None
    )
    order_event(
        order=order,
        message=CLOSED_AT_CART,
        code="cart_" + order.cart_status,
        from_status=order.status,
        to_status=OrderStatus.CANCELED,
        run=run,
    )
    return DeliveryOutcome.CANCELED


def orders_cancel(*, orders: list[Order], token: str, run: SyncRun | None) -> None:
    """`order_cancel` for orders claimed by `orders_claim`, whose attempt it counted: not counted, as none was made."""
    Order.objects.filter(pk__in=[o.pk for o in orders], claimed_by=token).update(
        status=OrderStatus.CANCELED,
        delivery_uncertain=False,
        claimed_by="",
        claimed_until=None,
        next_attempt_at=None,
        delivery_attempts=F("delivery_attempts") - 1,
    )
    events = [EventRow(o, CLOSED_AT_CART, "cart_" + o.cart_status, o.status, OrderStatus.CANCELED) for o in orders]
    order_events_write(events=events, run=run)


def _hold_reason(exc: OrderRejectedError) -> str:
    if exc.reason_code == HoldCode.UNKNOWN_SKU and exc.skus:
        return unknown_sku_hold(exc.skus).message
    code_text = {
        HoldCode.MISSING_ADDRESS: "Correct the ship-to address at the cart, then retry.",
        HoldCode.UNKNOWN_SKU: "Add an SKU alias (or create the item at the warehouse), then retry.",
    }.get(exc.reason_code, "Fix what it names, then retry.")
    return f"The warehouse refused the order: {exc.message}. {code_text}"


def order_hold(
    *, order: Order, token: str, exc: OrderRejectedError, run: SyncRun | None, uncertain: bool
) -> DeliveryOutcome:
    """The warehouse refused the order: held until a person fixes what it names."""
    reason = _hold_reason(exc)
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
    order_event(
        order=order, message=f"Held: {reason}", code=code, from_status=previous, to_status=OrderStatus.ERROR, run=run
    )
    return DeliveryOutcome.HELD


def order_hold_reference_taken(
    *,
    order: Order,
    token: str,
    check: ReferenceCheck,
    sent: WarehouseOrder,
    connector: WarehouseConnector,
    run: SyncRun | None,
) -> DeliveryOutcome:
    """Hold an order whose reference another order has at the warehouse, and give it the next free
    reference (its payload preview follows). SKIPPED when the claim was taken over meanwhile (then
    nothing changes)."""
    with transaction.atomic():
        held = Order.objects.filter(pk=order.pk, claimed_by=token).update(
            status=OrderStatus.ERROR,
            hold_code=HoldCode.REFERENCE_TAKEN,
            delivery_uncertain=False,
            claimed_by="",
            claimed_until=None,
            last_error=f"Reference {check.cust_ref} already used at the warehouse by another order",
        )
        if not held:
            return DeliveryOutcome.SKIPPED
        proposed = order_reference_propose(order=order)
        reason = reference_taken_reason(check, proposed)
        sent.cust_ref = order.cust_ref or sent.cust_ref
        Order.objects.filter(pk=order.pk).update(hold_reason=reason, warehouse_payload=connector.format_order(sent))
        previous = order.status
        order.status, order.hold_code, order.hold_reason = OrderStatus.ERROR, HoldCode.REFERENCE_TAKEN, reason
        order_event(
            order=order,
            message=f"Held: {reason}",
            code=HoldCode.REFERENCE_TAKEN,
            from_status=previous,
            to_status=OrderStatus.ERROR,
            run=run,
        )
    return DeliveryOutcome.HELD


def order_retry_later(
    *, order: Order, token: str, exc: Exception, run: SyncRun | None, uncertain: bool
) -> DeliveryOutcome:
    """The attempt failed for now: released, due again after `retry_delay`. `uncertain` when the
    send may have reached the warehouse (it is asked before any resend)."""
    when = timezone.now() + retry_delay(order.delivery_attempts)
    Order.objects.filter(pk=order.pk, claimed_by=token).update(
        delivery_uncertain=uncertain, claimed_by="", claimed_until=None, next_attempt_at=when, last_error=str(exc)
    )
    asked = " The warehouse will be asked for it before any resend." if uncertain else ""
    order_event(
        order=order,
        message=f"Delivery attempt {order.delivery_attempts} failed: {exc}. "
        f"Retrying after {when:%Y-%m-%d %H:%M} UTC.{asked}",
        code="delivery_failed",
        run=run,
    )
    return DeliveryOutcome.RETRY


def order_release(*, order: Order, token: str, uncertain: bool, error: str) -> None:
    """Give the claim back with no history: the warehouse stopped us (429, 401) before taking the
    order, which the run reports; the order is due again at once."""
    Order.objects.filter(pk=order.pk, claimed_by=token).update(
        delivery_uncertain=uncertain, claimed_by="", claimed_until=None, last_error=error
    )


def orders_unclaim_unsent(*, orders: list[Order], token: str, why: ConnectorError | str | None) -> None:
    """Give back the claim of orders `orders_claim` (or an import's lease) took and never sent: as
    they were before it, the attempt not counted, with why (if anything stopped us)."""
    Order.objects.filter(pk__in=[o.pk for o in orders], claimed_by=token).update(
        delivery_uncertain=False,
        claimed_by="",
        claimed_until=None,
        delivery_attempts=F("delivery_attempts") - 1,
        last_error=str(why or ""),
    )


def order_hold_by_hand_mark(*, order_id: int, reason: str) -> bool:
    """Hold a pending order by hand: `held` with `HELD_BY_HAND`, which no re-check or retry lifts.
    Only while no send is under way or may have reached the warehouse (not uncertain, no live
    claim), checked in the same UPDATE; False when that no longer holds. An expired claim is
    cleared, so that an attempt that outlived its lease finds the order no longer its own."""
    now = timezone.now()
    return bool(
        Order.objects.filter(pk=order_id, status__in=(OrderStatus.NEW, OrderStatus.ERROR), delivery_uncertain=False)
        .filter(_claim_free(now))
        .exclude(hold_code=HoldCode.HELD_BY_HAND)
        .update(
            status=OrderStatus.ERROR,
            hold_code=HoldCode.HELD_BY_HAND,
            hold_reason=reason,
            claimed_by="",
            claimed_until=None,
        )
    )


def order_hand_hold_lift(*, order_id: int) -> bool:
    """Lift a hold by hand, and the order's hold window with it (a person said "go"): the order
    stays `held` with no reason until it is checked again (`prepare`), which sets it new or holds
    it for what is still wrong. False when it is not held by hand (any more)."""
    return bool(
        Order.objects.filter(pk=order_id, status=OrderStatus.ERROR, hold_code=HoldCode.HELD_BY_HAND).update(
            hold_code="", hold_reason="", hold_until=None
        )
    )


def order_hold_window_end(*, order_id: int) -> bool:
    """End a `new` order's hold window now (released early); False when it was not waiting in one."""
    return bool(
        Order.objects.filter(pk=order_id, status=OrderStatus.NEW, hold_until__gt=timezone.now()).update(hold_until=None)
    )
