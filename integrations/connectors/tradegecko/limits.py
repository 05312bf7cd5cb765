"""The ship-to TradeGecko takes, as `writes.address_body` embeds it (`shipping_address`).

Documented: `address1` is required (the address resource's create). ASSUMPTION, no length is
documented: 255 characters a field (the usual text column of the Rails application TradeGecko was)
and any printable Unicode (JSON in UTF-8). First and last names are separate fields, lines 2 and 3
are joined into `address2`. A postcode, phone or e-mail that long cannot be cut: held.
"""

from __future__ import annotations

from integrations.connectors.limits import SHIP_ADDRESS_2_3, FieldLimit, OverLimit

ASSUMED = "assumption: TradeGecko documented no field lengths"
LENGTH = 255

SHIP_TO_LIMITS = (
    FieldLimit("ship_first_name", "first name", max_length=LENGTH, source=ASSUMED),
    FieldLimit("ship_last_name", "last name", max_length=LENGTH, source=ASSUMED),
    FieldLimit("ship_company", "company", max_length=LENGTH, source=ASSUMED),
    FieldLimit("ship_address_1", "street address", required=True, max_length=LENGTH, source="required: [doc]"),
    FieldLimit(SHIP_ADDRESS_2_3, "address lines 2 and 3", max_length=LENGTH, source=ASSUMED),
    FieldLimit("ship_city", "city", max_length=LENGTH, source=ASSUMED),
    FieldLimit("ship_state", "state", max_length=LENGTH, source=ASSUMED),
    FieldLimit("ship_zip", "postcode", max_length=LENGTH, over_limit=OverLimit.HOLD, source=ASSUMED),
    FieldLimit("ship_country", "country", max_length=LENGTH, over_limit=OverLimit.HOLD, source=ASSUMED),
    FieldLimit("ship_phone", "phone number", max_length=LENGTH, over_limit=OverLimit.HOLD, source=ASSUMED),
    FieldLimit("ship_e_mail", "e-mail address", max_length=LENGTH, over_limit=OverLimit.HOLD, source=ASSUMED),
)
