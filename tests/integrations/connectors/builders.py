"""Canonical data for the connector tests: the address, order and parcel every platform is handed.

A connector takes and returns the canonical dataclasses; the tests build them here, from one
customer (Ada Lovelace in Newark) and one order of two lines, and change only what a test is about.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from integrations.connectors.canonical import (
    Address,
    CartShipment,
    CartShipmentLine,
    WarehouseOrder,
    WarehouseOrderLine,
)

TRACKING_NUMBER = "1Z999AA10123456784"
ADA = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "address_1": "12 Analytical Way",
    "city": "Newark",
    "state": "NJ",
    "zip": "07102",
    "country": "US",
    "phone": "+1 973 555 0100",
    "email": "ada@example.com",
}


def address(**changes: str) -> Address:
    """Ada Lovelace's address as a cart sends it (phone and email included); a change of "" blanks a field."""
    return Address(**(ADA | changes))


def warehouse_lines(*lines: tuple[Any, ...], price: Decimal | None = None) -> list[WarehouseOrderLine]:
    """Lines numbered from 1, each `(sku, quantity)` or `(sku, quantity, price)`; `price` for every line
    that does not give its own."""
    built = []
    for number, (sku, quantity, *own) in enumerate(lines, 1):
        line_price = own[0] if own else price
        extra = {} if line_price is None else {"price": line_price}
        built.append(WarehouseOrderLine(line_no=number, sku=sku, quantity=quantity, **extra))
    return built


def warehouse_order(
    cust_ref: str = "SQ-1042",
    *,
    lines: Iterable[tuple[Any, ...]] = (("TEE-M", 2), ("MUG", 1)),
    **changes: Any,
) -> WarehouseOrder:
    """An order translated for the warehouse: Squarespace's order 1042 for Ada, shipped UPS ground;
    `changes` replace any field (`ship_to`, `items`, `ship_code`...)."""
    values: dict[str, Any] = {
        "cust_ref": cust_ref,
        "cust_po_no": cust_ref.removeprefix("SQ-"),
        "ship_to": address(),
        "ship_code": "UPS:Ground",
        "items": warehouse_lines(*lines),
    }
    return WarehouseOrder(**(values | changes))


def shipment_lines(*lines: tuple[str, int], skus: Iterable[str] = ()) -> list[CartShipmentLine]:
    """Shipped lines numbered from 1, each `(cart line id, quantity)`, with their SKUs when given."""
    names = list(skus)
    return [
        CartShipmentLine(cart_line_id=line_id, line_no=n, sku=names[n - 1] if names else "", quantity=quantity)
        for n, (line_id, quantity) in enumerate(lines, 1)
    ]


def shipment(*numbers: str, **changes: Any) -> CartShipment:
    """A UPS ground parcel to tell the cart about, under `numbers` (one UPS number when none given);
    `changes` replace any field (`lines`, `shipped_at`, `complete`...)."""
    values: dict[str, Any] = {
        "carrier": "UPS",
        "service": "Ground",
        "tracking_numbers": list(numbers or [TRACKING_NUMBER]),
    }
    return CartShipment(**(values | changes))
