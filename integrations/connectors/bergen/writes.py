"""Bergen's orders written and read back, as pure functions: the `POST /orders` body, what its
refusals mean, and the orders found again by reference.

Shipping codes: the pipeline's `ship_code` is "CARRIER:MODE" (e.g. "UPS:Ground",
"FedEx:2Day") and becomes `routingInfo {carrier, mode}`. Without a colon the first word is the
carrier and the rest the mode ("UPS Ground"); a single word is a carrier alone; an empty code sends
no routing (the warehouse applies the customer's default).

Orders read back by reference are what the pipeline compares with the order it sent before it
counts a "duplicate reference" answer (or an interrupted send) as delivered. Extensiv's
`GET /orders?rql=referenceNum==…&detail=All` gives each order's `poNum` and `shipTo` at the top level
and its lines under `_embedded["http://api.3plCentral.com/rels/orders/item"]` (`itemIdentifier.sku`,
`qty`); an order as created (the answer to `POST /orders`) lists them under `orderItems`, which is
read too.
"""

from __future__ import annotations

import re
from typing import Any

from integrations.connectors.answers import status_phrase, summary
from integrations.connectors.bergen.wire import error_text, order_ref, pick, whole_number
from integrations.connectors.canonical import Address, WarehouseOrder, WarehouseOrderLine, WarehouseOrderRef
from integrations.connectors.errors import DuplicateReferenceError, OrderRejectedError
from integrations.connectors.parsing import address_from, text

ITEM_REL = "http://api.3plCentral.com/rels/orders/item"


# --- orders out ----------------------------------------------------------------------------------


def split_ship_code(ship_code: str) -> tuple[str, str]:
    """(carrier, mode) from "CARRIER:MODE", "CARRIER MODE" or "CARRIER" (see the module docstring)."""
    code = (ship_code or "").strip()
    if ":" in code:
        carrier, mode = code.split(":", 1)
    else:
        carrier, _, mode = code.partition(" ")
    return carrier.strip(), mode.strip()


def format_order(order: WarehouseOrder, *, customer_name: str, facility: str) -> dict[str, Any]:
    """The `POST /orders` body. Only documented fields; empty optional ones are left out."""
    address = order.ship_to
    ship_to = {
        # The WMS wants a company name on every ship-to; a consumer's own name stands in for it.
        "companyName": address.company or address.full_name,
        "name": address.full_name,
        "address1": address.address_1,
        "address2": ", ".join(p for p in (address.address_2, address.address_3) if p),
        "city": address.city,
        "state": address.state,
        "zip": address.zip,
        "country": address.country,
        "phoneNumber": address.phone,
        "emailAddress": address.email,
    }
    body: dict[str, Any] = {
        "customerIdentifier": {"name": customer_name},
        # A numeric warehouse setting is the facility's id (identifiers take either on write).
        "facilityIdentifier": {"id": int(facility)} if facility.strip().isdigit() else {"name": facility},
        "referenceNum": order.cust_ref,
        "poNum": order.cust_po_no,
        "shipTo": {key: value for key, value in ship_to.items() if value},
        "orderItems": [{"itemIdentifier": {"sku": line.sku}, "qty": int(line.quantity)} for line in order.items],
    }
    carrier, mode = split_ship_code(order.ship_code)
    if carrier:
        body["routingInfo"] = {"carrier": carrier, **({"mode": mode} if mode else {})}
    if order.notes:
        body["notes"] = order.notes
    return body


# --- refusals ---------------------------------------------------------------------------------


def _error_properties(body: Any) -> list[tuple[str, str]]:
    """(name, value) pairs from `Properties`: a list of {Name, Value} objects, or a plain map."""
    found: list[tuple[str, str]] = []
    props = pick(body, "Properties", "properties")
    if isinstance(props, dict):  # some answers give a plain {name: value} map
        return [(str(k), str(v)) for k, v in props.items() if v is not None and not isinstance(v, (dict, list))]
    for prop in props if isinstance(props, list) else []:
        name, value = pick(prop, "Name", "name", "Key", "key"), pick(prop, "Value", "value")
        if name is not None and value is not None:
            found.append((str(name), str(value)))
    return found


_SKU_WORDS = re.compile(r"\b(sku|item|itemidentifier)\b", re.IGNORECASE)
_MISSING_WORDS = re.compile(r"not\s*exist|doesnotexist|unknown|invalid|not\s*found|no such|undefined", re.IGNORECASE)
_ADDRESS_WORDS = re.compile(r"shipto|ship to|address|\bzip\b|postal|\bcity\b|\bcountry\b|\bstate\b", re.IGNORECASE)


def _names(text: str, word: str) -> bool:
    """Whether `text` contains `word` as a whole token (SKUs may hold dashes)."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def classify_rejection(status: int, body: Any, raw: str, order_skus: list[str]) -> Exception:
    """The typed error for a 400/409/422 answer to `POST /orders`.

    Extensiv answers `{"ErrorCode", "Hint", "Properties": [{"Name", "Value"}], ...}`; the exact codes
    are not all published, so the words are read too ("Duplicate", "does not exist", "Sku"...).
    Offending SKUs come from the properties, else from the order's own SKUs named in the message.
    """
    text = error_text(body, raw) or f"HTTP {status}"
    message = f"Bergen Logistics refused the order ({status}): {summary(error_text(body)) or status_phrase(status)}"
    code = str(pick(body, "ErrorCode", "errorCode", "code") or "")
    props = _error_properties(body)
    prop_names = " ".join(name for name, _ in props)
    names_item = bool(_SKU_WORDS.search(f"{text} {prop_names}") or re.search(r"item|sku", code, re.IGNORECASE))
    if re.search(r"duplicate|already exists", f"{code} {text}", re.IGNORECASE) and (
        re.search(r"reference|refnum", f"{text} {prop_names}", re.IGNORECASE) or not names_item
    ):
        return DuplicateReferenceError(message, status=status)
    if names_item and _MISSING_WORDS.search(f"{code} {text}") and not re.search(r"\bqty\b|quantity", text, re.I):
        skus = [value for name, value in props if _SKU_WORDS.search(re.sub(r"[^A-Za-z]", " ", name))]
        lowered = text.lower()
        skus = skus or [sku for sku in dict.fromkeys(order_skus) if sku and _names(lowered, sku.lower())]
        return OrderRejectedError(message, reason_code="unknown_sku", skus=skus, status=status)
    if _ADDRESS_WORDS.search(prop_names) or _ADDRESS_WORDS.search(text):
        return OrderRejectedError(message, reason_code="missing_address", status=status)
    return OrderRejectedError(message, reason_code="warehouse_rejected", status=status)


# --- orders read back ----------------------------------------------------------------------------


SHIP_TO_NAMES = {
    "first_name": "name",
    "company": "companyName",
    "address_1": "address1",
    "address_2": "address2",
    "city": "city",
    "state": "state",
    "zip": "zip",
    "country": "country",
    "phone": "phoneNumber",
    "email": "emailAddress",
}


def ship_to_of(record: dict[str, Any]) -> Address | None:
    """The order's `shipTo` (its one name field as `first_name`), or None when it has none."""
    ship_to = pick(record, "shipTo", "ShipTo")
    if not isinstance(ship_to, dict):
        return None
    return address_from(lambda name: text(pick(ship_to, name, name[0].upper() + name[1:])), SHIP_TO_NAMES)


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
        sku = text(pick(identifier, "sku", "Sku"))
        quantity = whole_number(pick(item, "qty", "Qty"))
        lines.append(WarehouseOrderLine(line_no=number, sku=sku, quantity=-1 if quantity is None else quantity))
    return lines


def found_order(record: dict[str, Any]) -> WarehouseOrderRef | None:
    """One order found by reference, with what it was read back as; None if it has no id."""
    ref = order_ref(record)
    if ref is None:
        return None
    po_number = pick(record, "poNum", "PoNum")
    ref.cust_po_no = None if po_number is None else text(po_number)
    ref.ship_to = ship_to_of(record)
    ref.items = items_of(record)
    return ref
