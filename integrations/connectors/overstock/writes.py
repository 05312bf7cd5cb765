"""What we send to Overstock, as pure functions: ship confirmations and stock levels.

Tracking (`POST /shipments`, as integrators send it): a `supplierShipmentMessage` in the namespace
`api.supplieroasis.com` (a default namespace on the root; every child inherits it) holding one
`supplierShipment` per order line shipped: `salesChannelName`, `salesChannelOrderNumber`,
`salesChannelLineNumber`, `warehouse/code`, and `supplierShipConfirmation {quantity, carrier/code,
trackingNumber, shipDate, serviceLevel/code}`. Overstock takes one tracking number per confirmed
line, so a parcel with several numbers sends its first one (the others stay on our shipment).

Codes: Overstock wants carrier and service level *codes*, upper case. Carrier names go through
`carrier_code` (UPS, USPS, FEDEX, ONTRAC, DHL, and the variants integrators send: UPSSP for UPS
SurePost, UPSMI for UPS Mail Innovations, FEDSP for FedEx SmartPost); a name we do not know is sent
upper-cased as given. Service names go through `service_level_code`: GROUND, NEXT_DAY, TWO_DAY,
THREE_DAY, PRIORITY, FIRSTCLASS, MEDIA_MAIL (the codes integrators send); a service we cannot
place is sent as GROUND, as integrators do.

Stock: Overstock publishes no inventory endpoint [guess, UNCONFIRMED]. We send, to the connection's
configurable inventory path, an `inventoryUpdateMessage` holding one `inventoryUpdate` per OptionSku
(`salesChannelSKU`, `warehouse/code`, `quantity`: the absolute level). The shape is the one the
sandbox guessed too (both sides guessed; we aligned so that the demo runs, which proves nothing about
Overstock). An answer may carry a result per item: `item_refusals` reads the refused ones. If
Overstock's real message differs, these two functions and the path change, nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from xml.etree.ElementTree import Element, SubElement, tostring  # noqa: S405 - writing only

from integrations.connectors.answers import summary
from integrations.connectors.canonical import CartShipment, InventoryUpdate
from integrations.connectors.errors import PermanentError
from integrations.connectors.overstock.xml import (
    NAMESPACE,
    child,
    first_text,
    qualified,
    text,
    xml_safe,
)
from integrations.connectors.parsing import format_datetime

# Warehouse carrier (upper case) -> Overstock carrier code. Also the connector's default carrier names.
CARRIER_CODES: dict[str, str] = {
    "UPS": "UPS",
    "UPSN": "UPS",
    "USPS": "USPS",
    "US POSTAL SERVICE": "USPS",
    "FEDEX": "FEDEX",
    "FED EX": "FEDEX",
    "FDX": "FEDEX",
    "FDXG": "FEDEX",
    "FDEG": "FEDEX",
    "FXG": "FEDEX",
    "FEDERAL EXPRESS": "FEDEX",
    "ONTRAC": "ONTRAC",
    "ON TRAC": "ONTRAC",
    "DHL": "DHL",
    "DHLEXPRESS": "DHL",
    "DHL EXPRESS": "DHL",
    "SUREPOST": "UPSSP",
    "UPS SUREPOST": "UPSSP",
    "UPSSP": "UPSSP",
    "UPS MAIL INNOVATIONS": "UPSMI",
    "UPSMI": "UPSMI",
    "SMARTPOST": "FEDSP",
    "FEDEX SMARTPOST": "FEDSP",
    "FEDSP": "FEDSP",
}

SERVICE_LEVELS = ("GROUND", "NEXT_DAY", "TWO_DAY", "THREE_DAY", "PRIORITY", "FIRSTCLASS", "MEDIA_MAIL")
DEFAULT_SERVICE_LEVEL = "GROUND"
# Checked in order: the first keyword found in the service name decides ("PRIORITY OVERNIGHT" is
# next-day, "PRIORITY MAIL" is priority; "EXPRESS SAVER" is FedEx's three-day service).
_SERVICE_KEYWORDS: tuple[tuple[str, str], ...] = (
    ("OVERNIGHT", "NEXT_DAY"),
    ("NEXT DAY", "NEXT_DAY"),
    ("NEXTDAY", "NEXT_DAY"),
    ("1 DAY", "NEXT_DAY"),
    ("ONE DAY", "NEXT_DAY"),
    ("PRIORITY MAIL EXPRESS", "NEXT_DAY"),
    ("EXPRESS MAIL", "NEXT_DAY"),
    ("2ND DAY", "TWO_DAY"),
    ("2 DAY", "TWO_DAY"),
    ("2DAY", "TWO_DAY"),
    ("TWO DAY", "TWO_DAY"),
    ("SECOND DAY", "TWO_DAY"),
    ("3 DAY", "THREE_DAY"),
    ("3DAY", "THREE_DAY"),
    ("THREE DAY", "THREE_DAY"),
    ("EXPRESS SAVER", "THREE_DAY"),
    ("FIRST CLASS", "FIRSTCLASS"),
    ("FIRSTCLASS", "FIRSTCLASS"),
    ("MEDIA", "MEDIA_MAIL"),
    ("PRIORITY", "PRIORITY"),
)


def _words(value: str) -> str:
    return " ".join(re.sub(r"[^A-Z0-9]+", " ", (value or "").upper()).split())


def carrier_code(carrier: str) -> str:
    """Overstock's code for a carrier name or code ("FedEx Ground" → FEDEX); "" when none given."""
    words = _words(carrier)
    if not words:
        return ""
    if words in CARRIER_CODES:
        return CARRIER_CODES[words]
    squeezed = words.replace(" ", "")
    if squeezed in CARRIER_CODES:
        return CARRIER_CODES[squeezed]
    first = words.split()[0]
    return CARRIER_CODES.get(first, xml_safe(carrier).upper())


def service_level_code(service: str) -> str:
    """Overstock's service level code for a service name ("2nd Day Air" → TWO_DAY); GROUND when
    nothing in the name places it (see the module docstring)."""
    words = _words(service)
    if words.replace(" ", "_") in SERVICE_LEVELS:
        return words.replace(" ", "_")
    padded = f" {words} "
    for keyword, code in _SERVICE_KEYWORDS:
        if f" {keyword} " in padded or (" " not in keyword and keyword in words.replace(" ", "")):
            return code
    return DEFAULT_SERVICE_LEVEL


@dataclass(frozen=True)
class ShipmentContext:
    """What each confirmation repeats about the order: its number, its sales channel and the
    warehouse code Overstock knows this connection by."""

    order_number: str
    sales_channel_name: str
    warehouse_code: str


def _sub(parent: Element, name: str, value: object = None) -> Element:
    element = SubElement(parent, qualified(name))
    if value is not None:
        element.text = xml_safe(value)
    return element


def _code(parent: Element, name: str, value: str) -> None:
    _sub(_sub(parent, name), "code", value)


def _document(root: Element) -> bytes:
    return tostring(root, encoding="UTF-8", xml_declaration=True, default_namespace=NAMESPACE)


def shipped_lines(shipment: CartShipment) -> list[tuple[str, int]]:
    """(Overstock line number, quantity) for each line, merged by line number, in first-seen order.

    Raises `PermanentError` when a line cannot be confirmed: Overstock confirms lines, so a
    shipment without them, a line without Overstock's line number, or without a quantity, is
    something a person must look at.
    """
    if not shipment.lines:
        raise PermanentError(
            "Overstock needs the shipped lines: the warehouse did not say which lines this parcel holds"
        )
    merged: dict[str, int] = {}
    for line in shipment.lines:
        line_id = (line.cart_line_id or "").strip()
        label = f"line {line.line_no} ({line.sku or 'no SKU'})"
        if not line_id:
            raise PermanentError(f"Overstock needs its line number for {label}, and the order has none")
        if line.quantity <= 0:
            raise PermanentError(f"The warehouse gave no shipped quantity for {label}: Overstock needs one")
        merged[line_id] = merged.get(line_id, 0) + line.quantity
    return list(merged.items())


def format_shipment_message(shipment: CartShipment, context: ShipmentContext, *, now: datetime) -> bytes:
    """The `POST /shipments` body: one `supplierShipment` per line (see the module docstring)."""
    numbers = [n.strip() for n in shipment.tracking_numbers if n and n.strip()]
    if not numbers:
        raise PermanentError("Overstock needs a tracking number to confirm a shipment, and the warehouse sent none")
    carrier = carrier_code(shipment.carrier)
    if not carrier:
        raise PermanentError(
            f"Tracking {', '.join(numbers)} came without a carrier, and Overstock needs a carrier code: "
            "check the parcel at the warehouse"
        )
    if not context.warehouse_code:
        raise PermanentError("The connection has no Warehouse Name, which Overstock needs on every shipment")
    lines = shipped_lines(shipment)
    service = service_level_code(shipment.service)
    ship_date = format_datetime(shipment.shipped_at or now)
    root = Element(qualified("supplierShipmentMessage"))
    for line_id, quantity in lines:
        entry = _sub(root, "supplierShipment")
        _sub(entry, "salesChannelName", context.sales_channel_name)
        _sub(entry, "salesChannelOrderNumber", context.order_number)
        _sub(entry, "salesChannelLineNumber", line_id)
        _code(entry, "warehouse", context.warehouse_code)
        confirmation = _sub(entry, "supplierShipConfirmation")
        _sub(confirmation, "quantity", quantity)
        _code(confirmation, "carrier", carrier)
        _sub(confirmation, "trackingNumber", numbers[0])
        _sub(confirmation, "shipDate", ship_date)
        _code(confirmation, "serviceLevel", service)
    return _document(root)


def format_inventory_message(updates: list[InventoryUpdate], *, warehouse_code: str, limit: int) -> bytes:
    """The stock body [UNCONFIRMED shape, see the module docstring]: absolute levels per OptionSku.

    More than `limit` updates, an OptionSku named twice or empty, or a quantity that is not a whole
    number ≥ 0 are the caller's bugs and raise ValueError before anything is sent.
    """
    if len(updates) > limit:
        raise ValueError(f"at most {limit} inventory updates a call, not {len(updates)}")
    keys = [u.key for u in updates]
    if len(set(keys)) != len(keys) or not all(k and k.strip() for k in keys):
        raise ValueError("every inventory update needs its own, non-empty OptionSku")
    for update in updates:
        if isinstance(update.quantity, bool) or not isinstance(update.quantity, int) or update.quantity < 0:
            raise ValueError(f"quantity {update.quantity!r} for {update.sku or update.key} is not a whole number ≥ 0")
    if not warehouse_code:
        raise PermanentError("The connection has no Warehouse Name, which Overstock needs with stock levels")
    root = Element(qualified("inventoryUpdateMessage"))
    for update in updates:
        entry = _sub(root, "inventoryUpdate")
        _sub(entry, "salesChannelSKU", update.key)
        _code(entry, "warehouse", warehouse_code)
        _sub(entry, "quantity", update.quantity)
    return _document(root)


_REFUSED = ("ERROR", "FAIL", "REJECT", "INVALID", "REFUSED")
_REASONS = ("message", "errorMessage", "description", "reason", "detail")


def item_refusals(root: Element, keys: list[str]) -> dict[str, str]:
    """OptionSku -> reason, for the items of a stock answer that say they were not applied.

    Tolerant of the answer's shape, which is not known: any element naming one of our OptionSkus
    (`salesChannelSKU`) with a status or code that reads as an error, or with an `error` child.
    """
    wanted = set(keys)
    refused: dict[str, str] = {}
    for element in root.iter():
        key = text(element, "salesChannelSKU")
        if key not in wanted or key in refused:
            continue
        verdict = " ".join(text(element, name) for name in ("status", "result", "code", "outcome")).upper()
        error = child(element, "error")
        if error is None and not any(word in verdict for word in _REFUSED):
            continue
        reason = first_text(error, *[(name,) for name in _REASONS]) or first_text(
            element, *[(name,) for name in _REASONS]
        )
        code = text(error, "code") or verdict.strip()
        refused[key] = summary(": ".join(p for p in (code, reason) if p)) or "refused"
    return refused
