"""Records of the Bergen sandbox in the shapes of the Extensiv 3PL Warehouse Manager REST API.

Kept apart from the server so the wire shapes (HAL relations, ``readOnly`` blocks, stock rows, tracking
rows) can be read in one place. Assumptions where the public material is silent:
- Dates are written like Extensiv's, ISO 8601 *without* an offset (``2024-05-01T14:03:07.120``); the
  sandbox writes UTC.
- ``readOnly.status`` is 0 (open), 1 (closed: confirmed, shipped) or 2 (canceled); the pick and pack
  fields (``pickStarted``, ``pickDoneDate``, ``packStarted``, ``packDoneDate``) start empty.
- Tracking rows come in a HAL page under ``REL_TRACKING`` and carry, besides the documented fields, an
  ``items`` list of ``{"sku", "qty"}`` per package.
- Orders are stored as created (lines under ``orderItems``, as posted); read back, they show their lines
  only as Extensiv's ``detail`` parameter asks (``order_view``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

REL_ORDER = "http://api.3plCentral.com/rels/orders/order"
REL_ORDER_ITEM = "http://api.3plCentral.com/rels/orders/item"
REL_TRACKING = "http://api.3plCentral.com/rels/orders/shipmenttrackinginfo"

STATUS_OPEN, STATUS_COMPLETE, STATUS_CANCELED = 0, 1, 2

DEFAULT_ERROR_CODES = {
    400: "InvalidValue",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    412: "PreconditionFailed",
    415: "UnsupportedMediaType",
    428: "PreconditionRequired",
    429: "TooManyRequests",
}

ORDER_FILTER_FIELDS = (
    "referenceNum",
    "poNum",
    "externalId",
    "readOnly.orderId",
    "readOnly.status",
    "readOnly.isClosed",
    "readOnly.creationDate",
    "readOnly.lastModifiedDate",
    "readOnly.processDate",
    "readOnly.fullyAllocated",
    "readOnly.customerIdentifier.id",
    "readOnly.customerIdentifier.name",
    "readOnly.facilityIdentifier.id",
    "readOnly.facilityIdentifier.name",
)
STOCK_FILTER_FIELDS = (
    "facilityId",
    "itemIdentifier.id",
    "itemIdentifier.sku",
    "onHand",
    "available",
    "allocated",
    "onHold",
)
TRACKING_FILTER_FIELDS = ("orderId", "referenceNum", "poNum", "packageId", "carrier", "trackingNumber", "shipDate")


def zone_named(name: str) -> tzinfo:
    """The warehouse's system time zone (an IANA name; raises ``ZoneInfoNotFoundError`` for another)."""
    return ZoneInfo(name)


def wms_time(moment: datetime | None = None, zone: tzinfo = UTC) -> str:
    """A timestamp the way Extensiv writes one: ISO 8601, milliseconds, no offset, in warehouse time
    (``zone``: the sandbox's ``time_zone``, UTC unless told)."""
    moment = (moment or datetime.now(UTC)).astimezone(zone)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


@dataclass
class StockLevel:
    """One item in one facility: what ``GET /inventory/stocksummaries`` reports."""

    customer_id: int
    facility_id: int
    item_id: int
    sku: str
    on_hand: int
    allocated: int = 0
    on_hold: int = 0
    total_received: int = 0

    @property
    def available(self) -> int:
        return max(0, self.on_hand - self.allocated - self.on_hold)

    def summary(self) -> dict[str, Any]:
        return {
            "facilityId": self.facility_id,
            "itemIdentifier": {"id": self.item_id, "sku": self.sku},
            "qualifier": "",
            "totalReceived": self.total_received,
            "allocated": self.allocated,
            "available": self.available,
            "onHold": self.on_hold,
            "onHand": self.on_hand,
        }


def ship_to_problem(ship_to: Any) -> tuple[str, str, str] | None:
    """What is wrong with an order's ``shipTo``, as (Hint, ErrorCode, the field's name); None when nothing."""
    if not isinstance(ship_to, dict):
        return "shipTo is required.", "MissingRequiredField", "shipTo"
    for name in ("name", "address1", "city", "zip", "country"):
        value = ship_to.get(name)
        if not isinstance(value, str) or not value.strip():
            return f"shipTo.{name} is required.", "MissingRequiredField", f"shipTo.{name}"
    country = ship_to["country"]
    if len(country) != 2 or not country.isalpha() or not country.isupper():
        return f"shipTo.country {country!r} is not a 2-letter country code.", "InvalidValue", "shipTo.country"
    return None


def build_order_record(
    body: dict[str, Any],
    *,
    order_id: int,
    customer: dict[str, Any],
    facility: dict[str, Any],
    item_ids: dict[str, int],
    first_item_id: int,
    fully_allocated: bool,
    zone: tzinfo = UTC,
) -> dict[str, Any]:
    """The stored order: what the client sent, identifiers resolved, plus the server's ``readOnly`` block."""
    now = wms_time(zone=zone)
    record = copy.deepcopy(body)
    record["customerIdentifier"] = dict(customer)
    record["facilityIdentifier"] = dict(facility)
    record.setdefault("poNum", None)
    record.setdefault("routingInfo", {})
    items = []
    for offset, line in enumerate(record.get("orderItems") or []):
        sku = line["itemIdentifier"]["sku"]
        items.append(
            {
                **line,
                "itemIdentifier": {"id": item_ids[sku], "sku": sku},
                "readOnly": {"orderItemId": first_item_id + offset, "fullyAllocated": fully_allocated},
            }
        )
    record["orderItems"] = items
    record["readOnly"] = {
        "orderId": order_id,
        "status": STATUS_OPEN,
        "isClosed": False,
        "fullyAllocated": fully_allocated,
        "processDate": None,
        "pickStarted": False,
        "pickDoneDate": None,
        "packStarted": False,
        "packDoneDate": None,
        "creationDate": now,
        "lastModifiedDate": now,
        "customerIdentifier": dict(customer),
        "facilityIdentifier": dict(facility),
    }
    record["_links"] = {"self": {"href": f"/orders/{order_id}"}}
    return record


def order_view(record: dict[str, Any], detail: str | None) -> dict[str, Any]:
    """An order as ``GET /orders`` shows it: its lines only when ``detail`` (comma-delimited, default
    None) asks for ``OrderItems`` or ``All``, and then embedded under ``REL_ORDER_ITEM``, as Extensiv
    does; ``poNum`` and ``shipTo`` whatever the detail."""
    view = copy.deepcopy(record)
    items = view.pop("orderItems", [])
    wanted = {part.strip().lower() for part in (detail or "").split(",")}
    if wanted & {"orderitems", "all"}:
        view["_embedded"] = {REL_ORDER_ITEM: items}
    return view


def tracking_row(order: dict[str, Any], package_id: int, package: dict[str, Any], ship_date: str) -> dict:
    """One package of one shipped order, as ``GET /orders/shipmentstrackinginfo`` lists it."""
    return {
        "orderId": order["readOnly"]["orderId"],
        "referenceNum": order["referenceNum"],
        "poNum": order.get("poNum"),
        "packageId": package_id,
        "carrier": package.get("carrier"),
        "carrierService": package.get("service"),
        "trackingNumber": package.get("tracking_number"),
        "trackingUrl": package.get("tracking_url"),
        "shipDate": ship_date,
        "items": [{"sku": line["sku"], "qty": line["qty"]} for line in package.get("lines") or []],
    }


def hal_page(
    path: str, query: dict[str, str], total: int, pgsiz: int, pgnum: int, rel: str, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """A HAL collection page. ``_embedded`` is left out when the page is empty, as HAL serializers do."""

    def href(page: int) -> dict[str, str]:
        params = {**query, "pgsiz": str(pgsiz), "pgnum": str(page)}
        return {"href": path + "?" + urlencode(params, safe="=;,()*.'")}

    links = {"self": href(pgnum)}
    if pgnum * pgsiz < total:
        links["next"] = href(pgnum + 1)
    if pgnum > 1:
        links["prev"] = href(pgnum - 1)
    body: dict[str, Any] = {"totalResults": total, "_links": links}
    if rows:
        body["_embedded"] = {rel: rows}
    return body
