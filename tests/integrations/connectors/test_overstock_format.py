"""What we send to Overstock: ship confirmations (one per line) and stock levels, as XML."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.connectors.canonical import CartShipment, CartShipmentLine, InventoryUpdate
from integrations.connectors.errors import PermanentError
from integrations.connectors.overstock.writes import (
    ShipmentContext,
    carrier_code,
    format_inventory_message,
    format_shipment_message,
    item_refusals,
    service_level_code,
)
from integrations.connectors.overstock.xml import NAMESPACE, read_xml, text
from tests.integrations.connectors import builders
from tests.integrations.connectors.builders import shipment_lines

NOW = datetime(2024, 5, 3, 18, 0, tzinfo=UTC)
CONTEXT = ShipmentContext(order_number="OSTK-012", sales_channel_name="OSTK", warehouse_code="IML TEST")


def shipment(lines=None, **changes) -> CartShipment:
    values = {
        "shipped_at": datetime(2024, 5, 2, 15, 30, 0, 250000, tzinfo=UTC),
        "lines": lines if lines is not None else shipment_lines(("1", 1), ("2", 3), skus=("232218BRN", "281729")),
    }
    return builders.shipment(**(values | changes))


def entries(body: bytes):
    root = read_xml(body, what="test")
    return root, list(root)


def test_one_supplier_shipment_per_line_every_element_in_the_overstock_namespace():
    body = format_shipment_message(shipment(), CONTEXT, now=NOW)

    assert body.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")
    assert b'xmlns="api.supplieroasis.com"' in body and b"ns0:" not in body
    root, shipments = entries(body)
    assert root.tag == f"{{{NAMESPACE}}}supplierShipmentMessage"
    assert all(el.tag.startswith(f"{{{NAMESPACE}}}") for el in root.iter())
    assert [el.tag.split("}")[1] for el in shipments] == ["supplierShipment", "supplierShipment"]
    first, second = shipments
    assert text(first, "salesChannelName") == "OSTK"
    assert text(first, "salesChannelOrderNumber") == "OSTK-012"
    assert [text(el, "salesChannelLineNumber") for el in shipments] == ["1", "2"]
    assert text(first, "warehouse", "code") == "IML TEST"
    assert [text(el, "supplierShipConfirmation", "quantity") for el in shipments] == ["1", "3"]
    confirmation = "supplierShipConfirmation"
    assert text(second, confirmation, "carrier", "code") == "UPS"
    assert text(second, confirmation, "trackingNumber") == "1Z999AA10123456784"
    assert text(second, confirmation, "shipDate") == "2024-05-02T15:30:00Z"
    assert text(second, confirmation, "serviceLevel", "code") == "GROUND"


def test_lines_named_twice_are_confirmed_once_with_their_quantities_added():
    lines = [
        CartShipmentLine(cart_line_id="1", line_no=1, sku="A", quantity=1),
        CartShipmentLine(cart_line_id="1", line_no=1, sku="A", quantity=2),
    ]

    _, shipments = entries(format_shipment_message(shipment(lines), CONTEXT, now=NOW))

    assert [text(el, "supplierShipConfirmation", "quantity") for el in shipments] == ["3"]


def test_text_is_escaped_and_characters_xml_cannot_hold_are_dropped():
    context = ShipmentContext(order_number="A&B <1>", sales_channel_name="O'S\"TK", warehouse_code="Main & Co")

    body = format_shipment_message(shipment(tracking_numbers=["1Z\x00<9>\x1b&"]), context, now=NOW)

    assert b"A&amp;B &lt;1&gt;" in body
    _, shipments = entries(body)
    assert text(shipments[0], "salesChannelOrderNumber") == "A&B <1>"
    assert text(shipments[0], "salesChannelName") == "O'S\"TK"
    assert text(shipments[0], "warehouse", "code") == "Main & Co"
    assert text(shipments[0], "supplierShipConfirmation", "trackingNumber") == "1Z<9>&"


def test_a_missing_ship_date_is_now_and_only_the_first_tracking_number_goes():
    body = format_shipment_message(shipment(shipped_at=None, tracking_numbers=["", "T1", "T2"]), CONTEXT, now=NOW)

    _, shipments = entries(body)
    assert {text(el, "supplierShipConfirmation", "shipDate") for el in shipments} == {"2024-05-03T18:00:00Z"}
    assert {text(el, "supplierShipConfirmation", "trackingNumber") for el in shipments} == {"T1"}


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"lines": []}, "Overstock needs the shipped lines"),
        ({"tracking_numbers": [" "]}, "needs a tracking number"),
        ({"carrier": ""}, "came without a carrier"),
        (
            {"lines": [CartShipmentLine(cart_line_id="", line_no=3, sku="A", quantity=1)]},
            r"its line number for line 3 \(A\)",
        ),
        ({"lines": [CartShipmentLine(cart_line_id="3", line_no=3, sku="A", quantity=0)]}, "no shipped quantity"),
    ],
)
def test_a_shipment_overstock_cannot_take_is_refused_before_sending(changes, says):
    with pytest.raises(PermanentError, match=says):
        format_shipment_message(shipment(**changes), CONTEXT, now=NOW)


def test_a_connection_without_a_warehouse_cannot_confirm():
    context = ShipmentContext(order_number="1", sales_channel_name="OSTK", warehouse_code="")

    with pytest.raises(PermanentError, match="Warehouse Name"):
        format_shipment_message(shipment(), context, now=NOW)


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("UPS", "UPS"),
        ("ups", "UPS"),
        ("UPS Ground", "UPS"),
        ("FedEx", "FEDEX"),
        ("FDX", "FEDEX"),
        ("Federal Express", "FEDEX"),
        ("FedEx Ground", "FEDEX"),
        ("USPS", "USPS"),
        ("OnTrac", "ONTRAC"),
        ("DHL Express", "DHL"),
        ("UPS SurePost", "UPSSP"),
        ("FedEx SmartPost", "FEDSP"),
        ("Acme Freight", "ACME FREIGHT"),
        ("", ""),
    ],
)
def test_carrier_names_become_overstock_codes(given, code):
    assert carrier_code(given) == code


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("Ground", "GROUND"),
        ("GROUND", "GROUND"),
        ("NEXT_DAY", "NEXT_DAY"),
        ("Next Day Air Saver", "NEXT_DAY"),
        ("FedEx Priority Overnight", "NEXT_DAY"),
        ("Priority Mail Express", "NEXT_DAY"),
        ("2nd Day Air", "TWO_DAY"),
        ("FedEx 2Day", "TWO_DAY"),
        ("Two-Day", "TWO_DAY"),
        ("3 Day Select", "THREE_DAY"),
        ("Express Saver", "THREE_DAY"),
        ("Priority Mail", "PRIORITY"),
        ("First-Class Mail", "FIRSTCLASS"),
        ("Media Mail", "MEDIA_MAIL"),
        ("Home Delivery", "GROUND"),
        ("", "GROUND"),
    ],
)
def test_service_names_become_overstock_service_levels(given, code):
    assert service_level_code(given) == code


def test_stock_levels_go_one_entry_per_option_sku_with_the_warehouse():
    updates = [InventoryUpdate(key="9001234", sku="232218BRN", quantity=5), InventoryUpdate("9005678", "281729", 0)]

    root, items = entries(format_inventory_message(updates, warehouse_code="IML TEST", limit=50))

    assert root.tag == f"{{{NAMESPACE}}}inventoryUpdateMessage"
    assert [(text(i, "salesChannelSKU"), text(i, "warehouse", "code"), text(i, "quantity")) for i in items] == [
        ("9001234", "IML TEST", "5"),
        ("9005678", "IML TEST", "0"),
    ]


@pytest.mark.parametrize(
    "updates",
    [
        [InventoryUpdate("A", "a", 1)] * 2,
        [InventoryUpdate("", "a", 1)],
        [InventoryUpdate("A", "a", -1)],
        [InventoryUpdate("A", "a", True)],
        [InventoryUpdate(str(i), "a", 1) for i in range(3)],
    ],
    ids=["twice", "no-key", "negative", "bool", "too-many"],
)
def test_stock_updates_the_caller_got_wrong_raise_before_sending(updates):
    with pytest.raises(ValueError):
        format_inventory_message(updates, warehouse_code="IML TEST", limit=2)


def test_refused_items_are_read_from_a_stock_answer_whatever_its_shape():
    answer = (
        b'<inventoryUpdateResponse xmlns="api.supplieroasis.com">'
        b"<result><salesChannelSKU>A</salesChannelSKU><status>SUCCESS</status></result>"
        b"<result><salesChannelSKU>B</salesChannelSKU><status>ERROR</status>"
        b"<message>Unknown OptionSku</message></result>"
        b"<item><salesChannelSKU>C</salesChannelSKU><error><code>BAD_QUANTITY</code>"
        b"<message>quantity must be whole</message></error></item>"
        b"</inventoryUpdateResponse>"
    )

    refused = item_refusals(read_xml(answer, what="test"), ["A", "B", "C", "D"])

    assert refused == {"B": "ERROR: Unknown OptionSku", "C": "BAD_QUANTITY: quantity must be whole"}
