"""Countries and states as a warehouse reads them: ISO 3166-1 alpha-2 codes and state codes.

Carts send a country as a code in any case, a three-letter code ("NZL") or a name ("United States"),
and a state as a name or a code. Warehouses take the two-letter country code, and for the United
States and Canada the state's or province's code, and refuse the rest. The codes and names come from
pycountry, a maintained copy of the ISO 3166 tables; the few variants below are everyday names ISO's
table does not list. Pure: no database.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache

import pycountry

# Everyday names a cart may send that ISO 3166 does not list, each with the code it means. Kept to
# names in common use for a whole country: "USA" and "UK" (ISO lists neither abbreviation), the home
# nations of the United Kingdom (a UK address often names one as its country), "Great Britain",
# "Holland", "Russia" (ISO: "Russian Federation") and "Turkey" (ISO's name is now "Türkiye").
COMMON_VARIANTS = {
    "usa": "US",
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "holland": "NL",
    "russia": "RU",
    "turkey": "TR",
}

# The countries whose states go to the warehouse as codes ("California" -> "CA"); elsewhere the
# state is sent as the cart gave it.
STATE_CODE_COUNTRIES = ("US", "CA")


def _folded(value: str) -> str:
    """The form names are compared in: lower case, no accents, no dots, single spaces."""
    text = unicodedata.normalize("NFKD", value)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower().replace(".", "")
    return re.sub(r"\s+", " ", text).strip()


@cache
def _countries() -> dict[str, str]:
    """Every folded code and name of every country, with its alpha-2 code."""
    index = dict(COMMON_VARIANTS)
    for country in pycountry.countries:
        for attribute in ("alpha_2", "alpha_3", "name", "official_name", "common_name"):
            name = getattr(country, attribute, None)
            if name:
                index[_folded(name)] = country.alpha_2
    return index


@cache
def _subdivisions(country: str) -> dict[str, str]:
    """Every folded code and name of the country's subdivisions ("us-ca", "ca", "california"), with
    its code without the country ("CA")."""
    index = {}
    for subdivision in pycountry.subdivisions.get(country_code=country) or ():
        short = subdivision.code.split("-", 1)[1]
        for name in (subdivision.code, short, subdivision.name):
            index[_folded(name)] = short
    return index


def country_code(value: str | None) -> str | None:
    """The ISO 3166-1 alpha-2 code of the country `value` names, or None when it names none."""
    return _countries().get(_folded(value or "")) or None


def subdivision_code(country: str, value: str | None) -> str | None:
    """The code of the state or province `value` names in `country` (an alpha-2 code): "CA" for
    "California", "US-CA" or "ca" in the US. None when the country's states are not sent as codes
    or `value` names none of them."""
    if country not in STATE_CODE_COUNTRIES:
        return None
    return _subdivisions(country).get(_folded(value or "")) or None
