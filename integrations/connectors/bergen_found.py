"""Bergen orders read back by reference, as pure functions: what the pipeline compares with the order
it sent before it counts a "duplicate reference" answer (or an interrupted send) as delivered.

Extensiv's `GET /orders?rql=referenceNum==…&detail=All` gives each order's `poNum` and `shipTo` at the
top level and its lines under `_embedded["http://api.3plCentral.com/rels/orders/item"]`
(`itemIdentifier.sku`, `qty`); an order as created (the answer to `POST /orders`) lists them under
`orderItems`, which is read too.
"""

from __future__ import annotations

from typing import Any

from integrations.connectors.bergen_wire import order_ref, pick, whole_number
from integrations.connectors.canonical import Address, WarehouseOrderLine, WarehouseOrderRef

ITEM_REL = "http://api.3plCentral.com/rels/orders/item"


def _text(value: Any) -> str:
    return "" if value is None or isinstance(value, (bool, dict, list)) else str(value).strip()


def ship_to_of(record: dict[str, Any]) -> Address | None:
    """The order's `shipTo` (its one name field as `first_name`), or None when it has none."""
    ship_to = pick(record, "shipTo", "ShipTo")
    if not isinstance(ship_to, dict):
        return None
    return Address(
        first_name=_text(pick(ship_to, "name", "Name")),
        company=_text(pick(ship_to, "companyName", "CompanyName")),
        address_1=_text(pick(ship_to, "address1", "Address1")),
        address_2=_text(pick(ship_to, "address2", "Address2")),
        city=_text(pick(ship_to, "city", "City")),
        state=_text(pick(ship_to, "state", "State")),
        zip=_text(pick(ship_to, "zip", "Zip")),
        country=_text(pick(ship_to, "country", "Country")),
        phone=_text(pick(ship_to, "phoneNumber", "PhoneNumber")),
        email=_text(pick(ship_to, "emailAddress", "EmailAddress")),
    )


def _item_records(record: dict[str, Any]) -> list[dict[str, Any]] | None:
    embedded = pick(record, "_embedded")
    if isinstance(embedded, dict):
        for rel, items in embedded.items():
            if str(rel).lower() == ITEM_REL.lower() and isinstance(items, list):
                return [item for item in items if isinstance(item, dict)]
    items = pick(record, "orderItems", "OrderItems")
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else None


def items_of(record: dict[str, Any]) -> list[WarehouseOrderLine] | None:
    """The order's lines (SKU, quantity) as read back; None when the record does not list them.
    A line without a SKU or a readable quantity (kept as -1) is kept as it is, so that it cannot match."""
    records = _item_records(record)
    if records is None:
        return None
    lines = []
    for number, item in enumerate(records, 1):
        identifier = pick(item, "itemIdentifier", "ItemIdentifier")
        sku = _text(pick(identifier, "sku", "Sku"))
        quantity = whole_number(pick(item, "qty", "Qty"))
        lines.append(WarehouseOrderLine(line_no=number, sku=sku, quantity=-1 if quantity is None else quantity))
    return lines


def found_order(record: dict[str, Any]) -> WarehouseOrderRef | None:
    """One order found by reference, with what it was read back as; None if it has no id."""
    ref = order_ref(record)
    if ref is None:
        return None
    po_number = pick(record, "poNum", "PoNum")
    ref.cust_po_no = None if po_number is None else _text(po_number)
    ref.ship_to = ship_to_of(record)
    ref.items = items_of(record)
    return ref
