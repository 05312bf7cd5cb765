"""A warehouse's time zone: the IANA names we accept, and what reading without one costs.

A warehouse may write its dates in its own zone without saying so (Extensiv shows dates in warehouse
time, and its integrations ask for the warehouse's system time zone). Until a person sets the zone,
a date without an offset is read as UTC and every tracking window is widened by the widest offsets
in use, so that nothing shipped after the last run falls outside the next window.
"""

from __future__ import annotations

import zoneinfo
from datetime import timedelta
from functools import cache

from django.core.exceptions import ValidationError

# The widest offsets from UTC any zone uses: UTC-12 (Baker Island) and UTC+14 (Kiritimati).
WIDEST_BEHIND_UTC = timedelta(hours=12)
WIDEST_AHEAD_OF_UTC = timedelta(hours=14)
EXTRA_HOURS_UNSET = int((WIDEST_BEHIND_UTC + WIDEST_AHEAD_OF_UTC).total_seconds() // 3600)

TIME_ZONE_HELP = (
    "The time zone the warehouse's system writes its dates in (an IANA name, e.g. America/New_York); "
    "ask the warehouse. Until it is set, each tracking run reads "
    f"{EXTRA_HOURS_UNSET} extra hours so that no parcel is missed."
)
TIME_ZONE_UNSET_NOTE = (
    f"Time zone not set: reading {EXTRA_HOURS_UNSET} extra hours of shipments each run "
    "(ask the warehouse which time zone its system writes dates in, and set it)."
)


@cache
def time_zone_names() -> frozenset[str]:
    """The IANA names this system knows (read once: listing them walks the zone database)."""
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(value: str) -> None:
    """A known IANA name, or blank (not known yet)."""
    if value and value not in time_zone_names():
        raise ValidationError(
            "%(value)s is not a time zone name we know: use an IANA name such as Europe/London or America/Chicago.",
            params={"value": value},
            code="invalid_time_zone",
        )


def zone_named(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone of a stored name; None when blank or no longer known (read as not set: the wide window)."""
    if not name or name not in time_zone_names():
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
