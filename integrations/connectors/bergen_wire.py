"""Bergen's wire format, as pure functions: the payloads we send and how we read the answers.

Bergen publishes no API; this is the **Extensiv 3PL Warehouse Manager** contract (see the `bergen`
module docstring). Kept apart from the HTTP session so that Bergen's real specification, when it
comes, changes these functions and the paths in `bergen.py`, and so every one of them is tested with
payloads shaped like Extensiv's documentation, without a server.

Shipping codes: the pipeline's `ship_code` is "CARRIER:MODE" (e.g. "UPS:Ground",
"FedEx:2Day") and becomes `routingInfo {carrier, mode}`. Without a colon the first word is the
carrier and the rest the mode ("UPS Ground"); a single word is a carrier alone; an empty code sends
no routing (the warehouse applies the customer's default).

Dates: Extensiv writes timestamps without an offset ("2024-05-01T14:03:07.12"). Whether they are UTC
or the facility's local time is not documented [guess: UTC]; we read them as UTC and write the ship
date window the same way, so a wrong guess shifts the window but loses nothing (windows overlap).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from integrations.connectors.answers import status_phrase, summary
from integrations.connectors.canonical import (
    MAX_NUMBER_TEXT,
    Shipment,
    ShipmentLine,
    StockLevel,
    WarehouseOrder,
    WarehouseOrderRef,
)
from integrations.connectors.errors import (
    BadPayloadError,
    DuplicateReferenceError,
    OrderRejectedError,
)

ORDER_REL = "http://api.3plCentral.com/rels/orders/order"
# The tracking feed's HAL relation as Extensiv's rel pages name it; `embedded_list` also takes the
# one list of any other name, as the sandbox's "shipmenttrackinginfo".
TRACKING_REL = "http://api.3plCentral.com/rels/orders/orderparceltrackpackageinfo"
FACILITY_REL = "http://api.3plCentral.com/rels/properties/facility"
ORDER_STATUSES = {0: "open", 1: "complete", 2: "canceled", 3: "closed"}


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


# --- answers in ----------------------------------------------------------------------------------


def pick(payload: Any, *names: str) -> Any:
    """The first present key among spellings (the API is camelCase; some answers are PascalCase)."""
    if not isinstance(payload, dict):
        return None
    for name in names:
        if payload.get(name) is not None:
            return payload[name]
    return None


def error_text(body: Any, raw: str = "") -> str:
    """Everything an error body says, flattened: ErrorCode, Hint, messages, property names/values.
    For reading the refusal's kind; a message quotes only `answers.summary` of it."""
    parts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif value is not None and not isinstance(value, bool):
            parts.append(str(value))

    walk(body)
    text = " ".join(" ".join(parts).split()) if parts else " ".join((raw or "").split())
    return text[:500]


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


def embedded_list(body: Any, rel: str = ORDER_REL) -> list[dict[str, Any]]:
    """The records of a HAL list: `_embedded[rel]` (or "item", or the one list in `_embedded`),
    else a plain list under ResourceList / orders / summaries."""
    if isinstance(body, list):
        return [r for r in body if isinstance(r, dict)]
    if not isinstance(body, dict):
        raise BadPayloadError("Bergen Logistics answered a list request with something that is not an object")
    embedded = body.get("_embedded")
    records: Any = None
    if isinstance(embedded, dict):
        lowered = {str(k).lower(): v for k, v in embedded.items()}
        records = lowered.get(rel.lower(), lowered.get("item"))
        if records is None:
            lists = [v for v in embedded.values() if isinstance(v, list)]
            records = lists[0] if len(lists) == 1 else None
    if records is None:
        records = pick(body, "ResourceList", "resourceList", "orders", "Orders", "summaries", "Summaries")
    if records is None:
        return []
    if not isinstance(records, list):
        raise BadPayloadError("Bergen Logistics answered a list whose records are not a list")
    return [r for r in records if isinstance(r, dict)]


def total_results(body: Any) -> int | None:
    value = pick(body, "totalResults", "TotalResults")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError, OverflowError):
        return None


def order_ref(record: dict[str, Any]) -> WarehouseOrderRef | None:
    """The reference of one order record (`readOnly.orderId`, `referenceNum`), or None if it has no id."""
    read_only = pick(record, "readOnly", "ReadOnly") or {}
    order_id = pick(read_only, "orderId", "OrderId") or pick(record, "orderId", "OrderId")
    if order_id in (None, "") or isinstance(order_id, (bool, dict, list)):
        return None
    status_value = pick(read_only, "status", "Status")
    try:
        status = ORDER_STATUSES.get(int(status_value), str(status_value))
    except (TypeError, ValueError, OverflowError):
        status = "" if status_value is None else str(status_value)
    return WarehouseOrderRef(
        warehouse_order_id=str(order_id),
        cust_ref=str(pick(record, "referenceNum", "ReferenceNum") or ""),
        status=status,
    )


def rql_value(value: str) -> str:
    """A value for an RQL comparison: bare when it is plain, else double-quoted with escapes."""
    if re.fullmatch(r"[A-Za-z0-9_.-]+", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def record_customer(record: dict[str, Any]) -> Any:
    """The customer a record belongs to: `readOnly.customerIdentifier` on orders read back,
    `customerIdentifier` on what was posted."""
    read_only = pick(record, "readOnly", "ReadOnly")
    for holder in (read_only, record):
        name = pick(pick(holder, "customerIdentifier", "CustomerIdentifier"), "name", "Name")
        if name is not None:
            return name
    return None


def same_text(a: Any, b: str) -> bool:
    return str(a or "").strip().casefold() == b.strip().casefold()


def _text(value: Any) -> str:
    """A field as text: numbers (ids) become strings; null, objects and lists become ""."""
    if value is None or isinstance(value, (bool, dict, list)):
        return ""
    return str(value).strip()


MAX_STOCK = 2**31 - 1  # what our integer columns hold


def whole_number(value: Any) -> int | None:
    """A count from a number or numeric string ("3", 3.0, "3.0000"); a fraction is floored (part of a
    unit cannot be sold or confirmed as shipped); None when unreadable."""
    if value is None or isinstance(value, bool) or len(str(value).strip()) > MAX_NUMBER_TEXT:
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    if not number.is_finite() or abs(number) > MAX_STOCK:
        return None
    return int(number.to_integral_value(rounding=ROUND_FLOOR))


# --- dates ---------------------------------------------------------------------------------------

_FRACTION = re.compile(r"(\.\d{6})\d+")


def wms_datetime(value: datetime, *, round_up: bool = False) -> str:
    """A UTC instant written as Extensiv writes one (no offset), in whole seconds.

    Rounding a window's start down and its end up leaves no gap between consecutive windows; the
    small overlap is harmless because each parcel is stored once by its id.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    whole = value.replace(microsecond=0)
    if round_up and whole != value:
        whole += timedelta(seconds=1)
    return whole.strftime("%Y-%m-%dT%H:%M:%S")


def parse_wms_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from an Extensiv timestamp (no offset means UTC; an offset or Z is
    honoured; .NET's seven fraction digits are cut to six). None when empty, unreadable or .NET's
    "no date" (year 1)."""
    text = _text(value)
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(_FRACTION.sub(r"\1", text.replace("Z", "+00:00")))
    except ValueError:
        return None
    if parsed.year <= 1900 or parsed.year >= 9999:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# --- tracking in ---------------------------------------------------------------------------------


def shipped_window_rql(after: datetime, before: datetime) -> str:
    """The tracking feed's filter for parcels shipped in [after, before).

    Dates go bare: RQL types a value by its property, and `:` needs no quoting. The feed's rows
    carry no customer, so there is nothing to filter on for that: Bergen's API logins are per
    client, so the login sees only the merchant's parcels.
    """
    return f"shipDate=ge={wms_datetime(after)};shipDate=lt={wms_datetime(before, round_up=True)}"


def package_lines(items: Any) -> list[ShipmentLine]:
    """(SKU, quantity) of a package's contents, summed per SKU (a SKU may come once per lot);
    entries without a SKU or a positive quantity are left out."""
    totals: dict[str, int] = {}
    for item in items if isinstance(items, list) else []:
        identifier = pick(item, "itemIdentifier", "ItemIdentifier")
        sku = _text(pick(item, "sku", "Sku") or pick(identifier, "sku", "Sku"))
        quantity = whole_number(pick(item, "qty", "Qty", "quantity", "Quantity"))
        if sku and quantity is not None and quantity > 0:
            totals[sku] = totals.get(sku, 0) + quantity
    return [ShipmentLine(sku=sku, quantity=quantity) for sku, quantity in totals.items()]


def parse_tracking_row(row: dict[str, Any]) -> Shipment:
    """One package of `GET /orders/shipmentstrackinginfo` as a canonical parcel.

    The id is "{orderId}-{packageId}": both are the warehouse's own and never change, so a parcel
    read again (windows overlap) is recognised. Without a package id it is "{order}-trk-{tracking}".
    Nothing is dropped here: a row without a reference, tracking number or carrier comes back with
    those fields empty (and without an id when nothing identifies it), and the pipeline keeps it
    as unreadable with a reason someone can follow up at the warehouse. Lines come from the
    package's items when the row has them (the documented feed does not promise them).
    """
    order_id = _text(pick(row, "orderId", "OrderId"))
    package_id = _text(pick(row, "packageId", "PackageId"))
    reference = _text(pick(row, "referenceNum", "ReferenceNum"))
    tracking = _text(pick(row, "trackingNumber", "TrackingNumber"))
    if order_id and package_id:
        shipment_id = f"{order_id}-{package_id}"
    elif tracking and (order_id or reference):
        shipment_id = f"{order_id or reference}-trk-{tracking}"
    else:
        shipment_id = ""
    return Shipment(
        warehouse_shipment_id=shipment_id,
        cust_ref=reference,
        carrier=_text(pick(row, "carrier", "Carrier")),
        service=_text(pick(row, "carrierService", "CarrierService")),
        tracking_numbers=[tracking] if tracking else [],
        tracking_url=_text(pick(row, "trackingUrl", "TrackingUrl")),
        shipped_at=parse_wms_datetime(pick(row, "shipDate", "ShipDate")),
        lines=package_lines(pick(row, "items", "Items", "packageContents", "PackageContents")),
        warehouse_order_id=order_id,
    )


# --- stock in ------------------------------------------------------------------------------------


def read_stock_row(record: Any) -> tuple[str, int | None, int, int | None] | None:
    """(sku, facility id, available, on hand) of one stock summary row, or None when it names no
    SKU or has no readable `available`. Rows come per item, qualifier and facility."""
    identifier = pick(record, "itemIdentifier", "ItemIdentifier")
    sku = _text(pick(identifier, "sku", "Sku") or pick(record, "sku", "Sku"))
    available = whole_number(pick(record, "available", "Available"))
    if not sku or available is None:
        return None
    facility = whole_number(pick(record, "facilityId", "FacilityId"))
    return sku, facility, available, whole_number(pick(record, "onHand", "OnHand"))


def sum_stock(rows: list[tuple[str, int | None, int, int | None]], *, facility_id: int | None) -> list[StockLevel]:
    """Stock per SKU at one facility: its rows (one per qualifier) added up.

    Without a facility id (the name could not be matched to one) every facility's rows are added:
    what the merchant has at Bergen in all. A row that does not say its facility counts as ours.
    """
    levels: dict[str, StockLevel] = {}
    for sku, facility, available, on_hand in rows:
        if facility_id is not None and facility is not None and facility != facility_id:
            continue
        level = levels.setdefault(sku, StockLevel(sku=sku, available=0, on_hand=None))
        level.available += available
        if on_hand is not None:
            level.on_hand = (level.on_hand or 0) + on_hand
    return list(levels.values())


def facility_id_named(records: list[dict[str, Any]], name: str) -> int | None:
    """The id of the facility called `name`, from facility records (`{id|facilityId, name}`) or from
    orders, whose `readOnly.facilityIdentifier` gives both (identifiers are returned in full)."""
    for record in records:
        read_only = pick(record, "readOnly", "ReadOnly")
        for candidate in (
            pick(read_only, "facilityIdentifier", "FacilityIdentifier"),
            pick(record, "facilityIdentifier", "FacilityIdentifier"),
            record,
        ):
            label = pick(candidate, "name", "Name", "facilityName", "FacilityName")
            number = whole_number(pick(candidate, "id", "Id", "facilityId", "FacilityId"))
            if label is not None and number is not None and same_text(label, name):
                return number
    return None
