"""The Overstock sandbox answers like Supplier Oasis as integrators' code shows it, and its fault injection works.

Plain ``requests`` and the standard library's ElementTree pin the sandbox's own contract, so a connector
test failing against it points at the connector, not at the emulator.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from xml.sax.saxutils import escape

import pytest
import requests

from sandbox.overstock import OverstockSandbox

NS = "{api.supplieroasis.com}"
T0 = datetime(2024, 7, 1, 18, 0, tzinfo=UTC)  # 12:00 MDT
LINES = [
    {"partner_sku": "SKU-1", "option_sku": "OPT-11", "quantity": 3, "item_name": "Teak Bench", "unit_cost": "80.5"},
    {"partner_sku": "SKU-2", "option_sku": "OPT-22", "quantity": 1, "item_name": "Lamp", "unit_cost": "12.00"},
]


@pytest.fixture
def sandbox(overstock_sandbox: OverstockSandbox):
    yield overstock_sandbox
    assert overstock_sandbox.handler_errors == []


def client(sandbox: OverstockSandbox) -> requests.Session:
    session = requests.Session()
    session.auth = (sandbox.username, sandbox.password)
    session.headers["Accept"] = "application/xml"
    return session


def iso(moment: datetime) -> str:
    return moment.isoformat()


def get_orders(sandbox: OverstockSandbox, start: datetime | str, end: datetime | str) -> requests.Response:
    params = {
        "startTime": start if isinstance(start, str) else iso(start),
        "endTime": end if isinstance(end, str) else iso(end),
    }
    return client(sandbox).get(sandbox.base_url + "/salesorders", params=params, timeout=5)


def local(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def find(element: ET.Element, *path: str) -> ET.Element | None:
    for name in path:
        element = next((c for c in element if local(c) == name), None) if element is not None else None
    return element


def value(element: ET.Element, *path: str) -> str | None:
    found = find(element, *path)
    return found.text if found is not None else None


def orders_in(response: requests.Response) -> list[ET.Element]:
    assert response.status_code == 200, response.text
    return [c for c in ET.fromstring(response.content) if local(c) in ("processedSalesOrder", "list")]


def numbers(response: requests.Response) -> list[str]:
    return [value(order, "salesChannelOrderNumber") for order in orders_in(response)]


def lines_of(order: ET.Element) -> list[ET.Element]:
    return [c for c in order if local(c) == "processedSalesOrderLine"]


def shipment(
    order: str = "OS-1001",
    line: int | str = 1,
    quantity: int | str = 1,
    carrier: str | None = "UPS",
    tracking: str | None = "1Z999",
    ship_date: str | None = "2024-07-02T09:15:00.000-06:00",
    service: str | None = "GROUND",
    channel: str = "OSTK",
    warehouse: str = "Main Warehouse",
) -> str:
    def el(name: str, content: str | None) -> str:
        return "" if content is None else f"<{name}>{content}</{name}>"

    return (
        "<supplierShipment>"
        + el("salesChannelName", escape(channel))
        + el("salesChannelOrderNumber", escape(order))
        + el("salesChannelLineNumber", str(line))
        + el("warehouse", el("code", escape(warehouse)))
        + "<supplierShipConfirmation>"
        + el("quantity", str(quantity))
        + el("carrier", el("code", carrier))
        + el("trackingNumber", tracking)
        + el("shipDate", ship_date)
        + el("serviceLevel", el("code", service))
        + "</supplierShipConfirmation></supplierShipment>"
    )


def message(*shipments: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><supplierShipmentMessage xmlns="api.supplieroasis.com">'
        + "".join(shipments)
        + "</supplierShipmentMessage>"
    )


def post_xml(sandbox: OverstockSandbox, path: str, body: str, content_type: str = "application/xml"):
    return client(sandbox).post(
        sandbox.base_url + path, data=body.encode(), headers={"Content-Type": content_type}, timeout=5
    )


def error_codes(response: requests.Response, status: int = 400) -> list[str]:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/xml"
    root = ET.fromstring(response.content)
    assert local(root) == "errorResponse"
    return [value(error, "code") for error in root if local(error) == "error"]


@pytest.fixture
def seeded(sandbox: OverstockSandbox) -> OverstockSandbox:
    sandbox.add_order("OS-1001", created=T0, lines=LINES)
    return sandbox


# -- authentication and media types --------------------------------------------------------------------


def test_requests_without_valid_basic_credentials_are_refused(seeded):
    url = seeded.base_url + "/salesorders"
    params = {"startTime": iso(T0), "endTime": iso(T0)}
    attempts = [
        requests.get(url, params=params, timeout=5),
        requests.get(url, params=params, auth=("sandbox-user", "wrong"), timeout=5),
        requests.get(url, params=params, headers={"Authorization": "Bearer sandbox-pass"}, timeout=5),
        requests.get(url, params=params, headers={"Authorization": "Basic not-base64!"}, timeout=5),
    ]
    for response in attempts:
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == 'Basic realm="api.supplieroasis.com"'
        assert response.content == b""
    assert get_orders(seeded, T0, T0).status_code == 200


def test_bodies_must_be_application_xml(seeded):
    assert error_codes(post_xml(seeded, "/shipments", message(shipment()), "text/xml"), 415) == [
        "UNSUPPORTED_MEDIA_TYPE"
    ]
    assert error_codes(post_xml(seeded, "/shipments", message(shipment()), "application/json"), 415)
    assert seeded.shipments_for("OS-1001") == []


# -- listing orders ------------------------------------------------------------------------------------


def test_window_lists_orders_created_inside_it_both_ends_inclusive(sandbox):
    for offset, number in ((-1, "early"), (0, "start"), (1800, "middle"), (3600, "end"), (3601, "late")):
        sandbox.add_order(number, created=T0 + timedelta(seconds=offset))
    response = get_orders(sandbox, T0, T0 + timedelta(hours=1))
    assert response.headers["Content-Type"] == "application/xml"
    assert numbers(response) == ["start", "middle", "end"]
    assert numbers(get_orders(sandbox, T0 + timedelta(hours=2), T0 + timedelta(hours=2))) == []


def test_window_parameters_are_checked(seeded):
    url = seeded.base_url + "/salesorders"
    session = client(seeded)
    assert error_codes(session.get(url, params={"endTime": iso(T0)}, timeout=5)) == ["MISSING_PARAMETER"]
    assert error_codes(session.get(url, params={"startTime": iso(T0)}, timeout=5)) == ["MISSING_PARAMETER"]
    assert error_codes(get_orders(seeded, "yesterday", iso(T0))) == ["INVALID_TIME"]
    assert error_codes(get_orders(seeded, T0, T0 - timedelta(seconds=1))) == ["INVALID_TIME_RANGE"]
    assert error_codes(get_orders(seeded, T0, T0 + timedelta(hours=1, seconds=1))) == ["INVALID_TIME_RANGE"]
    # A "+" that is not percent-encoded arrives as a space, and the time is refused.
    raw = session.get(url + "?startTime=2024-07-01T18:00:00+00:00&endTime=2024-07-01T18:00:00+00:00", timeout=5)
    assert error_codes(raw) == ["INVALID_TIME"]
    assert numbers(get_orders(seeded, T0 - timedelta(hours=1), T0)) == ["OS-1001"]


def test_times_without_offset_are_mountain_wall_time(seeded):
    # T0 is 18:00 UTC, 12:00 MDT; ShipWorks sends seven fractional digits and no offset.
    assert numbers(get_orders(seeded, "2024-07-01T12:00:00.0000000", "2024-07-01T12:30:00.0000000")) == ["OS-1001"]
    assert numbers(get_orders(seeded, "2024-07-01T18:00:00", "2024-07-01T18:30:00")) == []
    assert numbers(get_orders(seeded, "2024-07-01T11:30:00-06:00", "2024-07-01T18:00:00Z")) == ["OS-1001"]


def test_window_limit_is_configurable_and_dates_alone_are_accepted():
    with OverstockSandbox(max_window=timedelta(days=1)) as sandbox:
        sandbox.add_order("OS-1", created=T0)
        assert numbers(get_orders(sandbox, "2024-07-01", "20240702")) == ["OS-1"]
        assert error_codes(get_orders(sandbox, "2024-07-01", "2024-07-03")) == ["INVALID_TIME_RANGE"]


def test_order_carries_the_fields_integrators_read(sandbox):
    sandbox.add_order(
        "OS-2002",
        order_date=T0 - timedelta(minutes=5),
        created=T0,
        lines=LINES,
        carrier="FEDEX",
        service_level="TWO_DAY",
        ship_to={"contactName": "Grace Hopper", "companyName": "Navy", "address2": "Apt 4"},
    )
    [order] = orders_in(get_orders(sandbox, T0, T0))
    assert value(order, "salesChannelName") == "OSTK"
    assert value(order, "salesChannelOrderNumber") == "OS-2002"
    assert value(order, "orderDate") == "2024-07-01T11:55:00.000-06:00"
    assert value(order, "sofsCreatedDate") == "2024-07-01T12:00:00.000-06:00"
    assert value(order, "warehouseName", "code") == "Main Warehouse"
    assert value(order, "status") == "OPEN"
    ship_to = find(order, "shipToAddress")
    assert {local(c): c.text for c in ship_to} == {
        "contactName": "Grace Hopper",
        "companyName": "Navy",
        "address1": "12 Analytical Row",
        "address2": "Apt 4",
        "city": "Salt Lake City",
        "stateOrProvince": "UT",
        "postalCode": "84101",
        "countryCode": "US",
        "phone": "801-555-0100",
    }
    assert value(order, "returnAddress", "contactName") == "Returns Department"
    parcel = find(order, "shippingSpecifications", "smallParcelShipment")
    assert value(parcel, "shippingServiceLevel", "code") == "TWO_DAY" and value(parcel, "carrier", "code") == "FEDEX"
    first, second = lines_of(order)
    assert {local(c): c.text for c in first} == {
        "salesChannelLineNumber": "1",
        "partnerSKU": "SKU-1",
        "salesChannelSKU": "OPT-11",
        "quantity": "3",
        "lineId": "5001",
        "itemName": "Teak Bench",
        "lineStatus": "OPEN",
        "unitCost": "80.50",
        "unitCostCurrencyCode": "USD",
    }
    assert value(second, "salesChannelLineNumber") == "2" and find(second, "shipConfirmationDetail") is None


def test_winter_times_carry_the_standard_offset_and_empty_address_fields_are_left_out(sandbox):
    sandbox.add_order("OS-W", created=datetime(2024, 1, 15, 19, 0), ship_to={"phone": None})
    [order] = orders_in(
        get_orders(sandbox, datetime(2024, 1, 15, 19, 0, tzinfo=UTC), datetime(2024, 1, 15, 19, 0, tzinfo=UTC))
    )
    assert value(order, "sofsCreatedDate") == "2024-01-15T12:00:00.000-07:00"
    assert find(order, "shipToAddress", "phone") is None and find(order, "shipToAddress", "address2") is None


def test_prefixes_put_some_elements_in_the_namespace_and_others_in_none(seeded):
    response = get_orders(seeded, T0, T0)
    text = response.text
    assert 'xmlns:ns2="api.supplieroasis.com"' in text and 'xmlns="' not in text
    assert "<ns2:salesChannelOrderNumber>OS-1001</ns2:salesChannelOrderNumber>" in text
    assert "<processedSalesOrderLine>" in text and "<lineStatus>OPEN</lineStatus>" in text
    root = ET.fromstring(response.content)
    assert root.tag == NS + "processedSalesOrderMessage"
    order = root.find("processedSalesOrder")
    # A parser that ignores namespaces misses the prefixed fields ...
    assert order.find("salesChannelOrderNumber") is None
    assert order.find(NS + "salesChannelOrderNumber").text == "OS-1001"
    # ... and one that puts the namespace everywhere misses the unprefixed ones.
    assert order.find(NS + "processedSalesOrderLine") is None
    assert order.find("processedSalesOrderLine").find(NS + "salesChannelSKU").text == "OPT-11"


def test_list_version_wraps_each_order_in_a_list_element():
    with OverstockSandbox(list_wrapper=True) as sandbox:
        sandbox.add_order("OS-1", created=T0)
        sandbox.add_order("OS-2", created=T0 + timedelta(minutes=1))
        response = get_orders(sandbox, T0, T0 + timedelta(minutes=1))
        root = ET.fromstring(response.content)
        assert root.tag == NS + "processedSalesOrderTypeList"
        assert root.find("totalCount").text == "2"
        assert [value(order, "salesChannelOrderNumber") for order in root.findall("list")] == ["OS-1", "OS-2"]
        assert root.find("processedSalesOrder") is None


# -- ship confirmations --------------------------------------------------------------------------------


def test_confirmation_is_acknowledged_recorded_and_shown_on_the_line(seeded):
    response = post_xml(
        seeded,
        "/shipments",
        message(shipment(line=1, quantity=2, tracking="1Z-A"), shipment(line=2, quantity=1, tracking="1Z-A")),
    )
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "application/xml"
    acks = [c for c in ET.fromstring(response.content) if local(c) == "supplierShipmentResponse"]
    assert [(value(a, "salesChannelLineNumber"), value(a, "trackingNumber"), value(a, "status")) for a in acks] == [
        ("1", "1Z-A", "ACCEPTED"),
        ("2", "1Z-A", "ACCEPTED"),
    ]
    recorded = seeded.shipments_for("OS-1001")
    assert [(s["line_number"], s["quantity"], s["carrier"], s["service_level"]) for s in recorded] == [
        (1, 2, "UPS", "GROUND"),
        (2, 1, "UPS", "GROUND"),
    ]
    assert recorded[0]["ship_date"] == datetime(2024, 7, 2, 15, 15, tzinfo=UTC)
    [order] = orders_in(get_orders(seeded, T0, T0))
    assert value(order, "status") == "PARTIALLY_SHIPPED"
    first, second = lines_of(order)
    assert value(first, "lineStatus") == "PARTIALLY_SHIPPED" and value(second, "lineStatus") == "SHIPPED"
    detail = find(first, "shipConfirmationDetail")
    assert value(detail, "quantityShipped") == "2"
    assert value(detail, "packageDetail", "trackingNumber") == "1Z-A"
    assert value(detail, "shipmentDetail", "shipmentCarrier") == "UPS"
    assert value(detail, "shipmentDetail", "dateShipped") == "2024-07-02T09:15:00.000-06:00"


def test_shipment_elements_are_matched_by_local_name_in_either_namespace_shape(seeded):
    shipworks = message(shipment(line=2, tracking="SW-1")).replace("<supplierShipment>", '<supplierShipment xmlns="">')
    assert post_xml(seeded, "/shipments", shipworks).status_code == 200
    prefixed = (
        '<o:supplierShipmentMessage xmlns:o="api.supplieroasis.com">'
        + shipment(line=1, tracking="P-1").replace("<", "<o:").replace("<o:/", "</o:")
        + "</o:supplierShipmentMessage>"
    )
    assert post_xml(seeded, "/shipments", prefixed).status_code == 200
    assert [s["tracking_number"] for s in seeded.shipments_for("OS-1001")] == ["SW-1", "P-1"]


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"order": "OS-404"}, "INVALID_ORDER"),
        ({"line": 9}, "INVALID_LINE"),
        ({"line": "one"}, "INVALID_LINE"),
        ({"quantity": 4}, "QUANTITY_EXCEEDS_REMAINING"),
        ({"quantity": 0}, "INVALID_QUANTITY"),
        ({"quantity": "1.5"}, "INVALID_QUANTITY"),
        ({"quantity": "\u00b2"}, "INVALID_QUANTITY"),
        ({"carrier": "PONY"}, "INVALID_CARRIER"),
        ({"carrier": "ups"}, "INVALID_CARRIER"),
        ({"carrier": None}, "INVALID_CARRIER"),
        ({"tracking": None}, "MISSING_TRACKING_NUMBER"),
        ({"tracking": "  "}, "MISSING_TRACKING_NUMBER"),
        ({"warehouse": "Other Warehouse"}, "INVALID_WAREHOUSE"),
        ({"channel": "Overstock"}, "INVALID_SALES_CHANNEL"),
        ({"service": "WARP"}, "INVALID_SERVICE_LEVEL"),
        ({"ship_date": "next tuesday"}, "INVALID_SHIP_DATE"),
    ],
)
def test_invalid_confirmation_is_refused_with_an_xml_error(seeded, changes, code):
    response = post_xml(seeded, "/shipments", message(shipment(**changes)))
    assert error_codes(response) == [code]
    error = ET.fromstring(response.content).find(NS + "error")
    assert value(error, "index") == "1" and value(error, "message")
    assert seeded.shipments_for("OS-1001") == []


def test_optional_fields_may_be_left_out(seeded):
    response = post_xml(seeded, "/shipments", message(shipment(ship_date=None, service=None)))
    assert response.status_code == 200, response.text
    [recorded] = seeded.shipments_for("OS-1001")
    assert recorded["service_level"] is None and recorded["ship_date"] == recorded["confirmed_at"]


def test_message_is_all_or_nothing_and_lists_every_problem(seeded):
    response = post_xml(
        seeded,
        "/shipments",
        message(shipment(line=1), shipment(line=2, carrier="PONY", tracking=None), shipment(order="OS-404")),
    )
    assert error_codes(response) == ["INVALID_CARRIER", "MISSING_TRACKING_NUMBER", "INVALID_ORDER"]
    indexes = [value(error, "index") for error in ET.fromstring(response.content)]
    assert indexes == ["2", "2", "3"]
    assert seeded.shipments_for("OS-1001") == []


def test_quantities_for_one_line_add_up_within_a_message(seeded):
    response = post_xml(seeded, "/shipments", message(shipment(quantity=2), shipment(quantity=2, tracking="1Z-B")))
    assert error_codes(response) == ["QUANTITY_EXCEEDS_REMAINING"]


def test_malformed_messages_are_refused(seeded):
    assert error_codes(post_xml(seeded, "/shipments", "<supplierShipmentMessage><oops>")) == ["MALFORMED_XML"]
    assert error_codes(post_xml(seeded, "/shipments", "<shipments/>")) == ["MALFORMED_XML"]
    assert error_codes(post_xml(seeded, "/shipments", message())) == ["MISSING_FIELD"]
    assert error_codes(client(seeded).post(seeded.base_url + "/shipments", timeout=5)) == ["MALFORMED_XML"]
    bomb = (
        '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
        "<supplierShipmentMessage>&b;</supplierShipmentMessage>"
    )
    assert error_codes(post_xml(seeded, "/shipments", bomb)) == ["MALFORMED_XML"]


def test_repeated_tracking_for_a_line_is_counted_and_overshipping_refused(seeded):
    assert post_xml(seeded, "/shipments", message(shipment(quantity=1, tracking="1Z-A"))).status_code == 200
    assert seeded.tracking_duplicate_count() == 0
    assert post_xml(seeded, "/shipments", message(shipment(quantity=1, tracking="1Z-A"))).status_code == 200
    assert seeded.tracking_duplicate_count() == 1
    assert post_xml(seeded, "/shipments", message(shipment(quantity=1, tracking="1Z-C"))).status_code == 200
    resent = post_xml(seeded, "/shipments", message(shipment(quantity=1, tracking="1Z-C")))
    assert error_codes(resent) == ["QUANTITY_EXCEEDS_REMAINING"]
    assert seeded.tracking_duplicate_count() == 1
    assert [s["shipment_id"] for s in seeded.shipments_for("OS-1001")] == ["SHP-000001", "SHP-000002", "SHP-000003"]


def test_acknowledgement_status_is_configurable():
    with OverstockSandbox(shipment_ack_status=204) as sandbox:
        sandbox.add_order("OS-1001", created=T0)
        response = post_xml(sandbox, "/shipments", message(shipment()))
        assert response.status_code == 204 and response.content == b""
        assert len(sandbox.shipments_for("OS-1001")) == 1


# -- cancellation ---------------------------------------------------------------------------------------


def test_cancelled_line_reads_cancelled_and_cannot_be_confirmed(seeded):
    seeded.cancel_line("OS-1001", 2)
    [order] = orders_in(get_orders(seeded, T0, T0))
    assert [value(line, "lineStatus") for line in lines_of(order)] == ["OPEN", "CANCELLED"]
    assert value(order, "status") == "OPEN"
    # The cancellation does not bring the order into a window around the time it happened.
    later = datetime.now(UTC)
    assert "OS-1001" not in numbers(get_orders(seeded, later - timedelta(minutes=5), later))
    assert error_codes(post_xml(seeded, "/shipments", message(shipment(line=2)))) == ["LINE_CANCELLED"]
    seeded.cancel_line("OS-1001", 1)
    assert value(orders_in(get_orders(seeded, T0, T0))[0], "status") == "CANCELLED"


def test_lines_can_be_seeded_cancelled(sandbox):
    sandbox.add_order("OS-C", created=T0, lines=[{"option_sku": "OPT-1", "status": "CANCELLED"}, {}])
    [order] = orders_in(get_orders(sandbox, T0, T0))
    assert [value(line, "lineStatus") for line in lines_of(order)] == ["CANCELLED", "OPEN"]
    assert sandbox.orders["OS-C"].lines[0].status == "CANCELLED"


def test_seeding_mistakes_fail_loudly(sandbox):
    with pytest.raises(ValueError, match="warehouse"):
        sandbox.add_order("OS-X", warehouse="Nowhere")
    with pytest.raises(ValueError, match="line fields"):
        sandbox.add_order("OS-X", lines=[{"sku": "SKU-1"}])
    with pytest.raises(ValueError, match="ship_to"):
        sandbox.add_order("OS-X", ship_to={"zip": "84101"})
    sandbox.add_order("OS-X")
    with pytest.raises(ValueError, match="already exists"):
        sandbox.add_order("OS-X")
    with pytest.raises(KeyError):
        sandbox.cancel_line("OS-X", 7)


# -- inventory (guessed endpoint) -------------------------------------------------------------------------


def inventory_message(*items: tuple[str, str, str]) -> str:
    body = "".join(
        f"<inventoryUpdate><salesChannelSKU>{sku}</salesChannelSKU><warehouse><code>{warehouse}</code></warehouse>"
        f"<quantity>{quantity}</quantity></inventoryUpdate>"
        for sku, warehouse, quantity in items
    )
    return f'<inventoryUpdateMessage xmlns="api.supplieroasis.com">{body}</inventoryUpdateMessage>'


def test_inventory_updates_are_recorded_and_unknown_option_skus_reported(seeded):
    seeded.add_product("OPT-99", "SKU-99")
    response = post_xml(
        seeded,
        "/inventory",
        inventory_message(
            ("OPT-11", "Main Warehouse", "5"),
            ("OPT-99", "Main Warehouse", "0"),
            ("SKU-1", "Main Warehouse", "3"),
            ("OPT-22", "Elsewhere", "1"),
            ("OPT-22", "Main Warehouse", "-1"),
            ("OPT-22", "Main Warehouse", "\u00b2"),
        ),
    )
    assert response.status_code == 200, response.text
    results = [c for c in ET.fromstring(response.content) if local(c) == "inventoryUpdateResult"]
    assert [(value(r, "salesChannelSKU"), value(r, "status"), value(r, "error", "code")) for r in results] == [
        ("OPT-11", "SUCCESS", None),
        ("OPT-99", "SUCCESS", None),
        ("SKU-1", "ERROR", "UNKNOWN_SKU"),
        ("OPT-22", "ERROR", "INVALID_WAREHOUSE"),
        ("OPT-22", "ERROR", "INVALID_QUANTITY"),
        ("OPT-22", "ERROR", "INVALID_QUANTITY"),
    ]
    assert [(u["option_sku"], u["warehouse"], u["quantity"]) for u in seeded.inventory_updates] == [
        ("OPT-11", "Main Warehouse", 5),
        ("OPT-99", "Main Warehouse", 0),
    ]
    assert seeded.inventory == {("OPT-11", "Main Warehouse"): 5, ("OPT-99", "Main Warehouse"): 0}


def test_inventory_path_is_configurable():
    with OverstockSandbox(inventory_path="/inventory/quantities", warehouses=("East", "West")) as sandbox:
        sandbox.add_product("OPT-1")
        moved = post_xml(sandbox, "/inventory/quantities", inventory_message(("OPT-1", "West", "7")))
        assert moved.status_code == 200 and sandbox.inventory == {("OPT-1", "West"): 7}
        assert error_codes(post_xml(sandbox, "/inventory", inventory_message(("OPT-1", "West", "7"))), 404) == [
            "NOT_FOUND"
        ]


# -- odd answers and fault injection ----------------------------------------------------------------------


def test_null_body_mode_answers_200_null_without_processing(seeded):
    seeded.null_body_next(path_contains="/shipments")
    response = post_xml(seeded, "/shipments", message(shipment()))
    assert response.status_code == 200 and response.content == b"null"
    assert response.headers["Content-Type"] == "application/xml"
    assert seeded.shipments_for("OS-1001") == []
    seeded.null_body_next(2)
    assert [get_orders(seeded, T0, T0).content for _ in range(2)] == [b"null", b"null"]
    assert numbers(get_orders(seeded, T0, T0)) == ["OS-1001"]


def test_fault_injection_statuses_drops_and_lost_replies(seeded):
    seeded.fail_next(status=503)
    unavailable = get_orders(seeded, T0, T0)
    assert unavailable.status_code == 503 and unavailable.headers["Content-Type"].startswith("text/html")
    seeded.fail_next(status=429, body="<busy/>")
    assert get_orders(seeded, T0, T0).headers["Content-Type"] == "application/xml"
    seeded.fail_next(mode="truncated")
    truncated = get_orders(seeded, T0, T0)
    assert truncated.status_code == 200 and truncated.headers["Content-Type"] == "application/xml"
    with pytest.raises(ET.ParseError):
        ET.fromstring(truncated.content)
    seeded.fail_next(mode="drop")
    with pytest.raises(requests.ConnectionError):
        get_orders(seeded, T0, T0)
    # Accepted, but the reply is lost: resending the same confirmation is then refused.
    seeded.fail_next(mode="after", status=500, path_contains="/shipments")
    assert post_xml(seeded, "/shipments", message(shipment(quantity=3))).status_code == 500
    assert len(seeded.shipments_for("OS-1001")) == 1
    assert error_codes(post_xml(seeded, "/shipments", message(shipment(quantity=3)))) == ["QUANTITY_EXCEEDS_REMAINING"]


def test_unknown_paths_and_methods_answer_xml_errors(seeded):
    assert error_codes(client(seeded).get(seeded.base_url + "/orders", timeout=5), 404) == ["NOT_FOUND"]
    assert error_codes(client(seeded).delete(seeded.base_url + "/shipments", timeout=5), 405) == ["METHOD_NOT_ALLOWED"]
