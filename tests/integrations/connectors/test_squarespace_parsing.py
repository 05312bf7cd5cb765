"""Squarespace order parsing, with payloads shaped like the Orders API documentation."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from integrations.connectors.canonical import CART_CANCELED, CART_FULFILLED, CART_OPEN, CART_OTHER, InventoryUpdate
from integrations.connectors.errors import BadPayloadError
from integrations.connectors.parsing import UnreadableOrder, format_datetime, parse_datetime
from integrations.connectors.squarespace.wire import levels_shown, parse_order, parse_page

ADDRESS = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "address1": "12 Analytical Way",
    "address2": "Apt 3",
    "city": "London",
    "state": "LND",
    "countryCode": "GB",
    "postalCode": "N1 9GU",
    "phone": "+44 20 7946 0000",
}

ORDER = {
    "id": "585d498fdee9f31a60284a37",
    "orderNumber": "1042",
    "createdOn": "2024-04-15T09:30:00.123Z",
    "modifiedOn": "2024-04-15T09:31:00Z",
    "channel": "web",
    "testmode": False,
    "customerEmail": "ada@example.com",
    "billingAddress": {**ADDRESS, "address1": "1 Billing Rd", "phone": "+44 1"},
    "shippingAddress": ADDRESS,
    "fulfillmentStatus": "PENDING",
    "lineItems": [
        {
            "id": "li-1",
            "variantId": "v-1",
            "sku": "SQ-TEE-M",
            "productName": "Organic T-Shirt",
            "quantity": 2,
            "unitPricePaid": {"currency": "USD", "value": "29.99"},
        },
        {
            "id": "li-2",
            "variantId": "v-2",
            "sku": "SQ-MUG",
            "productName": "Mug",
            "quantity": 1,
            "unitPricePaid": {"currency": "USD", "value": "12.00"},
        },
    ],
    "shippingLines": [{"method": "Standard Shipping", "amount": {"currency": "USD", "value": "5.99"}}],
    "fulfillments": [],
    "grandTotal": {"currency": "USD", "value": "77.97"},
}


def order(**changes):
    payload = copy.deepcopy(ORDER)
    payload.update(changes)
    return payload


def test_a_documented_order_becomes_a_canonical_order():
    parsed = parse_order(order())

    assert parsed.cart_order_id == "585d498fdee9f31a60284a37"
    assert parsed.order_number == "1042"
    assert parsed.cart_status == CART_OPEN
    assert parsed.ordered_at == datetime(2024, 4, 15, 9, 30, 0, 123000, tzinfo=UTC)
    assert parsed.modified_at == datetime(2024, 4, 15, 9, 31, tzinfo=UTC)
    assert parsed.email == "ada@example.com"
    assert parsed.ship_to.full_name == "Ada Lovelace"
    assert parsed.ship_to.address_1 == "12 Analytical Way"
    assert parsed.ship_to.zip == "N1 9GU"
    assert parsed.ship_to.country == "GB"
    assert parsed.ship_to.phone == "+44 20 7946 0000"
    assert parsed.ship_to.email == "ada@example.com"
    assert parsed.bill_to is not None and parsed.bill_to.address_1 == "1 Billing Rd"
    assert parsed.ship_method == "Standard Shipping"
    assert [(line.line_no, line.sku, line.quantity) for line in parsed.lines] == [
        (1, "SQ-TEE-M", 2),
        (2, "SQ-MUG", 1),
    ]
    assert parsed.lines[0].price == Decimal("29.99")
    assert parsed.lines[0].description == "Organic T-Shirt"
    assert parsed.lines[0].cart_line_id == "li-1"
    assert parsed.is_test is False
    assert parsed.raw["id"] == "585d498fdee9f31a60284a37"
    assert parsed.ship_to.missing_fields() == []


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ("PENDING", CART_OPEN),
        ("FULFILLED", CART_FULFILLED),
        ("CANCELED", CART_CANCELED),
        ("DRAFT", CART_OTHER),
        (None, CART_OTHER),
    ],
)
def test_fulfillment_status_is_normalised(status, expected):
    assert parse_order(order(fulfillmentStatus=status)).cart_status == expected


def test_nulls_everywhere_are_tolerated():
    payload = {key: None for key in ORDER} | {"id": "abc", "orderNumber": "7"}

    parsed = parse_order(payload)

    assert parsed.lines == []
    assert parsed.ship_method == ""
    assert parsed.ship_to.missing_fields() == ["name", "address_1", "city", "zip", "country"]
    assert parsed.bill_to is None
    assert parsed.ordered_at is None and parsed.modified_at is None
    assert parsed.cart_status == CART_OTHER


def test_missing_lists_and_null_fields_inside_lines_are_tolerated():
    payload = order(shippingLines=None, fulfillments=None)
    del payload["customerEmail"]
    payload["lineItems"] = [{"id": None, "sku": None, "productName": None, "quantity": "3", "unitPricePaid": None}]

    parsed = parse_order(payload)

    assert parsed.ship_method == ""
    assert parsed.email == ""
    line = parsed.lines[0]
    assert (line.sku, line.quantity, line.price, line.description, line.cart_line_id) == ("", 3, Decimal("0"), "", "")


def test_a_digital_order_without_shipping_address_keeps_ship_to_empty_for_validation():
    parsed = parse_order(order(shippingAddress=None))

    assert parsed.ship_to.address_1 == ""
    assert "address_1" in parsed.ship_to.missing_fields()
    assert parsed.bill_to is not None and parsed.bill_to.address_1 == "1 Billing Rd"


def test_the_billing_phone_stands_in_when_the_shipping_address_has_none():
    parsed = parse_order(order(shippingAddress={**ADDRESS, "phone": None}))

    assert parsed.ship_to.phone == "+44 1"


def test_numbers_sent_as_numbers_or_strings_are_read():
    payload = order(orderNumber=1042, testmode="true")
    payload["lineItems"][0]["quantity"] = "2"
    payload["lineItems"][0]["unitPricePaid"] = {"currency": "USD", "value": 29.99}
    payload["lineItems"][1]["quantity"] = 1.0

    parsed = parse_order(payload)

    assert parsed.order_number == "1042"
    assert parsed.is_test is True
    assert [line.quantity for line in parsed.lines] == [2, 1]
    assert parsed.lines[0].price == Decimal("29.99")


def test_a_zero_quantity_is_kept_so_validation_can_hold_it():
    payload = order()
    payload["lineItems"][1]["quantity"] = 0

    assert parse_order(payload).lines[1].quantity == 0


@pytest.mark.parametrize("quantity", [1.5, "1.5", -1, "-2", "two", None, True, "", "NaN", {"value": 1}])
def test_a_quantity_that_is_not_a_whole_positive_number_makes_the_order_unreadable(quantity):
    payload = order()
    payload["lineItems"][1]["quantity"] = quantity

    with pytest.raises(UnreadableOrder, match=r"line 2 \(SQ-MUG\): quantity"):
        parse_order(payload)


@pytest.mark.parametrize("missing", ["id", "orderNumber"])
def test_an_order_without_its_identifiers_is_unreadable(missing):
    payload = order()
    payload[missing] = None

    with pytest.raises(UnreadableOrder, match=missing):
        parse_order(payload)


def test_line_items_that_are_not_a_list_make_the_order_unreadable():
    with pytest.raises(UnreadableOrder, match="lineItems"):
        parse_order(order(lineItems={"sku": "X"}))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-04-15T09:30:00Z", datetime(2024, 4, 15, 9, 30, tzinfo=UTC)),
        ("2024-04-15T09:30:00.5Z", datetime(2024, 4, 15, 9, 30, 0, 500000, tzinfo=UTC)),
        ("2024-04-15T11:30:00+02:00", datetime(2024, 4, 15, 9, 30, tzinfo=UTC)),
        ("2024-04-15T04:30:00.000-05:00", datetime(2024, 4, 15, 9, 30, tzinfo=UTC)),
        ("2024-04-15T09:30:00", datetime(2024, 4, 15, 9, 30, tzinfo=UTC)),
        ("not a date", None),
        ("", None),
        (None, None),
    ],
)
def test_dates_become_aware_utc_datetimes(text, expected):
    parsed = parse_datetime(text)

    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() == timedelta(0)


def test_window_ends_are_formatted_in_utc_with_a_z_and_rounded_outwards():
    start = datetime(2024, 4, 15, 11, 30, 0, 250000, tzinfo=timezone(timedelta(hours=2)))
    end = datetime(2024, 4, 15, 10, 0, 0, 1, tzinfo=UTC)

    assert format_datetime(start) == "2024-04-15T09:30:00Z"
    assert format_datetime(end, round_up=True) == "2024-04-15T10:00:01Z"
    assert format_datetime(datetime(2024, 4, 15, 10, tzinfo=UTC), round_up=True) == "2024-04-15T10:00:00Z"


def test_a_page_keeps_good_orders_and_rejects_unreadable_ones_with_a_reason():
    bad_quantity = order(id="bad-1", orderNumber="1043")
    bad_quantity["lineItems"][0]["quantity"] = 2.5
    body = {
        "result": [order(), bad_quantity, order(id=None, orderNumber="1044"), "junk"],
        "pagination": {"hasNextPage": True, "nextPageCursor": "abc123", "nextPageUrl": "https://…?cursor=abc123"},
    }

    page, cursor = parse_page(body)

    assert cursor == "abc123"
    assert [o.order_number for o in page.orders] == ["1042"]
    assert [(r.cart_order_id, r.order_number) for r in page.rejected] == [("bad-1", "1043"), ("", "1044"), ("", "")]
    assert "not a whole number" in page.rejected[0].reason
    assert page.rejected[0].raw["id"] == "bad-1"


def test_the_last_page_has_no_cursor():
    page, cursor = parse_page({"result": [], "pagination": {"hasNextPage": False, "nextPageCursor": None}})

    assert cursor is None
    assert page.orders == [] and page.rejected == []


@pytest.mark.parametrize(
    "body",
    [
        [],
        {"pagination": {"hasNextPage": False}},
        {"result": {"id": "x"}, "pagination": {"hasNextPage": False}},
        {"result": [], "pagination": None},
        {"result": [], "pagination": {"hasNextPage": True, "nextPageCursor": None}},
        {"result": None, "pagination": {"hasNextPage": True, "nextPageCursor": "c"}},
        {"type": "INVALID_REQUEST_ERROR", "message": "oops"},
    ],
)
def test_a_page_of_the_wrong_shape_fails_loudly(body):
    with pytest.raises(BadPayloadError):
        parse_page(body)


@pytest.mark.parametrize("kind", ["DIGITAL", "SERVICE", "GIFT_CARD", "PAYWALL_PRODUCT", "digital"])
def test_lines_with_nothing_to_ship_are_left_out(kind):
    physical = {**ORDER["lineItems"][0], "lineItemType": "PHYSICAL"}
    other = {**ORDER["lineItems"][0], "id": "other", "sku": "EBOOK", "lineItemType": kind}

    parsed = parse_order(order(lineItems=[physical, other]))

    assert [line.sku for line in parsed.lines] == [physical["sku"]]


@pytest.mark.parametrize("kind", [None, "PHYSICAL", "PHYSICAL_PRODUCT", "SOMETHING_NEW"])
def test_physical_and_unknown_line_types_are_shipped(kind):
    parsed = parse_order(order(lineItems=[{**ORDER["lineItems"][0], "lineItemType": kind}]))

    assert len(parsed.lines) == 1


# --- inventory read-back (`GET /inventory/{variantIds}`, shaped like the documented response) ---


def inventory_record(variant_id: str, quantity: int, *, unlimited: bool = False) -> dict:
    return {
        "variantId": variant_id,
        "sku": f"SKU-{variant_id}",
        "descriptor": "Tee",
        "isUnlimited": unlimited,
        "quantity": quantity,
    }


def test_levels_read_back_are_verified_only_where_the_site_shows_the_quantity_sent():
    updates = [InventoryUpdate(key=k, sku=f"SKU-{k}", quantity=5) for k in ("a", "b", "c", "d")]
    body = {"inventory": [inventory_record("a", 5), inventory_record("b", 4), inventory_record("c", 5, unlimited=True)]}

    verified, unverified = levels_shown(updates, body)

    assert verified == ["a"]
    assert unverified == {
        "b": "Squarespace shows 4, not 5",
        "c": "Squarespace shows unlimited stock, not 5",
        "d": "Squarespace does not show variant d when asked for it",
    }


def test_a_read_back_without_an_inventory_list_is_unreadable():
    with pytest.raises(BadPayloadError, match="inventory"):
        levels_shown([InventoryUpdate(key="a", sku="A", quantity=1)], {"result": []})
