"""The ship-to Bergen takes, as `writes.format_order` sends it (`shipTo`): required fields and limits.

ASSUMPTION, all of it: neither Bergen nor Extensiv's public REST documentation gives field lengths or
a character set (searched: the 3PL Warehouse Manager API pages and integrators' code name the
fields, never a length). Until Bergen's specification says otherwise we keep to what a 3PL can print
on any carrier's label: 35 characters a name or address line and 30 a city (the carriers' usual
label lines), plain ASCII (label printers and EDI feeds), a postcode of at most 10 (a US ZIP+4 with
its dash), the country as its two-letter code; a US or Canadian ship-to needs its state. `name` is
the person's full name in one field, `address2` lines 2 and 3 joined. A postcode, phone or e-mail
cannot be cut or transliterated without becoming another one: held.
"""

from __future__ import annotations

from integrations.connectors.limits import SHIP_ADDRESS_2_3, SHIP_NAME, Charset, FieldLimit, OverLimit

ASCII, HOLD = Charset.ASCII, OverLimit.HOLD
ASSUMED = "assumption: neither Bergen nor Extensiv documents a length or character set"
US_CA = frozenset({"US", "CA"})

SHIP_TO_LIMITS = (
    FieldLimit(SHIP_NAME, "name", required=True, max_length=35, charset=ASCII, source=ASSUMED),
    FieldLimit("ship_company", "company", max_length=35, charset=ASCII, source=ASSUMED),
    FieldLimit("ship_address_1", "street address", required=True, max_length=35, charset=ASCII, source=ASSUMED),
    FieldLimit(SHIP_ADDRESS_2_3, "address lines 2 and 3", max_length=35, charset=ASCII, source=ASSUMED),
    FieldLimit("ship_city", "city", required=True, max_length=30, charset=ASCII, source=ASSUMED),
    FieldLimit(
        "ship_state",
        "state or province",
        required=True,
        required_countries=US_CA,
        max_length=35,
        charset=ASCII,
        source=ASSUMED,
    ),
    FieldLimit("ship_zip", "postcode", required=True, max_length=10, charset=ASCII, over_limit=HOLD, source=ASSUMED),
    FieldLimit("ship_country", "country", required=True, max_length=2, charset=ASCII, over_limit=HOLD, source=ASSUMED),
    FieldLimit("ship_phone", "phone number", max_length=25, charset=ASCII, over_limit=HOLD, source=ASSUMED),
    FieldLimit("ship_e_mail", "e-mail address", max_length=100, charset=ASCII, over_limit=HOLD, source=ASSUMED),
)
