"""Countries and states as the warehouse takes them: the pure lookups, the ship-to a warehouse is
sent, and orders from the Squarespace sandbox read back at the Bergen sandbox."""

from __future__ import annotations

import pytest

from integrations.connectors.bergen.writes import format_order
from orders.models import HoldCode, Order, OrderStatus
from orders.services.translation.addresses import country_code, subdivision_code
from orders.services.translation.translate import (
    TranslationContext,
    order_address,
    order_validate,
    warehouse_order_for,
)
from tests.orders.helpers import order_for, order_posts, seed, sync

# --- the pure lookups ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("US", "US"),
        ("us", "US"),
        ("  nz ", "NZ"),
        ("NZL", "NZ"),
        ("gbr", "GB"),
        ("United States", "US"),
        ("united states of america", "US"),
        ("New  Zealand", "NZ"),
        ("Germany", "DE"),
        ("Bolivia", "BO"),  # ISO's common name
        ("Cote d'Ivoire", "CI"),  # ISO writes it with the accent
        ("USA", "US"),
        ("U.S.A.", "US"),
        ("U.S.", "US"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("England", "GB"),
        ("Holland", "NL"),
        ("Russia", "RU"),
        ("Turkey", "TR"),
    ],
)
def test_a_country_is_read_from_its_codes_its_names_and_common_variants(value, code):
    assert country_code(value) == code


@pytest.mark.parametrize("value", ["Atlantis", "", "   ", None, "XX", "Narnia Republic"])
def test_what_names_no_country_gives_none(value):
    assert country_code(value) is None


@pytest.mark.parametrize(
    ("country", "value", "code"),
    [
        ("US", "California", "CA"),
        ("US", "california ", "CA"),
        ("US", "CA", "CA"),
        ("US", "us-ca", "CA"),
        ("US", "New  York", "NY"),
        ("US", "District of Columbia", "DC"),
        ("CA", "Ontario", "ON"),
        ("CA", "Québec", "QC"),
        ("CA", "Quebec", "QC"),
        ("CA", "BC", "BC"),
    ],
)
def test_a_us_state_or_canadian_province_is_read_as_its_code(country, value, code):
    assert subdivision_code(country, value) == code


@pytest.mark.parametrize(("country", "value"), [("US", "Atlantis"), ("US", ""), ("CA", None), ("GB", "England")])
def test_an_unknown_state_or_another_country_s_gives_none(country, value):
    assert subdivision_code(country, value) is None


# --- the ship-to sent --------------------------------------------------------------------------------


NO_WAREHOUSE = TranslationContext(warehouse=None, aliases={}, ship_map={}, warehouse_skus=None)


def ship_to(**fields: str) -> Order:
    address = {
        "ship_first_name": "Ada",
        "ship_last_name": "Lovelace",
        "ship_company": "",
        "ship_address_1": "1 Main St",
        "ship_city": "Springfield",
        "ship_state": "Illinois",
        "ship_zip": "62701",
        "ship_country": "United States",
    }
    return Order(order_number="1001", **{**address, **fields})


def test_the_ship_to_sent_carries_the_codes_and_the_order_keeps_what_the_cart_sent():
    order = ship_to()

    address = order_address(order=order)

    assert (address.country, address.state) == ("US", "IL")
    assert (order.ship_country, order.ship_state) == ("United States", "Illinois")


def test_a_state_outside_the_us_and_canada_is_sent_as_given():
    address = order_address(order=ship_to(ship_country="GBR", ship_state="Kent"))

    assert (address.country, address.state) == ("GB", "Kent")


def test_a_ship_to_with_only_a_company_is_named_after_the_company():
    order = ship_to(ship_first_name="", ship_last_name=" ", ship_company="Acme Ltd")

    sent = format_order(warehouse_order_for(order=order, lines=[]), customer_name="C", facility="NJ")

    assert sent["shipTo"]["name"] == "Acme Ltd"
    assert sent["shipTo"]["companyName"] == "Acme Ltd"
    holds = order_validate(order=order, lines=[], ctx=NO_WAREHOUSE)
    assert HoldCode.MISSING_ADDRESS not in [hold.code for hold in holds]


def test_a_ship_to_with_neither_a_name_nor_a_company_is_held_for_the_name():
    order = ship_to(ship_first_name="", ship_last_name="")

    [hold] = [
        hold
        for hold in order_validate(order=order, lines=[], ctx=NO_WAREHOUSE)
        if hold.code == HoldCode.MISSING_ADDRESS
    ]

    assert "name" in hold.message


# --- end to end through the sandboxes -----------------------------------------------------------------


def test_a_country_and_state_given_as_names_arrive_at_the_warehouse_as_codes(wired):
    cart_order = seed(
        wired.squarespace, "1001", shipping_address={"countryCode": "United States", "state": "California"}
    )

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.AT_WMS
    stored = wired.bergen.order(order.cust_ref)
    assert (stored["shipTo"]["country"], stored["shipTo"]["state"]) == ("US", "CA")
    assert (order.ship_country.lower(), order.ship_state) == ("united states", "California")


def test_an_unknown_country_is_held_before_any_send_with_what_to_fix(wired):
    cart_order = seed(wired.squarespace, "1001", shipping_address={"countryCode": "Atlantis"})

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert (order.status, order.hold_code) == (OrderStatus.ERROR, HoldCode.MISSING_ADDRESS)
    assert "country 'ATLANTIS'" in order.hold_reason
    assert "correct it at the cart" in order.hold_reason
    assert order_posts(wired.bergen) == []
