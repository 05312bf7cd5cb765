"""A person holds one order by hand, or releases it early: the one service the admin's order page
and the merchant's call.

- Hold: a pending order (new or held) is held with `HELD_BY_HAND` and the person's reason. No
  re-check, retry, send or import lifts that hold (`prepare` keeps it, `holds` skips it); a
  cancellation at the cart still cancels the order. An order being sent, or whose send may have
  reached the warehouse, cannot be held here: only the warehouse can stop it then.
- Release: lifts a hold by hand (the order is checked again, and may stay held for what is still
  wrong), or ends the order's hold window early. Either way the order may be sent at once; the
  pages then queue its send (`sync.send_now`).

Both write a history row with the person; the claim and status changes go through `claims`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone

from orders.models import HoldCode, Order, OrderStatus
from orders.services.delivery.claims import order_hand_hold_lift, order_hold_by_hand_mark
from orders.services.holds_fix import FixResult, order_hold_window_release, order_revalidate
from orders.services.intake.known_orders import send_in_flight
from orders.services.records.history import order_event

PENDING = (OrderStatus.NEW, OrderStatus.ERROR)
REASON_MAX_LENGTH = 500


def _person(user: AbstractBaseUser | None) -> str:
    return user.get_username() if user is not None and user.is_authenticated else "someone"


def hold_refused(*, order: Order) -> str:
    """Why the order cannot be held by hand now ("" when it can)."""
    number = order.order_number
    if order.status == OrderStatus.CANCELED:
        return f"order #{number} is canceled: it will not be sent, there is nothing to hold."
    if order.status not in PENDING:
        return (
            f"order #{number} is already at the warehouse ({order.get_status_display()}): only the warehouse can "
            "stop it now. Ask the warehouse to hold it."
        )
    if order.hold_code == HoldCode.HELD_BY_HAND:
        return f"order #{number} is already held by hand ({order.hold_reason}). Release it first to hold it anew."
    if send_in_flight(order=order):
        return (
            f"order #{number} is being sent to the warehouse, or a send may have reached it (the warehouse is asked "
            "before anything else is sent). Look again in a few minutes; if it reached the warehouse, ask the "
            "warehouse to hold it."
        )
    return ""


def order_hold_by_hand(*, order: Order, reason: str, user: AbstractBaseUser | None) -> FixResult:
    """Hold a pending order until a person releases it, with the reason, recorded with the person."""
    reason = " ".join((reason or "").split())
    if not reason:
        return FixResult(
            False, "error", "Not held: give a reason, so that whoever looks next knows when to release it."
        )
    if len(reason) > REASON_MAX_LENGTH:
        return FixResult(False, "error", f"Not held: the reason is too long (at most {REASON_MAX_LENGTH} characters).")
    refused = hold_refused(order=order)
    if refused:
        return FixResult(False, "warning", f"Not held: {refused}")
    who = _person(user)
    text = f"Held by hand by {who}: {reason}"
    if not order_hold_by_hand_mark(order_id=order.pk, reason=text):
        order.refresh_from_db()
        why = hold_refused(order=order) or f"order #{order.order_number} changed meanwhile: reload the page."
        return FixResult(False, "warning", f"Not held: {why}")
    previous = order.status
    order.status, order.hold_code, order.hold_reason = OrderStatus.ERROR, HoldCode.HELD_BY_HAND, text
    order_event(
        order=order,
        message=text,
        code=HoldCode.HELD_BY_HAND,
        from_status=previous,
        to_status=OrderStatus.ERROR,
        user=user,
    )
    return FixResult(
        True,
        "success",
        f"Order #{order.order_number} is held by hand: it is not sent until someone releases it (Release on its page).",
    )


def order_release_by_hand(*, order: Order, user: AbstractBaseUser | None) -> FixResult:
    """Release an order held by hand (checked again, it may stay held for something else), or end its
    hold window early. `done` when it was released; the caller then queues its send."""
    number, who = order.order_number, _person(user)
    if order.status == OrderStatus.ERROR and order.hold_code == HoldCode.HELD_BY_HAND:
        if not order_hand_hold_lift(order_id=order.pk):
            return FixResult(False, "warning", f"Not released: order #{number} changed meanwhile. Reload the page.")
        order.refresh_from_db()
        order_event(order=order, message=f"Hold by hand released by {who}.", code="hand_hold_released", user=user)
        status, note = order_revalidate(order=order, why=f"released by {who}")
        if status != OrderStatus.NEW:
            return FixResult(
                True, "warning", f"Order #{number} released by hand, but still held: {order.hold_reason}{note}"
            )
        return FixResult(True, "success", f"Order #{number} released: it passes every check.{note}")
    if order_hold_window_release(order=order, user=user):
        return FixResult(True, "success", f"Order #{number} released from its hold window.")
    if order.status == OrderStatus.ERROR:
        return FixResult(
            False, "info", f"Order #{number} is not held by hand but for: {order.hold_reason} Fix that, then Retry."
        )
    return FixResult(
        False, "info", f"Order #{number} is not held by hand nor waiting in its hold window: nothing to release."
    )


def hold_window_waits(*, order: Order, now: datetime | None = None) -> datetime | None:
    """When the order's hold window ends, while it is `new` and waiting in it; else None."""
    now = now or timezone.now()
    if order.status == OrderStatus.NEW and order.hold_until is not None and order.hold_until > now:
        return order.hold_until
    return None


@dataclass(frozen=True)
class HandHoldOptions:
    """What an order's page offers: Hold (or why not), Release, and the end of its hold window."""

    can_hold: bool
    hold_refused: str
    held_by_hand: bool
    waits_until: datetime | None

    @property
    def can_release(self) -> bool:
        return self.held_by_hand or self.waits_until is not None


def hand_hold_options(*, order: Order) -> HandHoldOptions:
    refused = hold_refused(order=order)
    return HandHoldOptions(
        can_hold=not refused,
        hold_refused=refused,
        held_by_hand=order.status == OrderStatus.ERROR and order.hold_code == HoldCode.HELD_BY_HAND,
        waits_until=hold_window_waits(order=order),
    )
