"""Canonical data passed between connectors and the pipeline.

Field names follow CartRover's order format (`cust_ref`, `cust_po_no`, `ship_*`, `items`), which
support staff already know. Connectors build and read these; nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

# What the cart says about an order's state, normalised.
CART_OPEN = "open"  # unfulfilled, ready to ship
CART_PARTIAL = "partial"  # some lines shipped already
CART_FULFILLED = "fulfilled"  # shipped or closed at the cart
CART_CANCELED = "canceled"
CART_OTHER = "other"  # draft, pending payment...: not ready to ship


# What an order line can hold: more is a mistake at the cart (or an attack), never an order.
MAX_QUANTITY = 1_000_000
MAX_PRICE = Decimal("9999999999.99")  # the price column: 12 digits, 2 of them decimals
MAX_NUMBER_TEXT = 30  # longer numeric text is refused before it is converted (1e999999...)


@dataclass
class Address:
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    address_1: str = ""
    address_2: str = ""
    address_3: str = ""
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""  # ISO 3166-1 alpha-2 where the platform gives it
    phone: str = ""
    email: str = ""

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p).strip()

    def missing_fields(self) -> list[str]:
        """The fields a warehouse needs to ship that are empty."""
        needed = {
            "name": self.full_name or self.company,
            "address_1": self.address_1,
            "city": self.city,
            "zip": self.zip,
            "country": self.country,
        }
        return [name for name, value in needed.items() if not (value or "").strip()]


@dataclass
class CartOrderLine:
    line_no: int
    sku: str
    quantity: int
    description: str = ""
    price: Decimal = Decimal("0")
    cart_line_id: str = ""  # the cart's id for the line (tracking per line goes back with it)
    cart_item_key: str = ""  # the cart's id for the item (variant id, OptionSku...): inventory key
    canceled: bool = False  # canceled at the cart (a line cancellation a person must handle)

    @property
    def extended_amount(self) -> Decimal:
        return self.price * self.quantity


@dataclass
class CartOrder:
    """One order as the cart has it, normalised."""

    cart_order_id: str  # the cart's own id, used in its API paths; our dedupe key
    order_number: str  # what the merchant and the customer see; becomes cust_po_no
    cart_status: str  # one of the CART_* values
    ordered_at: datetime | None
    modified_at: datetime | None
    ship_to: Address
    bill_to: Address | None = None
    email: str = ""
    ship_method: str = ""  # as the cart sent it (orig_ship_code)
    lines: list[CartOrderLine] = field(default_factory=list)
    is_test: bool = False
    raw: dict[str, Any] = field(default_factory=dict)
    # Set by a connector that knows the order is not for us (e.g. another warehouse's order):
    # recorded as skipped with this reason, never imported.
    skip_code: str = ""
    skip_reason: str = ""


@dataclass
class RejectedCartOrder:
    """An order the cart returned that could not be parsed; kept so that nothing is lost silently."""

    cart_order_id: str
    order_number: str
    reason: str
    raw: Any = None


@dataclass
class OrderPage:
    """One page of a cart's order listing."""

    orders: list[CartOrder] = field(default_factory=list)
    rejected: list[RejectedCartOrder] = field(default_factory=list)


@dataclass
class WarehouseOrderLine:
    line_no: int
    sku: str  # the warehouse's SKU (after aliases)
    quantity: int
    description: str = ""
    price: Decimal = Decimal("0")


@dataclass
class WarehouseOrder:
    """An order translated for the warehouse (CartRover's fields)."""

    cust_ref: str  # short unique reference the warehouse sees
    cust_po_no: str  # the full order number from the cart
    ship_to: Address
    ship_code: str  # warehouse carrier/service code after mapping
    items: list[WarehouseOrderLine]
    orig_ship_code: str = ""
    ordered_at: datetime | None = None
    is_test: bool = False
    notes: str = ""


@dataclass
class WarehouseOrderRef:
    """What the warehouse says about an order it holds.

    An order found again (`find_orders`) also carries what it was read back as, so that the pipeline
    can tell whether it is the order it sent: `cust_po_no`, `ship_to` and `items` (SKU and quantity)
    are None where the warehouse did not say. A platform with one name field puts it in
    `ship_to.first_name`."""

    warehouse_order_id: str
    cust_ref: str
    status: str = ""
    cust_po_no: str | None = None
    ship_to: Address | None = None
    items: list[WarehouseOrderLine] | None = None


@dataclass
class ShipmentLine:
    sku: str
    quantity: int
    line_no: int | None = None


@dataclass
class Shipment:
    """One parcel (or shipment) as the warehouse reports it."""

    warehouse_shipment_id: str
    cust_ref: str
    carrier: str
    service: str = ""
    tracking_numbers: list[str] = field(default_factory=list)
    tracking_url: str = ""
    shipped_at: datetime | None = None
    lines: list[ShipmentLine] = field(default_factory=list)
    warehouse_order_id: str = ""


@dataclass
class StockLevel:
    """What the warehouse has of one SKU (at the connection's facility)."""

    sku: str
    available: int
    on_hand: int | None = None


@dataclass
class CartShipmentLine:
    cart_line_id: str
    line_no: int
    sku: str
    quantity: int


@dataclass
class CartShipment:
    """Tracking to tell the cart about, already translated (carrier name as the cart expects)."""

    carrier: str
    service: str
    tracking_numbers: list[str]
    tracking_url: str = ""
    shipped_at: datetime | None = None
    lines: list[CartShipmentLine] = field(default_factory=list)
    complete: bool = True  # the order has shipped in full with this shipment


@dataclass
class CartInventoryItem:
    """One stock-keeping item at the cart: `key` is the cart's own id for it (variant id...)."""

    key: str
    sku: str
    quantity: int | None  # None: the cart does not track stock for it (unlimited)
    description: str = ""


@dataclass
class InventoryUpdate:
    key: str
    sku: str
    quantity: int  # absolute level to set, never negative


@dataclass
class InventoryPushResult:
    """What the cart did with a batch of levels. Accepted is the cart's claim; a level counts as set
    only when the cart shows it (`verified`: in its answer or one read after the write). An accepted
    key the cart shows otherwise, or that the connector cannot read back, is in `unverified` with what
    the cart shows or why it is not known."""

    accepted: list[str] = field(default_factory=list)  # keys the cart accepted
    refused: dict[str, str] = field(default_factory=dict)  # key -> reason
    verified: list[str] = field(default_factory=list)  # accepted keys the cart shows at the level sent
    unverified: dict[str, str] = field(default_factory=dict)  # accepted key -> what the cart shows, or why unknown


# What a warehouse says about where an order is in its life (`WarehouseConnector.order_state`).
WH_RECEIVED = "received"  # held, not yet picked: a cancel or an update can still reach it
WH_PICKING = "picking"  # being picked or packed: changes are refused (too late)
WH_SHIPPED = "shipped"  # shipped or closed at the warehouse
WH_CANCELED = "canceled"  # canceled at the warehouse (by us or by it)

# How a change ended when the warehouse took it (`ChangeResult.outcome`); refusals are errors.
CHANGE_APPLIED = "applied"  # sent, and the read-back shows it
CHANGE_ALREADY = "already"  # the read-back before sending showed it already made: nothing sent


def units_by_sku(items: list[WarehouseOrderLine] | None) -> dict[str, int]:
    """Units per SKU of order lines (an SKU on several lines added up; none or fewer left out)."""
    totals: dict[str, int] = {}
    for item in items or []:
        totals[item.sku] = totals.get(item.sku, 0) + int(item.quantity)
    return {sku: qty for sku, qty in totals.items() if qty > 0}


def units_left(sent: list[WarehouseOrderLine], canceled: list[WarehouseOrderLine]) -> dict[str, int]:
    """Units per SKU left of an order as sent once the `canceled` units are taken off."""
    left = units_by_sku(sent)
    for sku, qty in units_by_sku(canceled).items():
        if sku in left:
            left[sku] = max(0, left[sku] - qty)
    return {sku: qty for sku, qty in left.items() if qty > 0}


@dataclass
class WarehouseOrderState:
    """An order as the warehouse holds it now: `state` is one of the WH_* values, `platform_status`
    the platform's own words for it ("open, pick started", "active, packed"), for a person to read.
    `ship_to`, `ship_code` and `items` are None where the warehouse does not say; `version` is its
    concurrency token (an ETag, an update time) where it has one."""

    warehouse_order_id: str
    cust_ref: str
    state: str
    platform_status: str = ""
    ship_to: Address | None = None
    ship_code: str | None = None
    items: list[WarehouseOrderLine] | None = None
    version: str = ""


@dataclass
class ChangeResult:
    """A cancel or update the warehouse took: `outcome` is CHANGE_APPLIED (sent, and confirmed by the
    read-back in `state`) or CHANGE_ALREADY (the order already was as asked; nothing sent). What the
    read-back does not confirm is raised as `ChangeUnconfirmedError`, never returned."""

    outcome: str
    state: WarehouseOrderState
    detail: str = ""
