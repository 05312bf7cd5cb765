"""What the TradeGecko connector writes (orders, fulfillments) and reads back from fulfillments, as pure
functions with payloads shaped like its API docs."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.connectors.canonical import (
    CartShipment,
    ShipmentLine,
    WarehouseOrder,
)
from integrations.connectors.errors import DuplicateReferenceError, OrderRejectedError, PermanentError
from integrations.connectors.tradegecko.connector import QuickBooksCommerceCart, TradeGeckoCart, TradeGeckoWarehouse
from integrations.connectors.tradegecko.fulfillments import (
    fulfillment_create_body,
    fulfillment_line_items,
    fulfillment_to_write,
    fulfillment_update_body,
    parse_fulfillment,
    plan_fulfilment,
    tracking_numbers_of,
    unshipped_quantities,
)
from integrations.connectors.tradegecko.writes import (
    classify_order_refusal,
    format_order,
    found_order,
    match_skus,
    po_number_in_notes,
)
from tests.integrations.connectors import builders
from tests.integrations.connectors.builders import address, shipment_lines, warehouse_lines

NOW = datetime(2024, 5, 2, 9, 0, tzinfo=UTC)


def warehouse_order(**changes) -> WarehouseOrder:
    values = {
        "ship_to": address(address_2="Apt 3"),
        "ship_code": "UPS Ground",
        "orig_ship_code": "Standard",
        "items": warehouse_lines(("TEE-M", 2, Decimal("29.99")), ("MUG", 1)),
        "ordered_at": datetime(2024, 5, 1, 23, 30, tzinfo=UTC),
    }
    return builders.warehouse_order(**(values | changes))


def test_the_order_body_embeds_the_customer_and_address_and_names_variants():
    body = format_order(
        warehouse_order(), stock_location_id="153", variant_ids={"TEE-M": "501", "MUG": "502"}, today=date(2024, 5, 2)
    )

    assert body == {
        "order": {
            "reference_number": "SQ-1042",
            "issued_at": "2024-05-01",
            "status": "active",
            "stock_location_id": 153,
            "email": "ada@example.com",
            "phone_number": "+1 973 555 0100",
            "notes": "Cart order 1042 (sent by Orderbridge as SQ-1042)\nShip via: UPS Ground (the cart said Standard)",
            "company": {
                "name": "Ada Lovelace",
                "company_type": "consumer",
                "email": "ada@example.com",
                "phone_number": "+1 973 555 0100",
            },
            "shipping_address": {
                "label": "Shipping",
                "first_name": "Ada",
                "last_name": "Lovelace",
                "address1": "12 Analytical Way",
                "address2": "Apt 3",
                "city": "Newark",
                "state": "NJ",
                "zip_code": "07102",
                "country": "US",
                "phone_number": "+1 973 555 0100",
                "email": "ada@example.com",
            },
            "order_line_items": [
                {"variant_id": 501, "quantity": 2, "price": "29.99"},
                {"variant_id": 502, "quantity": 1, "price": "0"},
            ],
        }
    }


def test_before_the_variants_are_resolved_the_preview_shows_the_skus():
    body = format_order(warehouse_order(ordered_at=None, is_test=True), stock_location_id="153", today=date(2024, 5, 2))

    order = body["order"]
    assert order["issued_at"] == "2024-05-02"
    assert [line.get("sku") for line in order["order_line_items"]] == ["TEE-M", "MUG"]
    assert "TEST ORDER" in order["notes"]


def test_the_connectors_preview_is_pure_and_uses_the_connection_location():
    connector = TradeGeckoWarehouse(credentials={"access_token": "t"}, settings={"stock_location_id": "77"})

    assert connector.format_order(warehouse_order())["order"]["stock_location_id"] == 77


def test_a_taken_reference_is_a_duplicate():
    error = classify_order_refusal(422, {"errors": {"reference_number": ["has already been taken"]}}, "SQ-1042")

    assert isinstance(error, DuplicateReferenceError)
    assert "SQ-1042" in str(error)


def test_an_address_refusal_and_any_other_are_shown_as_they_are():
    address = classify_order_refusal(422, {"errors": {"shipping_address.zip_code": ["can't be blank"]}}, "R1")
    other = classify_order_refusal(422, {"errors": {"base": ["Stock location is archived"]}}, "R1")

    assert isinstance(address, OrderRejectedError) and address.reason_code == "missing_address"
    assert "zip_code can't be blank" in str(address)
    assert isinstance(other, OrderRejectedError) and other.reason_code == "warehouse_rejected"
    assert "Stock location is archived" in str(other)


def test_skus_match_exactly_and_several_variants_for_one_sku_are_never_guessed():
    variants = [
        {"id": 1, "sku": "TEE-M", "status": "active"},
        {"id": 2, "sku": "tee-m", "status": "active"},  # a looser filter's match: not ours
        {"id": 3, "sku": "MUG", "status": "active"},
        {"id": 4, "sku": "MUG", "status": "archived"},  # the active one wins
        {"id": 5, "sku": "CAP", "status": "active"},
        {"id": 6, "sku": "CAP", "status": "active"},
        {"id": 7, "sku": "OLD", "status": "deleted"},
    ]

    resolved, ambiguous = match_skus(["TEE-M", "MUG", "CAP", "OLD", "NONE"], variants)

    assert resolved == {"TEE-M": "1", "MUG": "3"}
    assert ambiguous == {"CAP": ["5", "6"]}


# --- tracking into TradeGecko ---

ORDER_LINES = [
    {"id": 29, "variant_id": 1, "quantity": "2.0", "line_type": "product"},
    {"id": 30, "variant_id": 3, "quantity": "1.0", "line_type": None},
    {"id": 31, "variant_id": None, "quantity": "1.0", "label": "UPS Ground", "line_type": "shipping"},
]


def shipment(*lines, complete=False, numbers=("1Z999",)) -> CartShipment:
    return builders.shipment(
        *numbers,
        tracking_url="https://www.ups.com/track?tracknum=1Z999",
        shipped_at=datetime(2024, 5, 2, 8, 0, tzinfo=UTC),
        lines=shipment_lines(*lines),
        complete=complete,
    )


def test_what_is_left_to_ship_is_ordered_less_live_fulfillments():
    fulfillments = [
        {
            "id": 1,
            "status": "fulfilled",
            "fulfillment_line_items": [{"id": 9, "order_line_item_id": 29, "quantity": "1.0"}],
        },
        {
            "id": 2,
            "status": "void",
            "fulfillment_line_items": [{"id": 10, "order_line_item_id": 30, "quantity": "1.0"}],
        },
        {"id": 3, "status": "packed", "fulfillment_line_item_ids": [11]},
    ]
    fetched = [
        {"id": 11, "fulfillment_id": 3, "order_line_item_id": 29, "quantity": "1.0"},
        {"id": 12, "fulfillment_id": 2, "order_line_item_id": 30, "quantity": "1.0"},
    ]

    assert unshipped_quantities(ORDER_LINES, fulfillment_line_items(fulfillments)) == {"29": 1, "30": 1}
    assert unshipped_quantities(ORDER_LINES, fulfillment_line_items(fulfillments, fetched)) == {"30": 1}


def test_a_parcel_with_everything_left_is_one_fulfillment_of_every_line_left():
    assert plan_fulfilment("12", {"29": 2, "30": 1}, shipment(("29", 2), ("30", 1))) == {"29": 2, "30": 1}
    assert plan_fulfilment("12", {"29": 2, "30": 1}, shipment(complete=True)) == {"29": 2, "30": 1}


def test_a_partial_parcel_fulfils_its_lines_capped_at_what_is_left():
    assert plan_fulfilment("12", {"29": 2, "30": 1}, shipment(("29", 3))) == {"29": 2}
    # Complete by the pipeline's count, but TradeGecko still has more open: only the parcel's lines.
    assert plan_fulfilment("12", {"29": 2, "30": 1}, shipment(("29", 1), complete=True)) == {"29": 1}


PACKED_LEFT_OVER = [
    {"id": 3, "status": "packed", "tracking_number": None},
    {"id": 4, "status": "fulfilled", "tracking_number": "1ZOLD"},
]
PACKED_ITEMS = [
    {"id": 11, "fulfillment_id": "3", "order_line_item_id": 30, "quantity": "1.0"},
    {"id": 12, "fulfillment_id": "4", "order_line_item_id": 29, "quantity": "1.0"},
]


def test_a_packed_fulfillment_without_tracking_holding_the_parcels_lines_is_finished_not_made_twice():
    assert fulfillment_to_write("12", ORDER_LINES, PACKED_LEFT_OVER, PACKED_ITEMS, shipment(("30", 1))) == (
        "3",
        {"30": 1},
    )


def test_a_packed_fulfillment_holding_other_lines_is_left_alone():
    assert fulfillment_to_write("12", ORDER_LINES, PACKED_LEFT_OVER, PACKED_ITEMS, shipment(("29", 1))) == (
        "",
        {"29": 1},
    )
    tracked = [{**PACKED_LEFT_OVER[0], "tracking_number": "1ZMINE"}, PACKED_LEFT_OVER[1]]
    with pytest.raises(PermanentError, match="already shipped there"):
        fulfillment_to_write("12", ORDER_LINES, tracked, PACKED_ITEMS, shipment(("30", 1)))


@pytest.mark.parametrize(
    ("unshipped", "parcel", "message"),
    [
        ({}, shipment(complete=True), "nothing left to ship"),
        ({"29": 1}, shipment(), "did not say which items"),
        ({"29": 1}, shipment(("30", 1)), "already shipped there"),
    ],
)
def test_a_parcel_tradegecko_cannot_take_is_refused_with_a_reason(unshipped, parcel, message):
    with pytest.raises(PermanentError, match=message):
        plan_fulfilment("12", unshipped, parcel)


def test_fulfillment_bodies_carry_the_tracking():
    parcel = shipment(("29", 1), numbers=("1Z999", "1Z998"))

    assert fulfillment_update_body(parcel, now=NOW) == {
        "fulfillment": {
            "status": "fulfilled",
            "tracking_number": "1Z999, 1Z998",
            "tracking_company": "UPS",
            "tracking_url": "https://www.ups.com/track?tracknum=1Z999",
            "service": "Ground",
            "shipped_at": "2024-05-02T08:00:00Z",
        }
    }
    assert fulfillment_create_body("12", {"29": 1}) == {
        "fulfillment": {"order_id": 12, "fulfillment_line_items": [{"order_line_item_id": 29, "quantity": 1}]}
    }


def test_tracking_numbers_are_read_back_split_and_void_fulfillments_ignored():
    fulfillments = [
        {"status": "fulfilled", "tracking_number": "1Z999, 1Z998"},
        {"status": "void", "tracking_number": "VOIDED"},
        {"status": "packed", "tracking_number": None},
    ]

    assert tracking_numbers_of(fulfillments) == {"1Z999", "1Z998"}


# --- shipments read back (warehouse role) ---


def test_a_fulfillment_becomes_a_parcel_with_our_reference_and_skus():
    fulfillment = {
        "id": 592,
        "order_id": 830,
        "status": "fulfilled",
        "shipped_at": "2013-01-17T11:50:08Z",
        "tracking_number": "1234",
        "tracking_company": "FedEx",
        "tracking_url": None,
        "service": "Ground",
    }
    items = [
        {"id": 1278, "fulfillment_id": 592, "order_line_item_id": 64686, "quantity": "1.0"},
        {"id": 1279, "fulfillment_id": 592, "order_line_item_id": 64687, "quantity": "2.0"},
    ]
    lines = {"64686": {"id": 64686, "variant_id": 5}, "64687": {"id": 64687, "variant_id": 5}}

    parcel = parse_fulfillment(
        fulfillment, items, lines, {"5": {"id": 5, "sku": "TEE-M"}}, {"830": {"id": 830, "reference_number": "SQ-1042"}}
    )

    assert parcel.warehouse_shipment_id == "592"
    assert parcel.cust_ref == "SQ-1042"
    assert (parcel.carrier, parcel.service, parcel.tracking_numbers) == ("FedEx", "Ground", ["1234"])
    assert parcel.shipped_at == datetime(2013, 1, 17, 11, 50, 8, tzinfo=UTC)
    assert parcel.lines == [ShipmentLine(sku="TEE-M", quantity=3)]
    assert parcel.warehouse_order_id == "830"


# --- identity and the grant ---


def test_one_connector_two_names():
    assert (TradeGeckoCart.key, TradeGeckoCart.label) == ("tradegecko", "TradeGecko")
    assert (QuickBooksCommerceCart.key, QuickBooksCommerceCart.label) == ("quickbooks_commerce", "QuickBooks Commerce")
    assert issubclass(QuickBooksCommerceCart, TradeGeckoCart)
    assert [f.name for f in TradeGeckoCart.credential_fields] == ["access_token", "refresh_token", "expires_at"]
    assert [f.secret for f in TradeGeckoCart.credential_fields] == [True, True, False]
    assert [f.name for f in TradeGeckoCart.setting_fields] == ["required_location_id"]
    assert TradeGeckoCart.setting_fields[0].required is False
    assert [(f.name, f.required) for f in TradeGeckoWarehouse.setting_fields] == [("stock_location_id", True)]


def test_the_authorization_url_asks_for_a_code():
    url = TradeGeckoCart().authorization_url(client_id="app", redirect_uri="https://ob.example/cb?x=1", state="s1")

    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == "https://api.tradegecko.com/oauth/authorize"
    assert parse_qs(parts.query) == {
        "response_type": ["code"],
        "client_id": ["app"],
        "redirect_uri": ["https://ob.example/cb?x=1"],
        "state": ["s1"],
    }


def test_the_cart_order_number_written_in_the_notes_is_read_back():
    notes = format_order(warehouse_order(cust_po_no="#1001 (B)"), stock_location_id="5", today=NOW.date())["order"]

    assert po_number_in_notes(notes["notes"]) == "#1001 (B)"
    assert po_number_in_notes("Packed by hand\nCart order 9") is None  # not on the first line: not ours
    assert po_number_in_notes(None) is None


def test_an_order_found_by_reference_is_read_back_with_its_shipping_lines_left_out():
    order = {
        "id": 9,
        "reference_number": "SQ-1042",
        "status": "active",
        "notes": "Cart order 1042 (sent by Orderbridge as SQ-1042)\nShip via: UPS Ground",
        "shipping_address_id": 30,
        "order_line_item_ids": [11, 12, 13],
    }
    lines = [
        {"id": 11, "order_id": 9, "variant_id": 21, "quantity": "2.0", "line_type": "product"},
        {"id": 12, "order_id": 9, "variant_id": None, "quantity": "1.0", "line_type": "shipping", "label": "UPS"},
        {"id": 13, "order_id": 9, "variant_id": 22, "quantity": "x", "line_type": "product"},
    ]
    variants = {"21": {"id": 21, "sku": "TEE-M"}, "22": {"id": 22, "sku": "MUG"}}
    address = {"first_name": "Ada", "last_name": "Lovelace", "address1": "12 Analytical Way", "zip_code": "07102"}
    addresses = {"30": address}

    found = found_order(order, lines, variants, addresses)

    assert (found.warehouse_order_id, found.cust_ref, found.cust_po_no) == ("9", "SQ-1042", "1042")
    assert [(line.sku, line.quantity) for line in found.items] == [("TEE-M", 2), ("MUG", -1)]
    assert (found.ship_to.full_name, found.ship_to.zip) == ("Ada Lovelace", "07102")
    assert found_order({**order, "shipping_address_id": 99}, lines, variants, addresses).ship_to is None
