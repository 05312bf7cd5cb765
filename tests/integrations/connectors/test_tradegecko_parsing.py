"""TradeGecko orders, stock and paging read as pure functions, with payloads shaped like its API docs."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from integrations.connectors.canonical import CART_CANCELED, CART_FULFILLED, CART_OPEN, CART_OTHER, CART_PARTIAL
from integrations.connectors.errors import BadPayloadError
from integrations.connectors.parsing import format_datetime
from integrations.connectors.tradegecko.api import token_credentials
from integrations.connectors.tradegecko.stock import inventory_item, stock_adjustment_body, variant_available
from integrations.connectors.tradegecko.wire import (
    cart_status,
    is_last_page,
    pagination,
    parse_address,
    parse_order_page,
    records,
    wanted_ids,
)

# Shaped like the docs' examples: ids are numbers, quantities and prices decimal strings.
ORDER = {
    "id": 12,
    "order_number": "SO0006",
    "reference_number": None,
    "status": "active",
    "fulfillment_status": "unshipped",
    "email": "hello@tradegecko.com",
    "phone_number": "+1 650-468-2904",
    "issued_at": "2014-01-10",
    "created_at": "2014-01-10T09:46:08Z",
    "updated_at": "2014-01-22T08:10:33Z",
    "shipping_address_id": 6,
    "billing_address_id": 7,
    "stock_location_id": 3,
    "order_line_item_ids": [29, 30, 31, 32, 33],
}
LINES = [
    {
        "id": 30,
        "order_id": 12,
        "variant_id": 104305,
        "quantity": "1.0",
        "price": "20.0",
        "discount": "25.0",
        "label": None,
        "line_type": "product",
        "freeform": False,
        "position": 1,
    },
    {
        "id": 29,
        "order_id": 12,
        "variant_id": 104304,
        "quantity": "2.0",
        "price": "189.0",
        "label": "Steel / 10kg",
        "line_type": "product",
        "freeform": False,
        "position": 0,
    },
    {
        "id": 31,
        "order_id": 12,
        "variant_id": None,
        "quantity": "1.0",
        "price": "5.0",
        "label": "UPS Ground",
        "line_type": "shipping",
        "freeform": True,
        "position": 2,
    },
    {
        "id": 32,
        "order_id": 12,
        "variant_id": None,
        "quantity": "1.0",
        "price": "-3.0",
        "label": "Loyalty",
        "line_type": "discount",
        "freeform": True,
        "position": 3,
    },
    {
        "id": 33,
        "order_id": 12,
        "variant_id": None,
        "quantity": "1.0",
        "price": "2.0",
        "label": "Gift wrap",
        "line_type": "product",
        "freeform": True,
        "position": 4,
    },
]
VARIANTS = {
    "104304": {"id": 104304, "sku": "SKU-123-456", "name": "Steel / 10kg", "product_name": "Sample Product"},
    "104305": {"id": 104305, "sku": "MUG", "name": "Default", "product_name": "Mug"},
}
ADDRESSES = {
    "6": {
        "id": 6,
        "first_name": "Ada",
        "last_name": "Lovelace",
        "company_name": "Analytical Engines",
        "address1": "14 York St",
        "address2": None,
        "suburb": "Parnell",
        "city": "Auckland",
        "state": "",
        "zip_code": "1052",
        "country": "nz",
        "phone_number": None,
        "email": None,
        "label": "Shipping",
    },
    "7": {
        "id": 7,
        "address1": "7 Silk Road",
        "suburb": "Herne Bay",
        "city": None,
        "zip_code": "1022",
        "country": "New Zealand",
        "label": "Billing",
    },
}


def page(orders=None, lines=None, **kwargs):
    return parse_order_page(orders or [ORDER], LINES if lines is None else lines, VARIANTS, ADDRESSES, **kwargs)


def test_an_order_is_assembled_from_its_lines_variants_and_addresses():
    (order,), rejected = page()

    assert rejected == []
    assert (order.cart_order_id, order.order_number, order.cart_status) == ("12", "SO0006", CART_OPEN)
    assert order.ordered_at == datetime(2014, 1, 10, 9, 46, 8, tzinfo=UTC)
    assert order.modified_at == datetime(2014, 1, 22, 8, 10, 33, tzinfo=UTC)
    assert order.email == "hello@tradegecko.com"
    # The SKU is the variant's; lines keep the order's own line order, not the API's.
    assert [(ln.line_no, ln.sku, ln.quantity, ln.price) for ln in order.lines] == [
        (1, "SKU-123-456", 2, Decimal("189.0")),
        (2, "MUG", 1, Decimal("15.00")),  # 25 % line discount
    ]
    assert [(ln.cart_line_id, ln.cart_item_key) for ln in order.lines] == [("29", "104304"), ("30", "104305")]
    assert order.lines[0].description == "Steel / 10kg"
    assert order.lines[1].description == "Default"


def test_the_shipping_lines_label_is_the_ship_method_and_non_product_lines_do_not_ship():
    (order,), _ = page()

    assert order.ship_method == "UPS Ground"
    assert {ln.cart_line_id for ln in order.lines} == {"29", "30"}  # not shipping, discount or freeform


def test_addresses_map_to_the_canonical_fields():
    (order,), _ = page()

    ship = order.ship_to
    assert (ship.first_name, ship.last_name, ship.company) == ("Ada", "Lovelace", "Analytical Engines")
    assert (ship.address_1, ship.address_2, ship.address_3) == ("14 York St", "", "Parnell")
    assert (ship.city, ship.zip, ship.country) == ("Auckland", "1052", "NZ")
    assert ship.phone == "+1 650-468-2904"  # the order's phone when the address has none
    assert ship.email == "hello@tradegecko.com"
    assert order.bill_to is not None
    assert (order.bill_to.city, order.bill_to.address_3, order.bill_to.country) == ("Herne Bay", "", "New Zealand")
    assert ship.missing_fields() == []


def test_an_order_without_a_shipping_address_is_kept_with_an_empty_one():
    (order,), _ = page(orders=[{**ORDER, "shipping_address_id": None}])

    assert order.ship_to.missing_fields() == ["name", "address_1", "city", "zip", "country"]


def test_a_fractional_quantity_rejects_that_order_with_a_reason_and_keeps_the_others():
    other = {**ORDER, "id": 13, "order_number": "SO0007", "order_line_item_ids": [40]}
    lines = [
        *LINES,
        {"id": 40, "order_id": 13, "variant_id": 104304, "quantity": "1.5", "price": "1.0", "line_type": "product"},
    ]

    orders, rejected = page(orders=[ORDER, other], lines=lines)

    assert [o.order_number for o in orders] == ["SO0006"]
    assert [(r.cart_order_id, r.order_number) for r in rejected] == [("13", "SO0007")]
    assert "SKU-123-456" in rejected[0].reason
    assert "not a whole number" in rejected[0].reason


@pytest.mark.parametrize(
    ("status", "fulfillment_status", "expected"),
    [
        ("active", "unshipped", CART_OPEN),
        ("finalized", "unshipped", CART_OPEN),
        ("active", "partial", CART_PARTIAL),
        ("finalized", "shipped", CART_FULFILLED),
        ("fulfilled", "shipped", CART_FULFILLED),
        ("void", "unshipped", CART_CANCELED),
        ("deleted", "unshipped", CART_CANCELED),
        ("draft", "unshipped", CART_OTHER),
        ("something new", None, CART_OTHER),
    ],
)
def test_status_mapping(status, fulfillment_status, expected):
    assert cart_status(status, fulfillment_status) == expected


def test_an_order_for_another_location_than_the_required_one_is_skipped_with_a_reason():
    (order,), _ = page(required_location_id="4")

    assert order.skip_code == "other_location"
    assert "Required Location ID 4" in order.skip_reason
    (same,), _ = page(required_location_id="3")
    assert same.skip_code == ""


def test_a_country_code_is_upper_cased_and_a_suburb_stands_in_for_a_missing_city():
    address = parse_address({"address1": "1 Main St", "suburb": "Ponsonby", "country": "nz"})

    assert (address.city, address.address_3, address.country) == ("Ponsonby", "", "NZ")


def test_ids_wanted_by_a_page_are_batched_once_each():
    assert wanted_ids([ORDER, {**ORDER, "billing_address_id": 6}], "shipping_address_id", "billing_address_id") == [
        "6",
        "7",
    ]


def test_a_list_answer_must_carry_its_root_key():
    assert records({"orders": None}, "orders") == []
    with pytest.raises(BadPayloadError, match="without a `orders` list"):
        records({"order": {}}, "orders")
    with pytest.raises(BadPayloadError, match="not a list"):
        records({"orders": {"id": 1}}, "orders")


@pytest.mark.parametrize(
    ("header", "page_no", "count", "last"),
    [
        (
            '{"total_records": 600, "total_pages": 3, "first_page": true, "last_page": false, "out_of_bounds": false}',
            1,
            250,
            False,
        ),
        ('{"total_pages": 3, "last_page": true, "out_of_bounds": false}', 3, 100, True),
        ('{"last_page": false, "out_of_bounds": true}', 4, 0, True),
        # A server paging by fewer than we asked for is still read to the end when the header says so.
        ('{"total_pages": 3, "last_page": false, "out_of_bounds": false}', 1, 50, False),
        (None, 1, 250, False),
        (None, 2, 12, True),
        ("not json", 2, 12, True),
    ],
)
def test_the_walk_stops_where_x_pagination_says(header, page_no, count, last):
    assert is_last_page(pagination(header), page=page_no, count=count, limit=250) is last


def test_window_ends_are_whole_seconds_in_utc():
    instant = datetime(2024, 5, 1, 12, 0, 0, 500_000, tzinfo=UTC)

    assert format_datetime(instant) == "2024-05-01T12:00:00Z"
    assert format_datetime(instant, round_up=True) == "2024-05-01T12:00:01Z"


VARIANT = {
    "id": 104304,
    "sku": "SKU-123-456",
    "name": "Steel / 10kg",
    "product_name": "Sample Product",
    "status": "active",
    "manage_stock": True,
    "stock_on_hand": "30.0",
    "committed_stock": "6.0",
    "locations": [
        {"location_id": 18, "stock_on_hand": "9.0", "committed": "2.0"},
        {"location_id": 153, "stock_on_hand": "21.0", "committed": "4.0", "available": "17.0"},
    ],
}


def test_stock_available_at_a_location_or_across_all():
    assert variant_available(VARIANT, "18") == 7  # on hand less committed when `available` is absent
    assert variant_available(VARIANT, "153") == 17
    assert variant_available(VARIANT, "999") == 0
    assert variant_available(VARIANT) == 24
    assert variant_available({**VARIANT, "locations": []}) == 24  # the variant's own totals


def test_a_variant_as_a_cart_stock_item():
    item = inventory_item(VARIANT, "153")

    assert (item.key, item.sku, item.quantity, item.description) == (
        "104304",
        "SKU-123-456",
        17,
        "Sample Product Steel / 10kg",
    )
    assert inventory_item({**VARIANT, "manage_stock": False}).quantity is None
    assert inventory_item({**VARIANT, "status": "deleted"}) is None


def test_a_stock_adjustment_sends_the_differences_only():
    body = stock_adjustment_body("153", {"104304": -3, "104305": 0, "104306": 5})

    assert body["stock_adjustment"]["stock_location_id"] == 153
    assert body["stock_adjustment"]["stock_adjustment_line_items"] == [
        {"variant_id": 104304, "quantity": -3},
        {"variant_id": 104306, "quantity": 5},
    ]


def test_a_token_answer_becomes_the_credentials_to_store():
    answer = json.loads(
        '{"access_token": "57ed", "expires_in": 7200, "refresh_token": "026b", "scope": "public", '
        '"token_type": "bearer"}'
    )

    assert token_credentials(answer, now=1_700_000_000.4) == {
        "access_token": "57ed",
        "refresh_token": "026b",
        "expires_at": 1_700_007_200,
    }
    with pytest.raises(BadPayloadError, match="without an access_token"):
        token_credentials({"error": "invalid_grant"}, now=0)
