"""Which class a cart order belongs to, from what the cart says and what we hold.

The first pass needs no request: an order we never stored is skipped (with the import's own reason),
still coming (the next import reads it) or missing here (the import had its chance: it lies behind
the watermark); an order we hold is held, skipped (canceled), in progress, or missing here when it
changed at the cart behind the watermark in a way we do not hold. Delivered orders go on to the warehouse and tracking
checks (`sync.reconcile.sides`), which decide between delivered once and the other gaps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from integrations.connectors.canonical import CartOrder
from integrations.models import CartConnection
from orders.models import Order, OrderStatus, SkippedOrder
from orders.services.intake.known_orders import DELIVERED_STATUSES
from orders.services.intake.skipping import skip_reason
from orders.services.translation.cart_fields import apply_cart_fields
from sync.reconcile.result import HELD, IN_PROGRESS, MISSING_HERE, SKIPPED, Finding


@dataclass(frozen=True)
class Moments:
    """The times a classification compares against."""

    watermark: datetime | None  # the import read every change before this
    grace_cutoff: datetime  # an order seen before this and still not delivered is no longer "in progress"


def behind_watermark(*, cart_order: CartOrder, moments: Moments) -> bool:
    """The import already read past the order's last change (or, without a modification time, its placing)."""
    changed = cart_order.modified_at or cart_order.ordered_at
    return moments.watermark is not None and changed is not None and changed < moments.watermark


SHIP_TO_FIELDS = tuple(
    f"ship_{name}"
    for name in (
        "first_name",
        "last_name",
        "company",
        "address_1",
        "address_2",
        "address_3",
        "city",
        "state",
        "zip",
        "country",
        "phone",
    )
)


def changes_missed(*, cart_order: CartOrder, order: Order) -> list[str]:
    """What the cart shows of the order that we do not hold, when the cart changed it after our copy:
    its status, its ship-to, its lines. A change of times alone (a re-saved order) misses nothing."""
    co = cart_order
    if co.modified_at is None or order.cart_modified_at is None or co.modified_at <= order.cart_modified_at:
        return []
    as_cart_says = Order()
    apply_cart_fields(order=as_cart_says, co=co)
    missed = [] if co.cart_status == order.cart_status else [f"status {order.cart_status or '?'} → {co.cart_status}"]
    if any(getattr(as_cart_says, name) != getattr(order, name) for name in SHIP_TO_FIELDS):
        missed.append("ship-to address")
    lines = sorted((line.sku.strip(), line.quantity, line.canceled) for line in co.lines)
    stored = sorted(order.lines.values_list("cart_sku", "quantity", "canceled_at_cart"))
    if lines != stored:
        missed.append("lines")
    return missed


def unknown_order_finding(
    *, connection: CartConnection, cart_order: CartOrder, skipped: SkippedOrder | None, moments: Moments
) -> Finding:
    """An order we never stored: skipped, still to come, or missed."""
    co = cart_order
    skip = skip_reason(connection=connection, cart_order=co)
    if skip is not None:
        reason = skipped.reason if skipped is not None and skipped.reason_code == skip.code else skip.reason
        return Finding(co.cart_order_id, co.order_number, SKIPPED, reason)
    if behind_watermark(cart_order=co, moments=moments):
        return Finding(
            co.cart_order_id,
            co.order_number,
            MISSING_HERE,
            f"At the cart (last changed {co.modified_at or co.ordered_at:%Y-%m-%d %H:%M} UTC) but never imported, "
            "although the import read past it: imported now.",
        )
    return Finding(
        co.cart_order_id, co.order_number, IN_PROGRESS, "Changed at the cart lately: the next import reads it."
    )


def known_order_finding(*, cart_order: CartOrder, order: Order, moments: Moments) -> Finding | None:
    """An order we hold; None when it counts as delivered and the warehouse must tell the rest."""
    co = cart_order
    found = Finding(co.cart_order_id, co.order_number, "")
    missed = changes_missed(cart_order=co, order=order) if behind_watermark(cart_order=co, moments=moments) else []
    if missed:
        found.category = MISSING_HERE
        found.reason = (
            f"Changed at the cart at {co.modified_at:%Y-%m-%d %H:%M} UTC, behind the import's watermark, and the "
            f"change ({', '.join(missed)}) never reached us: imported now."
        )
    elif order.status == OrderStatus.ERROR:
        found.category, found.reason = HELD, order.hold_reason or "Held."
    elif order.status == OrderStatus.CANCELED:
        found.category, found.reason = SKIPPED, "Canceled at the cart before it was sent: not sent."
    elif order.status in DELIVERED_STATUSES:
        return None
    elif order.created_at >= moments.grace_cutoff:
        waiting = f"; next attempt {order.next_attempt_at:%Y-%m-%d %H:%M} UTC" if order.next_attempt_at else ""
        found.category, found.reason = IN_PROGRESS, f"Not yet sent to the warehouse{waiting}."
    else:
        last = f" Last error: {order.last_error}" if order.last_error else ""
        found.category = HELD
        found.reason = (
            f"Still not sent to the warehouse, first seen {order.created_at:%Y-%m-%d %H:%M} UTC: past the "
            f"grace period, so it needs a look.{last}"
        )
    return found
