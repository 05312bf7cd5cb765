"""Records and clock of the Overstock (Supplier Oasis) sandbox.

Kept apart from the server so the state (orders, lines, ship confirmations) and the time rules can be read
in one place. Assumptions where no public document speaks (each could be wrong):
- Supplier Oasis runs on Mountain time: timestamps are written with the Mountain offset (``-06:00`` in
  summer, ``-07:00`` in winter, as in the ``shipDate`` integrators copy from Overstock's example), and a
  ``startTime``/``endTime`` without an offset is read as Mountain wall time (ShipWorks converts its UTC
  window to "Mountain Standard Time" before formatting it without an offset). Dates alone (``2013-08-01``,
  ``20130802``, as in the request line integrators quote) mean midnight Mountain time.
- Order ``status`` and ``lineStatus`` take the values ``OPEN``, ``PARTIALLY_SHIPPED``, ``SHIPPED``,
  ``CANCELLED`` (integrators store both as free text; the values are a guess).
- Carrier and service-level codes are the ones ShipWorks sends; any other code is refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

OPEN, PARTIALLY_SHIPPED, SHIPPED, CANCELLED = "OPEN", "PARTIALLY_SHIPPED", "SHIPPED", "CANCELLED"

CARRIER_CODES = frozenset({"UPS", "UPSSP", "UPSMI", "USPS", "USPSFC", "FEDEX", "FEDSP", "FXFE", "ONTRAC", "DHL"})
SERVICE_LEVELS = frozenset(
    {"GROUND", "NEXT_DAY", "TWO_DAY", "THREE_DAY", "FIRSTCLASS", "PRIORITY", "MEDIA_MAIL", "DOCK"}
)

ADDRESS_FIELDS = (
    "contactName",
    "companyName",
    "address1",
    "address2",
    "city",
    "stateOrProvince",
    "postalCode",
    "countryCode",
    "phone",
)
DEFAULT_SHIP_TO: dict[str, str] = {
    "contactName": "Ada Lovelace",
    "address1": "12 Analytical Row",
    "city": "Salt Lake City",
    "stateOrProvince": "UT",
    "postalCode": "84101",
    "countryCode": "US",
    "phone": "801-555-0100",
}
RETURN_ADDRESS: dict[str, str] = {
    "contactName": "Returns Department",
    "address1": "799 Coliseum Way",
    "city": "Midvale",
    "stateOrProvince": "UT",
    "postalCode": "84047",
    "countryCode": "US",
    "phone": "801-555-0199",
}
LINE_FIELDS = frozenset({"partner_sku", "option_sku", "quantity", "item_name", "unit_cost", "status"})

_HOUR = timedelta(hours=1)
_STANDARD_OFFSET = timedelta(hours=-7)


def _dst_bounds(year: int) -> tuple[datetime, datetime]:
    """US rules since 2007, in local wall time: second Sunday of March 02:00 to first Sunday of November 02:00."""
    march_8, november_1 = datetime(year, 3, 8, 2), datetime(year, 11, 1, 2)
    return (
        march_8 + timedelta(days=(6 - march_8.weekday()) % 7),
        november_1 + timedelta(days=(6 - november_1.weekday()) % 7),
    )


class _Mountain(tzinfo):
    """America/Denver without depending on the system's tz database (slim CI images may lack it)."""

    def utcoffset(self, dt: datetime | None) -> timedelta:
        return _STANDARD_OFFSET + self.dst(dt)

    def dst(self, dt: datetime | None) -> timedelta:
        if dt is None:
            return timedelta(0)
        start, end = _dst_bounds(dt.year)
        wall = dt.replace(tzinfo=None)
        if start <= wall < end - _HOUR:
            return _HOUR
        if end - _HOUR <= wall < end:  # the repeated hour: fold 0 is still daylight time
            return timedelta(0) if dt.fold else _HOUR
        return timedelta(0)

    def tzname(self, dt: datetime | None) -> str:
        return "MDT" if self.dst(dt) else "MST"

    def fromutc(self, dt: datetime) -> datetime:
        standard = dt.replace(tzinfo=None) + _STANDARD_OFFSET
        start, end = _dst_bounds(standard.year)
        if start <= standard < end - _HOUR:
            return (standard + _HOUR).replace(tzinfo=self)
        return standard.replace(tzinfo=self, fold=1 if end - _HOUR <= standard < end else 0)


MOUNTAIN = _Mountain()


def now() -> datetime:
    return datetime.now(UTC)


def aware(moment: datetime) -> datetime:
    """Seeding helpers take naive datetimes as UTC (tests think in UTC; the wire speaks Mountain time)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def oasis_time(moment: datetime) -> str:
    """A timestamp as the sandbox writes one: Mountain time, milliseconds, explicit offset."""
    return aware(moment).astimezone(MOUNTAIN).isoformat(timespec="milliseconds")


def parse_oasis_time(text: str) -> datetime:
    """An ISO 8601 time from a query or body; no offset means Mountain wall time. Raises ValueError."""
    value = datetime.fromisoformat(text.strip())
    return value if value.tzinfo is not None else value.replace(tzinfo=MOUNTAIN)


@dataclass
class Confirmation:
    """One accepted ``supplierShipment``: a quantity of one line under one tracking number."""

    order_number: str
    line_number: int
    quantity: int
    carrier: str
    tracking_number: str
    ship_date: datetime
    service_level: str | None
    shipment_id: str
    confirmed_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "order_number": self.order_number,
            "line_number": self.line_number,
            "quantity": self.quantity,
            "carrier": self.carrier,
            "tracking_number": self.tracking_number,
            "ship_date": self.ship_date,
            "service_level": self.service_level,
            "shipment_id": self.shipment_id,
            "confirmed_at": self.confirmed_at,
        }


@dataclass
class Line:
    number: int
    line_id: int
    partner_sku: str
    option_sku: str
    quantity: int
    item_name: str
    unit_cost: str
    cancelled: bool = False
    confirmations: list[Confirmation] = field(default_factory=list)

    @property
    def shipped(self) -> int:
        return sum(confirmation.quantity for confirmation in self.confirmations)

    @property
    def remaining(self) -> int:
        return 0 if self.cancelled else max(0, self.quantity - self.shipped)

    @property
    def status(self) -> str:
        if self.cancelled:
            return CANCELLED
        if self.shipped >= self.quantity:
            return SHIPPED
        return PARTIALLY_SHIPPED if self.shipped else OPEN


@dataclass
class Order:
    number: str
    order_id: int
    sales_channel: str
    order_date: datetime
    created: datetime
    warehouse: str
    ship_to: dict[str, str]
    carrier: str
    service_level: str
    lines: list[Line]

    def line(self, number: int) -> Line | None:
        return next((line for line in self.lines if line.number == number), None)

    @property
    def status(self) -> str:
        statuses = {line.status for line in self.lines}
        if statuses == {CANCELLED}:
            return CANCELLED
        if statuses <= {SHIPPED, CANCELLED}:
            return SHIPPED
        return PARTIALLY_SHIPPED if statuses & {SHIPPED, PARTIALLY_SHIPPED} else OPEN


def build_ship_to(ship_to: dict[str, Any] | None) -> dict[str, str]:
    """The default address with ``ship_to`` (API field names: ``contactName``, ``address1``...) laid over it."""
    unknown = set(ship_to or {}) - set(ADDRESS_FIELDS)
    if unknown:
        raise ValueError(f"unknown ship_to fields {sorted(unknown)}; expected some of {ADDRESS_FIELDS}")
    merged = {**DEFAULT_SHIP_TO, **(ship_to or {})}
    return {name: str(value) for name, value in merged.items() if value not in (None, "")}


def build_lines(specs: list[dict[str, Any]], first_line_id: int) -> list[Line]:
    """Lines numbered 1..n from ``{"partner_sku", "option_sku", "quantity", "item_name", "unit_cost", "status"}``."""
    lines = []
    for number, spec in enumerate(specs, start=1):
        unknown = set(spec) - LINE_FIELDS
        if unknown:
            raise ValueError(f"unknown line fields {sorted(unknown)}; expected some of {sorted(LINE_FIELDS)}")
        status = spec.get("status", OPEN)
        if status not in (OPEN, CANCELLED):
            raise ValueError(f"a seeded line is {OPEN} or {CANCELLED}, not {status!r}")
        quantity = spec.get("quantity", 1)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
            raise ValueError(f"line quantity must be a positive integer, not {quantity!r}")
        try:
            unit_cost = f"{Decimal(str(spec.get('unit_cost', '10.00'))):.2f}"
        except InvalidOperation as exc:
            raise ValueError(f"unit_cost {spec.get('unit_cost')!r} is not a number") from exc
        lines.append(
            Line(
                number=number,
                line_id=first_line_id + number - 1,
                partner_sku=str(spec.get("partner_sku", f"SKU-{number}")),
                option_sku=str(spec.get("option_sku", f"OPT-{number}")),
                quantity=quantity,
                item_name=str(spec.get("item_name", "Widget")),
                unit_cost=unit_cost,
                cancelled=status == CANCELLED,
            )
        )
    return lines
