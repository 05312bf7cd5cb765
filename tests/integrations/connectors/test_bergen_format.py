"""Bergen (Extensiv-modelled) order formatting and answer reading, as pure functions."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.connectors.bergen.connector import BergenWarehouse
from integrations.connectors.bergen.wire import embedded_list, order_ref, rql_value, total_results
from integrations.connectors.bergen.writes import classify_rejection, format_order, found_order, split_ship_code
from integrations.connectors.canonical import WarehouseOrder
from integrations.connectors.errors import (
    BadPayloadError,
    DuplicateReferenceError,
    OrderRejectedError,
)
from tests.integrations.connectors import builders
from tests.integrations.connectors.builders import address, warehouse_lines

ORDER_REL = "http://api.3plCentral.com/rels/orders/order"


def warehouse_order(**changes) -> WarehouseOrder:
    return builders.warehouse_order(
        **{"ship_to": address(address_2="Apt 3"), "items": warehouse_lines(("TEE-M", 2, Decimal("29.99")), ("MUG", 1))}
        | changes
    )


def test_the_order_body_follows_the_extensiv_create_order_contract():
    body = format_order(warehouse_order(), customer_name="DEMO", facility="NJ")

    assert body == {
        "customerIdentifier": {"name": "DEMO"},
        "facilityIdentifier": {"name": "NJ"},
        "referenceNum": "SQ-1042",
        "poNum": "1042",
        "shipTo": {
            "companyName": "Ada Lovelace",
            "name": "Ada Lovelace",
            "address1": "12 Analytical Way",
            "address2": "Apt 3",
            "city": "Newark",
            "state": "NJ",
            "zip": "07102",
            "country": "US",
            "phoneNumber": "+1 973 555 0100",
            "emailAddress": "ada@example.com",
        },
        "routingInfo": {"carrier": "UPS", "mode": "Ground"},
        "orderItems": [
            {"itemIdentifier": {"sku": "TEE-M"}, "qty": 2},
            {"itemIdentifier": {"sku": "MUG"}, "qty": 1},
        ],
    }


def test_a_company_address_line_three_and_notes_are_carried():
    order = warehouse_order(notes="Leave at the back door")
    order.ship_to.company = "Analytical Engines Ltd"
    order.ship_to.address_3 = "Building B"

    body = format_order(order, customer_name="DEMO", facility="WEST")

    assert body["shipTo"]["companyName"] == "Analytical Engines Ltd"
    assert body["shipTo"]["address2"] == "Apt 3, Building B"
    assert body["notes"] == "Leave at the back door"
    assert body["facilityIdentifier"] == {"name": "WEST"}


def test_empty_optional_fields_and_routing_are_left_out():
    order = warehouse_order(ship_code="")
    order.ship_to.address_2 = ""
    order.ship_to.phone = ""

    body = format_order(order, customer_name="DEMO", facility="NJ")

    assert "routingInfo" not in body
    assert "notes" not in body
    assert "address2" not in body["shipTo"] and "phoneNumber" not in body["shipTo"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("UPS:Ground", ("UPS", "Ground")),
        ("FedEx : Home Delivery", ("FedEx", "Home Delivery")),
        ("UPS Ground", ("UPS", "Ground")),
        ("USPS Priority Mail", ("USPS", "Priority Mail")),
        ("DHL", ("DHL", "")),
        ("", ("", "")),
    ],
)
def test_ship_codes_split_into_carrier_and_mode(code, expected):
    assert split_ship_code(code) == expected


def test_the_connector_formats_with_its_settings():
    connector = BergenWarehouse(settings={"customer_name": "DEMO", "facility": "NJ2"})

    body = connector.format_order(warehouse_order())

    assert body["customerIdentifier"] == {"name": "DEMO"}
    assert body["facilityIdentifier"] == {"name": "NJ2"}


def test_the_warehouse_setting_defaults_to_nj_and_the_web_address_is_required():
    connector = BergenWarehouse(settings={"customer_name": "DEMO"})

    assert connector.settings["facility"] == "NJ"
    missing = BergenWarehouse.missing_configuration({"username": "u", "password": "p"}, {"customer_name": "DEMO"})
    assert [f.label for f in missing] == ["Account Web Address"]


def test_an_api_base_url_stands_in_for_the_account_web_address():
    missing = BergenWarehouse.missing_configuration(
        {"username": "u", "password": "p"}, {"customer_name": "DEMO"}, "http://127.0.0.1:9999"
    )
    assert missing == []


def test_the_account_web_address_is_the_base_url_unless_one_is_set():
    assert BergenWarehouse(settings={"account_web_address": "www.acme.atworkweb.com/"}).api_base() == (
        "https://www.acme.atworkweb.com"
    )
    assert (
        BergenWarehouse(
            base_url="http://127.0.0.1:9999/", settings={"account_web_address": "https://www.acme.atworkweb.com"}
        ).api_base()
        == "http://127.0.0.1:9999"
    )


# --- error bodies ---


def test_a_duplicate_reference_is_recognised():
    body = {
        "ErrorCode": "Duplicate",
        "Hint": "Fails on a duplicate reference number",
        "Properties": [{"Name": "ReferenceNum", "Value": "SQ-1042"}],
    }

    error = classify_rejection(400, body, "", ["TEE-M"])

    assert isinstance(error, DuplicateReferenceError)
    assert "SQ-1042" in str(error)


def test_a_bare_duplicate_code_is_a_duplicate_reference():
    assert isinstance(classify_rejection(400, {"ErrorCode": "Duplicate"}, "", ["TEE-M"]), DuplicateReferenceError)


def test_a_duplicate_sku_in_the_items_is_not_a_duplicate_reference():
    body = {"ErrorCode": "Duplicate", "Hint": "Duplicate sku TEE-M in orderItems"}

    assert not isinstance(classify_rejection(400, body, "", ["TEE-M"]), DuplicateReferenceError)


def test_an_unknown_sku_names_the_sku_from_the_properties():
    body = {
        "ErrorCode": "DoesNotExist",
        "Hint": "Item does not exist for this customer",
        "Properties": [{"Name": "OrderItems[1].ItemIdentifier.Sku", "Value": "MUG"}],
    }

    error = classify_rejection(400, body, "", ["TEE-M", "MUG"])

    assert isinstance(error, OrderRejectedError)
    assert error.reason_code == "unknown_sku"
    assert error.skus == ["MUG"]


def test_an_unknown_sku_named_only_in_the_message_is_found_among_the_order_skus():
    body = {"ErrorCode": "InvalidItem", "Message": "Invalid SKU 'TEE-M' for customer DEMO"}

    error = classify_rejection(400, body, "", ["TEE-M", "TEE", "MUG"])

    assert error.reason_code == "unknown_sku"
    assert error.skus == ["TEE-M"]


def test_an_unknown_sku_in_a_plain_text_body_is_recognised():
    error = classify_rejection(422, None, "Unknown item: sku MUG was not found", ["MUG"])

    assert error.reason_code == "unknown_sku"
    assert error.skus == ["MUG"]


def test_an_address_problem_is_a_missing_address():
    body = {"ErrorCode": "Required", "Hint": "Required field", "Properties": [{"Name": "ShipTo.Zip", "Value": None}]}

    error = classify_rejection(400, body, "", ["MUG"])

    assert error.reason_code == "missing_address"


def test_anything_else_is_a_warehouse_rejection_with_its_message():
    error = classify_rejection(400, {"ErrorCode": "ValueNotSupported", "Hint": "Facility is closed"}, "", ["MUG"])

    assert type(error) is OrderRejectedError
    assert error.reason_code == "warehouse_rejected"
    assert "Facility is closed" in str(error) and error.status == 400


# --- list answers ---


def test_orders_are_read_from_the_hal_embedded_rel():
    body = {
        "totalResults": "1",
        "_links": {},
        "_embedded": {ORDER_REL: [{"referenceNum": "SQ-1042", "readOnly": {"orderId": 41001, "status": 0}}]},
    }

    records = embedded_list(body)

    assert total_results(body) == 1
    ref = order_ref(records[0])
    assert (ref.warehouse_order_id, ref.cust_ref, ref.status) == ("41001", "SQ-1042", "open")


@pytest.mark.parametrize(
    "body",
    [
        {"_embedded": {"item": [{"readOnly": {"orderId": 5}}]}},
        {"_embedded": {ORDER_REL.lower(): [{"readOnly": {"orderId": 5}}]}},
        {"ResourceList": [{"ReadOnly": {"OrderId": 5}}]},
        {"orders": [{"orderId": "5"}]},
        [{"readOnly": {"orderId": 5}}],
    ],
)
def test_list_shape_variations_are_tolerated(body):
    assert order_ref(embedded_list(body)[0]).warehouse_order_id == "5"


@pytest.mark.parametrize("body", [{"totalResults": 0}, {"_embedded": None, "ResourceList": None}])
def test_an_empty_list_is_empty(body):
    assert embedded_list(body) == []


def test_a_list_that_is_not_a_list_fails_loudly():
    with pytest.raises(BadPayloadError):
        embedded_list({"ResourceList": {"orderId": 1}})
    with pytest.raises(BadPayloadError):
        embedded_list("not an object")


def test_stock_summaries_are_read_from_summaries():
    body = {"totalResults": 2, "summaries": [{"itemIdentifier": {"sku": "A"}}, {"itemIdentifier": {"sku": "B"}}]}

    assert [r["itemIdentifier"]["sku"] for r in embedded_list(body)] == ["A", "B"]


def test_a_record_without_an_order_id_has_no_reference():
    assert order_ref({"referenceNum": "X", "readOnly": None}) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [("SQ-1042", "SQ-1042"), ("A B", '"A B"'), ('x"y', '"x\\"y"'), ("a;b==c", '"a;b==c"')],
)
def test_rql_values_are_quoted_only_when_needed(value, expected):
    assert rql_value(value) == expected


def test_properties_given_as_a_map_are_read_too():
    body = {"ErrorCode": "DoesNotExist", "Hint": "Item does not exist", "Properties": {"Sku": "MUG"}}

    error = classify_rejection(400, body, "", ["TEE-M", "MUG"])

    assert error.reason_code == "unknown_sku" and error.skus == ["MUG"]


def test_a_bare_item_not_found_code_is_an_unknown_sku():
    error = classify_rejection(400, {"ErrorCode": "ItemNotFound", "Properties": {"sku": "NOPE"}}, "", ["NOPE"])

    assert error.reason_code == "unknown_sku" and error.skus == ["NOPE"]


def test_an_order_read_back_with_its_items_embedded_gives_what_the_pipeline_compares():
    record = {
        "readOnly": {"orderId": 42, "status": 0},
        "referenceNum": "1001",
        "poNum": "#1001",
        "shipTo": {"companyName": "Ada Lovelace", "name": "Ada Lovelace", "address1": "1 Main St", "zip": "07102"},
        "_embedded": {
            "http://api.3plCentral.com/rels/orders/item": [
                {"itemIdentifier": {"sku": "TEE-M", "id": 7}, "qty": 2.0, "readOnly": {"orderItemId": 1}},
                {"itemIdentifier": {"sku": "MUG"}, "qty": "1"},
                {"itemIdentifier": {}, "qty": "lots"},
            ]
        },
    }

    found = found_order(record)

    assert (found.warehouse_order_id, found.cust_ref, found.cust_po_no) == ("42", "1001", "#1001")
    assert (found.ship_to.full_name, found.ship_to.company) == ("Ada Lovelace", "Ada Lovelace")
    assert found.ship_to.zip == "07102"
    assert [(line.sku, line.quantity) for line in found.items] == [("TEE-M", 2), ("MUG", 1), ("", -1)]


def test_what_an_order_read_back_does_not_say_stays_unknown():
    found = found_order({"readOnly": {"orderId": 42}, "referenceNum": "1001"})

    assert (found.cust_po_no, found.ship_to, found.items) == (None, None, None)
    assert found_order({"referenceNum": "1001"}) is None  # no id: not an order to count
    as_created = found_order({"orderId": 1, "orderItems": [{"itemIdentifier": {"sku": "A"}, "qty": 3}]})
    assert [(i.sku, i.quantity) for i in as_created.items] == [("A", 3)]  # the answer to POST /orders


def test_bergens_account_is_its_address_host_and_customer():
    bergen = BergenWarehouse(settings={"account_web_address": "www.Client.atworkweb.com", "customer_name": " Demo "})

    assert bergen.account_identity() == "bergen:client.atworkweb.com:demo"
    assert BergenWarehouse(settings={"customer_name": "DEMO"}).account_identity() == ""  # no address yet
    assert BergenWarehouse(base_url="http://127.0.0.1:8001", settings={"customer_name": "DEMO"}).account_identity() == (
        "bergen:127.0.0.1:8001:demo"
    )
