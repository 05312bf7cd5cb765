"""Reading the other sides: the cart's orders in the window, the warehouse's orders by reference,
the tracking the cart shows. Every count a reconciliation gives comes from these answers.

The cart is listed over the whole window with `open_only=False`, whatever the import's watermark
says (carts that list by creation, Overstock, give the orders placed in the window; the others the
orders changed in it). Delivered orders are looked up at the warehouse one reference at a time, and
their accepted (or long-pending) tracking read back from the cart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from integrations.connectors.base import CartConnector, WarehouseConnector
from integrations.connectors.canonical import CartOrder, RejectedCartOrder
from integrations.models import WMSConnection
from integrations.services import warehouse_connector_for
from orders.models import Order, Shipment
from orders.selectors import PUSHABLE
from sync.reconcile.result import DELIVERED_ONCE, MISSING_AT_WAREHOUSE, TRACKING_MISSING, WAREHOUSE_DUPLICATES, Finding


@dataclass
class CartListing:
    """The cart's orders in the window, by the cart's id (an order listed twice counts once)."""

    orders: dict[str, CartOrder] = field(default_factory=dict)
    rejected: dict[str, RejectedCartOrder] = field(default_factory=dict)


def cart_listing_read(*, connector: CartConnector, since: datetime, until: datetime) -> CartListing:
    """Every page of the window; a page that cannot be read raises (the run is then unreadable)."""
    listing = CartListing()
    for page in connector.iter_order_pages(modified_after=since, modified_before=until, open_only=False):
        for cart_order in page.orders:
            listing.orders[cart_order.cart_order_id] = cart_order
        for rejected in page.rejected:
            if rejected.cart_order_id and rejected.cart_order_id not in listing.orders:
                listing.rejected[rejected.cart_order_id] = rejected
    return listing


class WarehouseReader:
    """The warehouse connectors the delivered orders went through, built once each."""

    def __init__(self) -> None:
        self.connectors: dict[int, WarehouseConnector] = {}

    def connector(self, warehouse: WMSConnection) -> WarehouseConnector:
        if warehouse.pk not in self.connectors:
            self.connectors[warehouse.pk] = warehouse_connector_for(connection=warehouse)
        return self.connectors[warehouse.pk]


def normalised(numbers: list[str] | set[str]) -> set[str]:
    return {str(n).strip().upper() for n in numbers if str(n).strip()}


def tracking_to_check(*, order: Order, grace_cutoff: datetime) -> set[str]:
    """The tracking numbers the cart must show by now: those it accepted, and those the warehouse
    shipped before the grace cutoff whatever their push state."""
    numbers: set[str] = set()
    for shipment in Shipment.objects.filter(order=order).exclude(
        push_status__in=[Shipment.PushStatus.UNMATCHED, Shipment.PushStatus.NOT_FOR_CART]
    ):
        due = shipment.push_status == Shipment.PushStatus.ACCEPTED or (
            shipment.push_status in PUSHABLE and shipment.created_at < grace_cutoff
        )
        if due:
            numbers |= normalised(shipment.tracking_numbers or [])
    return numbers


def delivered_order_finding(
    *, order: Order, cart: CartConnector, warehouses: WarehouseReader, grace_cutoff: datetime
) -> Finding:
    """Delivered once, or which gap: asked of the warehouse (by reference), then of the cart (tracking).
    Raises the connectors' errors: the caller reports the connection as unreadable."""
    found = Finding(order.cart_order_id, order.order_number, DELIVERED_ONCE, "At the warehouse once.")
    warehouse = order.destination_warehouse()
    held_there = warehouses.connector(warehouse).find_orders(order.cust_ref) if warehouse and order.cust_ref else []
    if not held_there:
        found.category = MISSING_AT_WAREHOUSE
        found.reason = (
            f"Sent as {order.cust_ref or '(no reference)'}"
            + (f" (warehouse order {order.warehouse_order_id})" if order.warehouse_order_id else "")
            + ", but the warehouse has no order under that reference."
        )
        return found
    if len(held_there) > 1:
        ids = ", ".join(ref.warehouse_order_id for ref in held_there)
        found.category = WAREHOUSE_DUPLICATES
        found.reason = f"The warehouse holds {len(held_there)} orders under {order.cust_ref}: {ids}."
        return found
    expected = tracking_to_check(order=order, grace_cutoff=grace_cutoff)
    if expected:
        shown = normalised(cart.existing_tracking_numbers(order.cart_order_id, ordered_at=order.ordered_at))
        missing = sorted(expected - shown)
        if missing:
            found.category = TRACKING_MISSING
            found.reason = f"Shipped with {', '.join(missing)}, which the cart does not show."
    return found
