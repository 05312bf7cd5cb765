"""Reading what every platform sends the same way: text fields, amounts, quantities, dates, addresses.

Each platform's wire code knows its own field names; what a value means once found (an ISO 8601
timestamp, a decimal amount, an ordered quantity, the parts of an address) is read here, once, so
that a hostile or odd value (a `null`, a number where text was expected, `1e999999`, the year 9999)
is handled alike on every platform. Platform quirks stay in the platform's wire code, on top of
these functions (TradeGecko's and Bergen's `Z` suffix, Bergen's seven fraction digits).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.connectors.canonical import MAX_NUMBER_TEXT, MAX_QUANTITY, Address


class UnreadableOrder(ValueError):
    """One order in an otherwise good page that cannot become a canonical order: kept as rejected
    with this reason, never dropped silently."""


# --- text and numbers ----------------------------------------------------------------------------


def text(value: Any) -> str:
    """A field as text: ids (numbers) become strings; null, booleans, objects and lists become ""."""
    if value is None or isinstance(value, (bool, dict, list)):
        return ""
    return str(value).strip()


def decimal_or_none(value: Any) -> Decimal | None:
    """A finite decimal from a number or a decimal string ("189.0"); None when absent or unreadable."""
    if value is None or isinstance(value, (bool, dict, list)):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def money(value: Any) -> Decimal:
    """An amount, 0 when absent or unreadable: a price is not needed to ship, so an odd one does not
    lose the order (the stored payload keeps what the platform sent)."""
    number = decimal_or_none(value)
    return Decimal("0") if number is None else number


def parse_quantity(value: Any) -> int:
    """An ordered quantity as a whole, non-negative number; zero is kept so that validation holds
    the order with a reason. Raises `UnreadableOrder` saying what is wrong with it."""
    if isinstance(value, bool) or value is None:
        raise UnreadableOrder(f"quantity {value!r} is not a number")
    if len(str(value).strip()) > MAX_NUMBER_TEXT:
        raise UnreadableOrder(f"quantity {str(value)[:40]!r}… is not a quantity any order holds")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise UnreadableOrder(f"quantity {value!r} is not a number") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise UnreadableOrder(f"quantity {value!r} is not a whole number")
    if number < 0:
        raise UnreadableOrder(f"quantity {value!r} is negative")
    if number > MAX_QUANTITY:
        raise UnreadableOrder(f"quantity {value!r} is more than any order holds (at most {MAX_QUANTITY})")
    return int(number)


# --- dates ---------------------------------------------------------------------------------------


def as_utc(value: datetime, zone: tzinfo | None = None) -> datetime:
    """An aware UTC datetime; a naive one is taken as wall-clock time in `zone` (UTC when None)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone or UTC)
    return value.astimezone(UTC)


def local_window(after: datetime, before: datetime, zone: tzinfo) -> tuple[datetime, datetime]:
    """[after, before) as naive wall-clock times in `zone`, wide enough for every instant in it.

    A clock change inside the window moves the wall clock back (or skips ahead), so a window written
    with each end's own offset could come out inverted; the start takes the smaller of the two
    offsets and the end the larger instead (a window is shorter than the months between changes).
    """
    after, before = as_utc(after), as_utc(before)
    offsets = [moment.astimezone(zone).utcoffset() or timedelta(0) for moment in (after, before)]
    return (after + min(offsets)).replace(tzinfo=None), (before + max(offsets)).replace(tzinfo=None)


def whole_seconds(value: datetime, *, round_up: bool = False) -> datetime:
    """In UTC, to the second. Rounding a window's start down and its end up leaves no gap between
    consecutive windows; the small overlap is harmless because records are stored once by id."""
    value = as_utc(value)
    whole = value.replace(microsecond=0)
    if round_up and whole != value:
        whole += timedelta(seconds=1)
    return whole


def format_datetime(value: datetime, *, round_up: bool = False, zone: tzinfo | None = None) -> str:
    """ISO 8601 UTC with a Z, whole seconds (`2024-05-01T12:00:00Z`), as the platforms' docs show; given
    a `zone` (a warehouse's), the same instant as its local time with the offset (`…T05:00:00-07:00`)."""
    if zone is not None:
        return whole_seconds(value, round_up=round_up).astimezone(zone).isoformat()
    return whole_seconds(value, round_up=round_up).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_datetime(value: Any, *, after_year: int = 1, zone: tzinfo | None = None) -> datetime | None:
    """An aware UTC datetime from ISO 8601 (Z, an offset, or none: taken as `zone`, UTC when None), else None.

    A date is not needed to ship an order, so an unreadable one is dropped rather than losing the
    whole order; the stored payload keeps the original. Years up to `after_year` and from 9999 read
    as None: year 1 or 9999 may overflow in UTC, and some platforms write an early year for "no date".
    """
    raw = text(value)
    if not raw:
        return None
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return as_utc(parsed, zone) if after_year < parsed.year < 9999 else None


# --- addresses -----------------------------------------------------------------------------------


def address_from(field: Callable[[str], str], names: Mapping[str, str], **given: str) -> Address:
    """An address read field by field: `names` maps each canonical field to the platform's name for
    it, `field` reads one of those as text; `given` fills fields the record does not hold (the
    order's email). Normalising a field (a country code's case) is the platform's choice."""
    return Address(**{ours: field(theirs) for ours, theirs in names.items()}, **given)
