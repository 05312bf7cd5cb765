"""What a warehouse takes in each ship-to field: required or not, how long, which characters.

Each warehouse connector declares its `field_limits` (a tuple of `FieldLimit`); the pipeline
(`orders.services.translation.field_limits`) holds an order the warehouse would refuse before any
send, and adapts a value it can fix (transliterated, shortened) in the payload only, the order
keeping what the cart sent. Pure declarations: no database, no HTTP.

Fields are named as on our canonical order (CartRover's names). Two of them stand for fields a
warehouse joins: `ship_name` is the person's full name (first and last, one space between) for a
warehouse with one name field, and `ship_address_2_3` the second and third address lines joined by
", " for a warehouse with one line after the first.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

SHIP_NAME = "ship_name"
SHIP_ADDRESS_2_3 = "ship_address_2_3"
# Every field a limit may name: the canonical ship-to fields and the two joined ones.
SHIP_FIELDS = (
    "ship_first_name",
    "ship_last_name",
    SHIP_NAME,
    "ship_company",
    "ship_address_1",
    "ship_address_2",
    "ship_address_3",
    SHIP_ADDRESS_2_3,
    "ship_city",
    "ship_state",
    "ship_zip",
    "ship_country",
    "ship_phone",
    "ship_e_mail",
)


class Charset(StrEnum):
    """The characters a field takes; others are transliterated (or the order held)."""

    ASCII = "ascii"  # printable ASCII only
    LATIN1 = "latin1"  # printable ISO 8859-1 (Western European letters)
    PRINTABLE = "printable"  # any printable Unicode (no control characters)


class OverLimit(StrEnum):
    """What to do with a value the warehouse would not take as it is."""

    ADAPT = "adapt"  # transliterate what the charset lacks, shorten at a word boundary
    HOLD = "hold"  # a cut value would be wrong (a postcode, an e-mail): hold the order


@dataclass(frozen=True)
class FieldLimit:
    """One field's limits at one warehouse. `source` says where the numbers come from: the
    platform's documentation, or an assumption (named as such) where it documents none."""

    field: str  # one of SHIP_FIELDS
    label: str  # as a person reads it in a fix-it ("street address")
    required: bool = False
    # Required only for ship-tos in these ISO alpha-2 countries (empty: everywhere, if required).
    required_countries: frozenset[str] = frozenset()
    max_length: int | None = None
    charset: Charset = Charset.PRINTABLE
    over_limit: OverLimit = OverLimit.ADAPT
    source: str = ""

    def __post_init__(self) -> None:
        if self.field not in SHIP_FIELDS:
            raise ValueError(f"{self.field!r} is not a ship-to field a limit can name")

    def required_for(self, country: str) -> bool:
        """Whether the field must be filled for a ship-to in `country` (an alpha-2 code)."""
        return self.required and (not self.required_countries or country in self.required_countries)


@dataclass(frozen=True)
class RateLimit:
    """How many requests a platform account takes in a window (`Connector.rate_limit`), and where the
    figure comes from: the platform's documentation, or a guess (named as such) where it documents
    none. The shared rate budget (`integrations.budget`) keeps every worker under it."""

    requests: int
    seconds: float
    source: str = ""

    def __post_init__(self) -> None:
        if self.requests < 1 or self.seconds <= 0:
            raise ValueError(f"a rate limit needs at least one request in a positive window, not {self!r}")
