"""Each warehouse's field limits: what it cannot take is adapted in the payload (the order keeping what
the cart sent) or holds the order before any send, with a fix-it naming the field and the warehouse."""

from __future__ import annotations

import pytest

from integrations.connectors.canonical import Address
from integrations.connectors.limits import SHIP_FIELDS, Charset, FieldLimit, OverLimit
from integrations.connectors.registry import WAREHOUSE_CONNECTORS
from integrations.connectors.tradegecko.writes import address_body
from orders.models import HoldCode, Order, OrderEvent, OrderStatus
from orders.services.translation.field_limits import address_fit, shortened, transliterated
from orders.services.translation.translate import warehouse_order_for
from tests.factories import WMSConnectionFactory
from tests.orders.helpers import order_for, order_posts, seed, sync

LONG_STREET = "1234 Extraordinarily Long Boulevard Name, Suite 500"  # 51 characters

# --- the declarations -----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", sorted(WAREHOUSE_CONNECTORS))
def test_every_warehouse_platform_declares_its_ship_to_limits(key):
    limits = WAREHOUSE_CONNECTORS[key].field_limits

    assert limits, f"{key} declares no field limits"
    assert all(limit.field in SHIP_FIELDS and limit.source for limit in limits)
    assert len({limit.field for limit in limits}) == len(limits)
    assert any(limit.field == "ship_address_1" and limit.required for limit in limits)


def test_a_limit_on_a_field_we_do_not_have_is_refused_where_it_is_declared():
    with pytest.raises(ValueError, match="ship_fax"):
        FieldLimit("ship_fax", "fax")


# --- the pure rules ---------------------------------------------------------------------------------


def test_a_long_value_is_shortened_at_a_word_boundary_without_a_dangling_comma():
    assert shortened(value=LONG_STREET, max_length=35) == "1234 Extraordinarily Long Boulevard"
    assert shortened(value="Apartment, Building 7", max_length=10) == "Apartment"


def test_a_long_word_with_no_space_near_the_end_is_cut_at_the_limit():
    assert shortened(value="Hauptstraßenverlängerung 12", max_length=20) == "Hauptstraßenverlänge"


@pytest.mark.parametrize(
    ("value", "charset", "sent"),
    [
        ("Zürich", Charset.ASCII, "Zurich"),
        ("Łódź", Charset.ASCII, "Lodz"),
        ("Łódź", Charset.LATIN1, "Lódz"),  # ó is Latin-1, Ł and ź are not
        ("Zürich", Charset.PRINTABLE, "Zürich"),
        ("Main St\n\tRear", Charset.PRINTABLE, "Main St Rear"),
    ],
)
def test_characters_the_warehouse_cannot_take_are_transliterated(value, charset, sent):
    assert transliterated(value=value, charset=charset) == sent


def test_a_value_that_would_change_meaning_if_cut_holds_instead():
    limits = [FieldLimit("ship_zip", "postcode", max_length=10, over_limit=OverLimit.HOLD, source="test")]

    fitted = address_fit(address=Address(zip="12345-6789-0"), limits=limits, warehouse="Acme WMS")

    assert fitted.address.zip == "12345-6789-0"
    [refusal] = fitted.refusals
    assert "postcode '12345-6789-0'" in refusal and "10 characters Acme WMS takes" in refusal


def test_a_field_required_in_some_countries_only_is_asked_for_there_only():
    limits = [FieldLimit("ship_state", "state", required=True, required_countries=frozenset({"US"}), source="test")]

    assert address_fit(address=Address(country="US"), limits=limits, warehouse="W").refusals
    assert not address_fit(address=Address(country="NZ"), limits=limits, warehouse="W").refusals


# --- what is sent ---------------------------------------------------------------------------------


def ship_to(warehouse, **fields: str) -> Order:
    address = {
        "ship_first_name": "Ada",
        "ship_last_name": "Lovelace",
        "ship_address_1": "1 Main St",
        "ship_city": "Springfield",
        "ship_state": "Illinois",
        "ship_zip": "62701",
        "ship_country": "US",
    }
    return Order(order_number="1001", warehouse=warehouse, **{**address, **fields})


@pytest.mark.django_db
def test_tradegecko_takes_any_printable_text_so_zurich_keeps_its_umlaut():
    warehouse = WMSConnectionFactory(platform="tradegecko")
    order = ship_to(warehouse, ship_city="Zürich", ship_country="CH", ship_address_1=LONG_STREET)

    sent = address_body(warehouse_order_for(order=order, lines=[]).ship_to)

    assert (sent["city"], sent["address1"]) == ("Zürich", LONG_STREET)


# --- end to end through the sandboxes (Squarespace to Bergen) -----------------------------------------


def test_a_long_street_is_shortened_for_bergen_and_sent_the_order_keeping_the_original(wired):
    cart_order = seed(wired.squarespace, "1001", shipping_address={"address1": LONG_STREET})

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.AT_WMS
    stored = wired.bergen.order(order.cust_ref)
    assert stored["shipTo"]["address1"] == "1234 Extraordinarily Long Boulevard"
    assert order.ship_address_1 == LONG_STREET
    assert order.warehouse_payload["shipTo"]["address1"] == "1234 Extraordinarily Long Boulevard"
    delivered = OrderEvent.objects.get(order=order, to_status=OrderStatus.AT_WMS)
    assert f'ship_address_1 shortened to 35 characters for Bergen Logistics: "{LONG_STREET}"' in delivered.message


@pytest.mark.parametrize(("city", "sent"), [("Zürich", "Zurich"), ("Łódź", "Lodz")])
def test_a_city_bergen_cannot_spell_in_ascii_is_sent_transliterated(wired, city, sent):
    cart_order = seed(wired.squarespace, "1001", shipping_address={"city": city})

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.AT_WMS
    assert wired.bergen.order(order.cust_ref)["shipTo"]["city"] == sent
    assert order.ship_city == city
    assert (
        "ship_city transliterated to ASCII for Bergen Logistics"
        in OrderEvent.objects.get(order=order, to_status=OrderStatus.AT_WMS).message
    )


def test_a_us_ship_to_without_the_state_bergen_requires_is_held_before_any_send(wired):
    cart_order = seed(wired.squarespace, "1001", shipping_address={"countryCode": "US", "state": ""})

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert (order.status, order.hold_code) == (OrderStatus.ERROR, HoldCode.MISSING_ADDRESS)
    assert "Bergen Logistics needs the ship-to state or province for an address in US" in order.hold_reason
    assert "add it at the cart" in order.hold_reason
    assert order_posts(wired.bergen) == []


def test_a_postcode_too_long_for_bergen_is_held_not_cut(wired):
    cart_order = seed(wired.squarespace, "1001", shipping_address={"postalCode": "07030-1234-56"})

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert (order.status, order.hold_code) == (OrderStatus.ERROR, HoldCode.MISSING_ADDRESS)
    assert "postcode '07030-1234-56' is longer than the 10 characters Bergen Logistics takes" in order.hold_reason
    assert order_posts(wired.bergen) == []
