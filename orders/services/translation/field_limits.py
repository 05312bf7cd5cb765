"""A ship-to fitted to what its warehouse takes (`WarehouseConnector.field_limits`).

A value the warehouse cannot take is adapted where that keeps it the same value for whoever reads
it: characters outside the warehouse's set are transliterated (anyascii: "Łódź" → "Lodz"), an
over-long line is shortened at a word boundary where one is near. Where a cut would make it another
value (a postcode, an e-mail), or a field the warehouse requires is empty, the order is held with a
fix-it instead. Only the payload is adapted: the order keeps what the cart sent. Pure: no database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from anyascii import anyascii

from integrations.connectors.canonical import Address
from integrations.connectors.limits import SHIP_ADDRESS_2_3, SHIP_NAME, Charset, FieldLimit, OverLimit

# Canonical field name -> the `Address` attribute it is; the two joined fields are handled apart.
ATTRIBUTES = {
    "ship_first_name": "first_name",
    "ship_last_name": "last_name",
    "ship_company": "company",
    "ship_address_1": "address_1",
    "ship_address_2": "address_2",
    "ship_address_3": "address_3",
    "ship_city": "city",
    "ship_state": "state",
    "ship_zip": "zip",
    "ship_country": "country",
    "ship_phone": "phone",
    "ship_e_mail": "email",
}
JOINED_LINES = ", "  # how a warehouse with one line after the first gets lines 2 and 3
CHARSET_CHANGES = {
    Charset.ASCII: "transliterated to ASCII",
    Charset.LATIN1: "transliterated to Latin-1",
    Charset.PRINTABLE: "cleaned of control characters",
}
# A cut at a word boundary may give back up to this share of the room; past it, the word is cut.
WORD_BOUNDARY_SHARE = 0.6
_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class Adaptation:
    """One value changed in the payload, to show in the order's history."""

    field: str
    before: str
    after: str
    how: str  # "shortened to 35 characters", "transliterated to ASCII", or both

    def describe(self, warehouse: str) -> str:
        return f'{self.field} {self.how} for {warehouse}: "{self.before}" → "{self.after}"'


@dataclass
class Fitted:
    """The ship-to as the warehouse gets it, what was changed, and what holds the order."""

    address: Address
    adaptations: list[Adaptation] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # fix-its, each naming the field and the warehouse


def _value(address: Address, name: str) -> str:
    if name == SHIP_NAME:
        return address.full_name
    if name == SHIP_ADDRESS_2_3:
        return JOINED_LINES.join(p for p in (address.address_2, address.address_3) if p)
    return getattr(address, ATTRIBUTES[name]) or ""


def _with_value(address: Address, name: str, value: str) -> Address:
    """The address with `name` set to `value`; a joined field is carried whole by its first part."""
    if name == SHIP_NAME:
        return replace(address, first_name=value, last_name="")
    if name == SHIP_ADDRESS_2_3:
        return replace(address, address_2=value, address_3="")
    return replace(address, **{ATTRIBUTES[name]: value})


def _takes(charset: Charset, char: str) -> bool:
    if unicodedata.category(char).startswith("C"):  # control, format, unassigned: no warehouse wants them
        return False
    if charset == Charset.ASCII:
        return " " <= char <= "~"
    if charset == Charset.LATIN1:
        return ord(char) <= 0xFF
    return True


def fits(*, value: str, limit: FieldLimit) -> bool:
    """Whether the warehouse takes `value` as it is."""
    too_long = limit.max_length is not None and len(value) > limit.max_length
    return not too_long and all(_takes(limit.charset, char) for char in value)


def transliterated(*, value: str, charset: Charset) -> str:
    """`value` in the characters of `charset`: others transliterated, control characters and runs of
    white space as one space."""
    out = []
    for char in value:
        if _takes(charset, char):
            out.append(char)
        elif unicodedata.category(char).startswith("C") or char.isspace():
            out.append(" ")
        else:
            out.append(anyascii(char))
    return _SPACES.sub(" ", "".join(out)).strip()


def shortened(*, value: str, max_length: int) -> str:
    """`value` cut to `max_length`, at the last space when that keeps most of it, without a
    dangling separator."""
    if len(value) <= max_length:
        return value
    head = value[:max_length]
    space = head.rfind(" ")
    if value[max_length] != " " and space >= max_length * WORD_BOUNDARY_SHARE:
        head = head[:space]
    return head.rstrip(" ,;-/")


def _adapted(value: str, limit: FieldLimit) -> tuple[str, str]:
    """The value the warehouse takes, and how it was changed ("" when it was not)."""
    hows = []
    text = transliterated(value=value, charset=limit.charset)
    if text != value.strip():
        hows.append(CHARSET_CHANGES[limit.charset])
    if limit.max_length is not None and len(text) > limit.max_length:
        text = shortened(value=text, max_length=limit.max_length)
        hows.append(f"shortened to {limit.max_length} characters")
    return text, " and ".join(hows)


def _refusal(limit: FieldLimit, value: str, warehouse: str) -> str:
    if limit.max_length is not None and len(value) > limit.max_length:
        problem = f"is longer than the {limit.max_length} characters {warehouse} takes"
    else:
        odd = "".join(dict.fromkeys(c for c in value if not _takes(limit.charset, c)))
        problem = f"has characters {warehouse} cannot take ({odd!r})"
    return (
        f"The ship-to {limit.label} '{value}' {problem}, and cut or transliterated it would be another "
        f"{limit.label}: correct it at the cart (the next sync reads it again), then retry."
    )


def _missing(limit: FieldLimit, country: str, warehouse: str) -> str:
    where = f" for an address in {country}" if limit.required_countries else ""
    return (
        f"{warehouse} needs the ship-to {limit.label}{where}, and the order has none: add it at the cart "
        "(the next sync reads it again), then retry."
    )


def address_fit(*, address: Address, limits: Iterable[FieldLimit], warehouse: str) -> Fitted:
    """The ship-to fitted to the warehouse's `limits` (`warehouse` names it in the texts)."""
    fitted = Fitted(address=address)
    for limit in limits:
        value = _value(fitted.address, limit.field)
        if value and not fits(value=value, limit=limit):
            if limit.over_limit == OverLimit.HOLD:
                fitted.refusals.append(_refusal(limit, value, warehouse))
                continue
            after, how = _adapted(value, limit)
            if after != value:
                fitted.address = _with_value(fitted.address, limit.field, after)
                if how:
                    fitted.adaptations.append(Adaptation(limit.field, value, after, how))
            value = after
        if not value.strip() and limit.required_for(fitted.address.country):
            fitted.refusals.append(_missing(limit, fitted.address.country, warehouse))
    return fitted
