"""Each warehouse's declared field limits cover every ship-to field its payload sends, so a field
added to the wire format cannot go out unchecked."""

from __future__ import annotations

from integrations.connectors.bergen.connector import BergenWarehouse
from integrations.connectors.bergen.writes import format_order
from integrations.connectors.canonical import Address, WarehouseOrder
from integrations.connectors.tradegecko.connector import TradeGeckoWarehouse
from integrations.connectors.tradegecko.writes import address_body

EVERY_FIELD = Address(
    first_name="Ada",
    last_name="Lovelace",
    company="Analytical Engines",
    address_1="12 Analytical Row",
    address_2="Flat 3",
    address_3="Rear",
    city="Hoboken",
    state="NJ",
    zip="07030",
    country="US",
    phone="+1 201 555 0100",
    email="ada@example.com",
)
# The wire's field -> the canonical field whose limit governs it (as the payload builds it).
BERGEN_SHIP_TO = {
    "companyName": "ship_company",
    "name": "ship_name",
    "address1": "ship_address_1",
    "address2": "ship_address_2_3",
    "city": "ship_city",
    "state": "ship_state",
    "zip": "ship_zip",
    "country": "ship_country",
    "phoneNumber": "ship_phone",
    "emailAddress": "ship_e_mail",
}
TRADEGECKO_SHIPPING_ADDRESS = {
    "first_name": "ship_first_name",
    "last_name": "ship_last_name",
    "company_name": "ship_company",
    "address1": "ship_address_1",
    "address2": "ship_address_2_3",
    "city": "ship_city",
    "state": "ship_state",
    "zip_code": "ship_zip",
    "country": "ship_country",
    "phone_number": "ship_phone",
    "email": "ship_e_mail",
}


def test_bergen_declares_a_limit_for_every_ship_to_field_it_sends():
    sent = format_order(
        WarehouseOrder(cust_ref="R1", cust_po_no="1001", ship_to=EVERY_FIELD, ship_code="", items=[]),
        customer_name="C",
        facility="NJ",
    )
    declared = {limit.field for limit in BergenWarehouse.field_limits}

    assert set(sent["shipTo"]) == set(BERGEN_SHIP_TO)
    assert {BERGEN_SHIP_TO[name] for name in sent["shipTo"]} <= declared


def test_tradegecko_declares_a_limit_for_every_shipping_address_field_it_sends():
    sent = {name for name in address_body(EVERY_FIELD) if name != "label"}
    declared = {limit.field for limit in TradeGeckoWarehouse.field_limits}

    assert sent == set(TRADEGECKO_SHIPPING_ADDRESS)
    assert {TRADEGECKO_SHIPPING_ADDRESS[name] for name in sent} <= declared
