"""Bergen's answers read, as pure functions: lists, order references, parcels, stock, facilities.

Bergen publishes no API; this is the **Extensiv 3PL Warehouse Manager** contract (see the
`connector` module docstring). Kept apart from the HTTP session so that Bergen's real specification,
when it comes, changes these functions, `writes` and the paths in `connector.py`, and so every one
of them is tested with payloads shaped like Extensiv's documentation, without a server.

Dates: Extensiv writes timestamps without an offset ("2024-05-01T14:03:07.12"), in warehouse time
(its screens show dates in the warehouse's time, and its integrations ask for the warehouse's system
time zone). With the connection's time zone set, such a date is read in that zone and the ship date
window is written in it; while it is not set, both are taken as UTC and the pipeline widens the window
by the widest offsets in use (`integrations.zones`), so a parcel's date is off by the zone's offset
but no parcel falls outside the next window. An offset or a Z on a date is always honoured.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, tzinfo
from decimal import ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any

from integrations.connectors.canonical import MAX_NUMBER_TEXT, Shipment, ShipmentLine, StockLevel, WarehouseOrderRef
from integrations.connectors.errors import BadPayloadError
from integrations.connectors.parsing import local_window, parse_datetime, text, whole_seconds

ORDER_REL = "http://api.3plCentral.com/rels/orders/order"
# The tracking feed's HAL relation as Extensiv's rel pages name it; `embedded_list` also takes the
# one list of any other name, as the sandbox's "shipmenttrackinginfo".
TRACKING_REL = "http://api.3plCentral.com/rels/orders/orderparceltrackpackageinfo"
FACILITY_REL = "http://api.3plCentral.com/rels/properties/facility"
ORDER_STATUSES = {0: "open", 1: "complete", 2: "canceled", 3: "closed"}


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
    """A time written as Extensiv writes one (no offset), in whole seconds (`parsing.whole_seconds`):
    an aware value as UTC wall-clock time, a naive one as it stands (already the warehouse's)."""
    if value.tzinfo is None:
        whole = value.replace(microsecond=0)
        value = whole + timedelta(seconds=1) if round_up and whole != value else whole
    else:
        value = whole_seconds(value, round_up=round_up)
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def parse_wms_datetime(value: Any, zone: tzinfo | None = None) -> datetime | None:
    """An aware UTC datetime from an Extensiv timestamp (no offset means the warehouse's `zone`, UTC
    while not known; an offset or Z is honoured; .NET's seven fraction digits are cut to six). None
    when empty, unreadable or .NET's "no date" (year 1: any year up to 1900 is taken as one)."""
    raw = _FRACTION.sub(r"\1", text(value).replace("Z", "+00:00"))
    return parse_datetime(raw, after_year=1900, zone=zone)


# --- tracking in ---------------------------------------------------------------------------------


def shipped_window_rql(after: datetime, before: datetime, zone: tzinfo | None = None) -> str:
    """The tracking feed's filter for parcels shipped in [after, before), written in the warehouse's
    `zone` (`parsing.local_window`: a clock change inside the window widens it), UTC while not known.

    Dates go bare: RQL types a value by its property, and `:` needs no quoting. The feed's rows
    carry no customer, so there is nothing to filter on for that: Bergen's API logins are per
    client, so the login sees only the merchant's parcels.
    """
    if zone is not None:
        after, before = local_window(whole_seconds(after), whole_seconds(before, round_up=True), zone)
    return f"shipDate=ge={wms_datetime(after)};shipDate=lt={wms_datetime(before, round_up=True)}"


def package_lines(items: Any) -> list[ShipmentLine]:
    """(SKU, quantity) of a package's contents, summed per SKU (a SKU may come once per lot);
    entries without a SKU or a positive quantity are left out."""
    totals: dict[str, int] = {}
    for item in items if isinstance(items, list) else []:
        identifier = pick(item, "itemIdentifier", "ItemIdentifier")
        sku = text(pick(item, "sku", "Sku") or pick(identifier, "sku", "Sku"))
        quantity = whole_number(pick(item, "qty", "Qty", "quantity", "Quantity"))
        if sku and quantity is not None and quantity > 0:
            totals[sku] = totals.get(sku, 0) + quantity
    return [ShipmentLine(sku=sku, quantity=quantity) for sku, quantity in totals.items()]


def parse_tracking_row(row: dict[str, Any], zone: tzinfo | None = None) -> Shipment:
    """One package of `GET /orders/shipmentstrackinginfo` as a canonical parcel.

    The id is "{orderId}-{packageId}": both are the warehouse's own and never change, so a parcel
    read again (windows overlap) is recognised. Without a package id it is "{order}-trk-{tracking}".
    Nothing is dropped here: a row without a reference, tracking number or carrier comes back with
    those fields empty (and without an id when nothing identifies it), and the pipeline keeps it
    as unreadable with a reason someone can follow up at the warehouse. Lines come from the
    package's items when the row has them (the documented feed does not promise them). The ship
    date is read in the warehouse's `zone` (`parse_wms_datetime`).
    """
    order_id = text(pick(row, "orderId", "OrderId"))
    package_id = text(pick(row, "packageId", "PackageId"))
    reference = text(pick(row, "referenceNum", "ReferenceNum"))
    tracking = text(pick(row, "trackingNumber", "TrackingNumber"))
    if order_id and package_id:
        shipment_id = f"{order_id}-{package_id}"
    elif tracking and (order_id or reference):
        shipment_id = f"{order_id or reference}-trk-{tracking}"
    else:
        shipment_id = ""
    return Shipment(
        warehouse_shipment_id=shipment_id,
        cust_ref=reference,
        carrier=text(pick(row, "carrier", "Carrier")),
        service=text(pick(row, "carrierService", "CarrierService")),
        tracking_numbers=[tracking] if tracking else [],
        tracking_url=text(pick(row, "trackingUrl", "TrackingUrl")),
        shipped_at=parse_wms_datetime(pick(row, "shipDate", "ShipDate"), zone),
        lines=package_lines(pick(row, "items", "Items", "packageContents", "PackageContents")),
        warehouse_order_id=order_id,
    )


# --- stock in ------------------------------------------------------------------------------------


def read_stock_row(record: Any) -> tuple[str, int | None, int, int | None] | None:
    """(sku, facility id, available, on hand) of one stock summary row, or None when it names no
    SKU or has no readable `available`. Rows come per item, qualifier and facility."""
    identifier = pick(record, "itemIdentifier", "ItemIdentifier")
    sku = text(pick(identifier, "sku", "Sku") or pick(record, "sku", "Sku"))
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
