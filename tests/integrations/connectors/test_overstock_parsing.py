"""Overstock order listings parsed, with XML shaped like integrators' payloads (no public docs exist).

The shapes: ShipWorks' and a PHP integrator's sample (default namespace `api.supplieroasis.com`,
`warehouseName/code`, `shipConfirmationDetail`), a Java client's (every element `ns2:`-prefixed,
orders as `list` elements next to `totalCount`), and plain XML with no namespace at all.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from integrations.connectors.canonical import CART_CANCELED, CART_FULFILLED, CART_OPEN, CART_PARTIAL
from integrations.connectors.errors import BadPayloadError
from integrations.connectors.overstock.wire import (
    OTHER_WAREHOUSE,
    WarehouseFilter,
    order_elements,
    parse_orders,
    tracking_numbers,
)
from integrations.connectors.overstock.xml import read_xml, windows
from integrations.connectors.parsing import format_datetime, parse_datetime, whole_seconds

OURS = WarehouseFilter(name="IML Test")

LINE = """
<processedSalesOrderLine>
  <salesChannelLineNumber>{line}</salesChannelLineNumber>
  <partnerSKU>{sku}</partnerSKU>
  <barcode>XYZ281729</barcode>
  <salesChannelSKU>{option}</salesChannelSKU>
  <quantity>{quantity}</quantity>
  <itemName>Christopher Knight Home Nottingham</itemName>
  <lineStatus>{status}</lineStatus>
  <unitCost>12.50</unitCost>
  <itemPrice>24.99</itemPrice>
  {extra}
</processedSalesOrderLine>"""

SHIPPED = """
<shipConfirmationDetail>
  <quantityShipped>1</quantityShipped>
  <packageDetail><packageID>123</packageID><trackingNumber>{tracking}</trackingNumber></packageDetail>
  <shipmentDetail>
    <shipmentCarrier>FDEG</shipmentCarrier>
    <billingAccountNumber>null</billingAccountNumber>
    <dateShipped>2024-05-02T00:00:00.000-06:00</dateShipped>
    <dateConfirmed>2024-05-02T09:30:00.000-06:00</dateConfirmed>
  </shipmentDetail>
</shipConfirmationDetail>"""


def line(line="1", sku="232218BRN", option="9001234", quantity="1", status="OPEN", extra=""):
    return LINE.format(line=line, sku=sku, option=option, quantity=quantity, status=status, extra=extra)


def order(number="OSTK-012", warehouse="IML TEST", lines=None, extra="", status="OPEN"):
    lines = lines if lines is not None else [line()]
    return f"""
<processedSalesOrder>
  <salesChannelOrderNumber>{number}</salesChannelOrderNumber>
  <salesChannelName>OSTK</salesChannelName>
  <orderDate>2024-05-01T16:54:34.000-06:00</orderDate>
  <sofsCreatedDate>2024-05-01T16:58:00.000-06:00</sofsCreatedDate>
  <warehouseName><code>{warehouse}</code></warehouseName>
  <shipToAddress>
    <contactName>Ada King Lovelace</contactName>
    <companyName>Analytical Engines &amp; Co</companyName>
    <address1>2 Boston Street</address1>
    <address2>Suite 4</address2>
    <city>Salt Lake City</city>
    <stateOrProvince>UT</stateOrProvince>
    <postalCode>84121</postalCode>
    <countryCode>us</countryCode>
    <phone>801-555-1212</phone>
  </shipToAddress>
  <shippingSpecifications>
    <isSignatureRequired>true</isSignatureRequired>
    <smallParcelShipment>
      <shippingServiceLevel><code>GROUND</code></shippingServiceLevel>
      <shippingAccountNumber>392582735</shippingAccountNumber>
      <carrier><code>FEDEX</code></carrier>
    </smallParcelShipment>
  </shippingSpecifications>
  <orderId>2123</orderId>
  <status>{status}</status>
  {extra}
  {"".join(lines)}
</processedSalesOrder>"""


def message(*orders: str, attrs: str = ' xmlns="api.supplieroasis.com"') -> bytes:
    body = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<processedSalesOrderMessage{attrs}>'
    return (body + "".join(orders) + "</processedSalesOrderMessage>").encode()


def parse(body: bytes, warehouse: WarehouseFilter | None = OURS):
    return parse_orders(read_xml(body, what="a test listing"), warehouse=warehouse)


def only(page):
    assert page.rejected == []
    assert len(page.orders) == 1
    return page.orders[0]


def test_an_order_in_the_default_namespace_reads_every_field():
    found = only(parse(message(order(lines=[line(), line(line="2", sku="281729", option="9005678", quantity="3")]))))

    assert found.cart_order_id == found.order_number == "OSTK-012"
    assert found.cart_status == CART_OPEN
    assert found.ordered_at == datetime(2024, 5, 1, 22, 54, 34, tzinfo=UTC)
    assert found.modified_at == datetime(2024, 5, 1, 22, 58, tzinfo=UTC)
    assert found.ship_method == "FEDEX GROUND"
    address = found.ship_to
    assert (address.first_name, address.last_name, address.company) == (
        "Ada King",
        "Lovelace",
        "Analytical Engines & Co",
    )
    assert (address.address_1, address.address_2, address.city, address.state) == (
        "2 Boston Street",
        "Suite 4",
        "Salt Lake City",
        "UT",
    )
    assert (address.zip, address.country, address.phone) == ("84121", "US", "801-555-1212")
    assert address.missing_fields() == []
    first, second = found.lines
    assert (first.line_no, first.cart_line_id, first.sku, first.cart_item_key) == (1, "1", "232218BRN", "9001234")
    assert (first.quantity, first.price, first.description) == (
        1,
        Decimal("12.50"),
        "Christopher Knight Home Nottingham",
    )
    assert (second.line_no, second.sku, second.cart_item_key, second.quantity) == (2, "281729", "9005678", 3)
    assert not first.canceled and not second.canceled
    assert found.skip_code == ""
    assert found.raw["warehouseName"] == {"code": "IML TEST"}
    assert len(found.raw["processedSalesOrderLine"]) == 2


def test_ns2_prefixes_and_orders_as_list_elements_read_the_same():
    java_style = (
        b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        b'<ns2:processedSalesOrderMessage xmlns:ns2="api.supplieroasis.com">'
        b"<ns2:totalCount>1</ns2:totalCount>"
        b"<ns2:list>"
        b"<ns2:warehouseName><ns2:code>IML TEST</ns2:code></ns2:warehouseName>"
        b"<ns2:orderDate>2024-05-01T16:54:34.000-06:00</ns2:orderDate>"
        b"<ns2:salesChannelOrderNumber>OSTK-012</ns2:salesChannelOrderNumber>"
        b"<ns2:shipToAddress><ns2:contactName>Ada Lovelace</ns2:contactName><ns2:address1>2 Boston Street"
        b"</ns2:address1><ns2:city>Salt Lake City</ns2:city><ns2:postalCode>84121</ns2:postalCode>"
        b"<ns2:countryCode>US</ns2:countryCode></ns2:shipToAddress>"
        b"<processedSalesOrderLine><ns2:quantity>2</ns2:quantity><ns2:partnerSKU>232218BRN</ns2:partnerSKU>"
        b"<ns2:salesChannelLineNumber>7</ns2:salesChannelLineNumber><ns2:salesChannelSKU>9001234</ns2:salesChannelSKU>"
        b"</processedSalesOrderLine>"
        b"</ns2:list>"
        b"</ns2:processedSalesOrderMessage>"
    )

    found = only(parse(java_style))

    assert found.order_number == "OSTK-012"
    assert (found.ship_to.first_name, found.ship_to.last_name, found.ship_to.city) == (
        "Ada",
        "Lovelace",
        "Salt Lake City",
    )
    assert [(ln.line_no, ln.cart_line_id, ln.sku, ln.cart_item_key, ln.quantity) for ln in found.lines] == [
        (7, "7", "232218BRN", "9001234", 2)
    ]


def test_xml_without_any_namespace_reads_the_same():
    found = only(parse(message(order(), attrs="")))

    assert found.order_number == "OSTK-012"
    assert found.lines[0].cart_item_key == "9001234"


def test_a_list_element_that_wraps_orders_is_looked_into():
    body = message("<list>" + order(number="A-1") + order(number="A-2") + "</list>")

    page = parse(body)

    assert sorted(o.order_number for o in page.orders) == ["A-1", "A-2"]


def test_elements_in_any_order_read_the_same():
    shuffled = (
        "<processedSalesOrder>"
        "<processedSalesOrderLine><quantity>1</quantity><salesChannelSKU>9001234</salesChannelSKU>"
        "<partnerSKU>232218BRN</partnerSKU><salesChannelLineNumber>1</salesChannelLineNumber></processedSalesOrderLine>"
        "<shipToAddress><countryCode>US</countryCode><postalCode>84121</postalCode><city>Salt Lake City</city>"
        "<address1>2 Boston Street</address1><contactName>Ada Lovelace</contactName></shipToAddress>"
        "<warehouseName><code>IML TEST</code></warehouseName>"
        "<salesChannelOrderNumber>OSTK-012</salesChannelOrderNumber>"
        "</processedSalesOrder>"
    )

    found = only(parse(message(shuffled)))

    assert found.order_number == "OSTK-012"
    assert found.ship_to.missing_fields() == []
    assert found.lines[0].sku == "232218BRN"


def test_missing_optional_elements_leave_fields_empty():
    bare = (
        "<processedSalesOrder><salesChannelOrderNumber>B-1</salesChannelOrderNumber>"
        "<processedSalesOrderLine><salesChannelLineId>1</salesChannelLineId><partnerSKU>S</partnerSKU>"
        "<quantity>1</quantity></processedSalesOrderLine></processedSalesOrder>"
    )

    found = only(parse(message(bare)))

    assert (found.ordered_at, found.modified_at, found.ship_method) == (None, None, "")
    assert found.ship_to.missing_fields() == ["name", "address_1", "city", "zip", "country"]
    assert (found.lines[0].cart_line_id, found.lines[0].price, found.lines[0].cart_item_key) == ("1", Decimal("0"), "")
    assert found.skip_code == ""  # an order that names no warehouse is taken


def test_a_single_name_is_a_first_name():
    body = message(order().replace("Ada King Lovelace", "Cher"))

    assert only(parse(body)).ship_to.full_name == "Cher"


def test_a_cancelled_line_is_kept_and_marked_for_a_person():
    body = message(order(lines=[line(), line(line="2", sku="281729", status="CANCELLED")]))

    found = only(parse(body))

    assert [(ln.sku, ln.canceled) for ln in found.lines] == [("232218BRN", False), ("281729", True)]
    assert found.cart_status == CART_OPEN


def test_a_cancellation_request_element_marks_the_line_and_a_false_one_does_not():
    requested = line(extra="<cancellationRequest><reason>Customer changed mind</reason></cancellationRequest>")
    not_requested = line(line="2", sku="281729", extra="<cancelRequested>false</cancelRequested>")

    found = only(parse(message(order(lines=[requested, not_requested]))))

    assert [ln.canceled for ln in found.lines] == [True, False]


def test_an_order_with_every_line_cancelled_is_canceled():
    body = message(order(lines=[line(status="CANCELED"), line(line="2", sku="X", status="Cancelled")]))

    found = only(parse(body))

    assert found.cart_status == CART_CANCELED
    assert all(ln.canceled for ln in found.lines)


def test_a_cancellation_request_on_the_order_marks_every_line():
    found = only(parse(message(order(extra="<cancellationRequest>true</cancellationRequest>"))))

    assert [ln.canceled for ln in found.lines] == [True]
    assert found.cart_status == CART_CANCELED


def test_confirmed_lines_make_the_order_fulfilled_or_partial_and_their_tracking_is_known():
    shipped = line(status="SHIPPED", extra=SHIPPED.format(tracking="Z123123123123"))
    body = message(
        order(number="ALL", lines=[shipped, line(line="2", sku="X", status="CANCELLED")]),
        order(number="SOME", lines=[shipped, line(line="2", sku="X")]),
    )

    page = parse(body)

    states = {o.order_number: o.cart_status for o in page.orders}
    assert states == {"ALL": CART_FULFILLED, "SOME": CART_PARTIAL}
    fulfilled = next(o for o in page.orders if o.order_number == "ALL")
    assert fulfilled.modified_at == datetime(2024, 5, 2, 15, 30, tzinfo=UTC)  # the confirmation moved it on
    root = read_xml(body, what="test")
    assert [tracking_numbers(el) for el in order_elements(root)] == [{"Z123123123123"}, {"Z123123123123"}]


def test_an_order_for_another_warehouse_is_skipped_with_both_names():
    found = only(parse(message(order(warehouse="Reno DC"))))

    assert found.skip_code == OTHER_WAREHOUSE
    assert "Reno DC" in found.skip_reason and "IML Test" in found.skip_reason


def test_the_warehouse_matches_without_case_or_on_the_connection_code():
    by_code = WarehouseFilter(name="Main warehouse", code="iml test")

    assert only(parse(message(order(warehouse="iml TEST")))).skip_code == ""
    assert only(parse(message(order()), warehouse=by_code)).skip_code == ""
    assert only(parse(message(order(warehouse="Reno DC")), warehouse=by_code)).skip_code == OTHER_WAREHOUSE


def test_an_unreadable_order_for_another_warehouse_is_skipped_not_rejected():
    found = only(parse(message(order(warehouse="Reno DC", lines=[line(quantity="two")]))))

    assert found.skip_code == OTHER_WAREHOUSE
    assert found.lines == []


@pytest.mark.parametrize(
    ("bad_line", "reason"),
    [
        (line(quantity="two"), "quantity 'two' is not a number"),
        (line(quantity="1.5"), "not a whole number"),
        (line(quantity="-1"), "negative"),
        (line(line=""), "no salesChannelLineNumber"),
    ],
)
def test_an_unreadable_order_is_rejected_with_a_reason_and_the_others_kept(bad_line, reason):
    page = parse(message(order(number="BAD", lines=[bad_line]), order(number="GOOD")))

    assert [o.order_number for o in page.orders] == ["GOOD"]
    [rejected] = page.rejected
    assert (rejected.cart_order_id, rejected.order_number) == ("BAD", "BAD")
    assert reason in rejected.reason
    assert rejected.raw["salesChannelOrderNumber"] == "BAD"


def test_an_order_without_a_number_is_rejected():
    page = parse(message(order(number="")))

    assert page.orders == []
    assert page.rejected[0].reason == "order has no salesChannelOrderNumber"


def test_an_order_listed_twice_is_kept_once():
    assert len(parse(message(order(), order())).orders) == 1


def test_an_empty_listing_is_an_empty_page():
    page = parse(message())

    assert (page.orders, page.rejected) == ([], [])


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (b"null", "literally `null`"),
        (b"  \n", "empty body"),
        (b"", "empty body"),
        (b"<processedSalesOrderMessage><processedSalesOrder>", "not valid XML"),
        (b"<html><body><h1>HTTP Status 500</h1></body></html>", "<html> where an order listing was expected"),
        (b'{"orders": []}', "not valid XML"),
        (b"<ns2:processedSalesOrderMessage/>", "not valid XML"),  # a prefix nobody declared
        (
            b'<errorResponse xmlns="api.supplieroasis.com"><error><code>BAD_REQUEST</code>'
            b"<message>startTime is required</message></error></errorResponse>",
            "startTime is required",
        ),
    ],
)
def test_a_body_that_is_not_a_listing_is_a_bad_payload(body, says):
    with pytest.raises(BadPayloadError) as caught:
        parse(body)

    assert says in str(caught.value)


def test_a_listing_shorter_than_its_total_count_is_a_bad_payload():
    body = message("<totalCount>3</totalCount>" + order())

    with pytest.raises(BadPayloadError, match="said the window holds 3 orders but sent 1"):
        parse(body)


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE processedSalesOrderMessage [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<processedSalesOrderMessage><processedSalesOrder>
<salesChannelOrderNumber>&secret;</salesChannelOrderNumber></processedSalesOrder></processedSalesOrderMessage>"""

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<processedSalesOrderMessage>&lol3;</processedSalesOrderMessage>"""


@pytest.mark.parametrize("body", [XXE, BILLION_LAUGHS], ids=["xxe", "billion-laughs"])
def test_a_document_declaring_entities_is_refused_unread(body):
    with pytest.raises(BadPayloadError, match="declares a DTD or entities"):
        read_xml(body, what="a test listing")


def test_dates_with_offsets_fractions_z_or_no_zone_read_as_utc():
    assert parse_datetime("2013-06-19T16:54:34.000-06:00") == datetime(2013, 6, 19, 22, 54, 34, tzinfo=UTC)
    assert parse_datetime("2024-05-01T12:00:00Z") == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert parse_datetime("2024-05-01T12:00:00") == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert parse_datetime("yesterday") is None
    assert parse_datetime("") is None


def test_windows_cover_the_range_in_steps_with_a_shorter_last_one():
    start = datetime(2024, 5, 1, 12, tzinfo=UTC)
    end = datetime(2024, 5, 1, 14, 30, tzinfo=UTC)

    found = [(format_datetime(a), format_datetime(b)) for a, b in windows(start, end, 1)]

    assert found == [
        ("2024-05-01T12:00:00Z", "2024-05-01T13:00:00Z"),
        ("2024-05-01T13:00:00Z", "2024-05-01T14:00:00Z"),
        ("2024-05-01T14:00:00Z", "2024-05-01T14:30:00Z"),
    ]
    assert list(windows(end, start, 1)) == []


def test_whole_seconds_round_the_start_down_and_the_end_up():
    moment = datetime(2024, 5, 1, 12, 0, 0, 500000, tzinfo=UTC)

    assert whole_seconds(moment) == datetime(2024, 5, 1, 12, tzinfo=UTC)
    assert whole_seconds(moment, round_up=True) == datetime(2024, 5, 1, 12, 0, 1, tzinfo=UTC)


def test_a_cancel_by_date_is_not_a_cancellation():
    found = only(parse(message(order(extra="<cancelByDate>2024-05-09T00:00:00Z</cancelByDate>"))))

    assert [ln.canceled for ln in found.lines] == [False]
    assert found.cart_status == CART_OPEN
