"""Why a new order is not imported, recorded where a merchant looks for it ("where is my order?").

An order is skipped only when first seen: once stored, changes at the cart are the business of
`known_orders`. A skipped order is judged again by every run that lists it, and imported once
its reason is gone (an order not yet open at the cart, say, once it is open).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import NamedTuple

from django.utils import timezone

from integrations.connectors.canonical import CART_CANCELED, CART_FULFILLED, CART_OPEN, CART_PARTIAL, CartOrder
from integrations.models import CartConnection
from orders.models import SkippedOrder
from orders.services.intake.importer import Importer
from orders.services.translation.cart_fields import fit


class Skip(NamedTuple):
    code: str
    reason: str


def skip_reason(*, connection: CartConnection, cart_order: CartOrder) -> Skip | None:
    """Why `cart_order`, not stored yet, is not imported (None: it is)."""
    co = cart_order
    if co.skip_code:
        return Skip(co.skip_code, co.skip_reason)
    earliest = datetime.combine(connection.earliest_order_date, time.min, tzinfo=UTC)
    if co.ordered_at is not None and co.ordered_at < earliest:
        return Skip(
            "too_old",
            f"Placed {co.ordered_at:%Y-%m-%d}, before the connection's earliest order date "
            f"{connection.earliest_order_date:%Y-%m-%d}: never imported.",
        )
    if co.cart_status == CART_FULFILLED:
        return Skip("already_fulfilled", "Already shipped or closed at the cart when first seen: not imported.")
    if co.cart_status == CART_CANCELED:
        return Skip("canceled", "Canceled at the cart when first seen: not imported.")
    if co.cart_status == CART_PARTIAL:
        return Skip(
            "partially_fulfilled",
            "Partly shipped at the cart when first seen: not imported, so that nothing ships twice. "
            "Send the rest to the warehouse by hand.",
        )
    if co.cart_status != CART_OPEN:
        return Skip("not_ready", "Not ready to ship at the cart: imported once the cart shows it as open.")
    if not co.lines:
        return Skip("nothing_to_ship", "No items for the warehouse (digital goods, services or gift cards only).")
    if co.is_test and connection.skip_test_orders:
        return Skip("test_order", "A test order, and this connection skips test orders.")
    return None


def skipped_orders_store(*, importer: Importer, cart_orders: list[CartOrder]) -> list[CartOrder]:
    """Record the skipped ones among new `cart_orders` (one query) and return the others, to import."""
    skipped, fresh = [], []
    for co in cart_orders:
        skip = skip_reason(connection=importer.connection, cart_order=co)
        if skip is None:
            fresh.append(co)
            continue
        skipped.append(
            SkippedOrder(
                cart_connection=importer.connection,
                cart_order_id=co.cart_order_id,
                order_number=fit(SkippedOrder, "order_number", co.order_number),
                reason_code=skip.code,
                reason=skip.reason,
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
    return fresh
