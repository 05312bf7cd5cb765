"""Bad input, property-based: every connector's parser turns a doc-shaped payload, however mangled,
into a valid canonical object or rejects it with a clear reason (its documented exception, with a
message) — and never raises anything else.

"Valid" means what the pipeline relies on: ids and texts are strings, quantities whole numbers a
warehouse and our database can hold (0 to 2**31 - 1), prices finite, times aware and in UTC, and
every order of a page accounted for (parsed or rejected).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from integrations.connectors.bergen import wire as bergen_wire
from integrations.connectors.canonical import (
    CART_CANCELED,
    CART_FULFILLED,
    CART_OPEN,
    CART_OTHER,
    CART_PARTIAL,
    Address,
    CartOrder,
    RejectedCartOrder,
    Shipment,
    WarehouseOrderRef,
)
from integrations.connectors.errors import BadPayloadError
from integrations.connectors.overstock import wire as overstock_orders
from integrations.connectors.overstock import xml as overstock_xml
from integrations.connectors.squarespace import wire as squarespace_wire
from integrations.connectors.tradegecko import wire as tradegecko_wire
from tests.integrations.connectors import strategies as s

MAX_QUANTITY = 2**31 - 1  # OrderLine.quantity is an integer column (PostgreSQL: 4 bytes)
STATUSES = {CART_OPEN, CART_PARTIAL, CART_FULFILLED, CART_CANCELED, CART_OTHER}
ADDRESS_FIELDS = [f for f in Address.__dataclass_fields__]

# No example database: a failure found is shrunk and shown; the bugs' explicit @examples make them repeat.
fast = settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def clear(exc: Exception) -> None:
    assert str(exc).strip(), f"{type(exc).__name__} without a message"


def assert_utc(moment: Any) -> None:
    assert moment is None or (isinstance(moment, datetime) and moment.utcoffset() == timedelta(0)), moment


def assert_count(value: Any, *, positive: bool = False) -> None:
    assert isinstance(value, int) and not isinstance(value, bool), repr(value)
    assert (1 if positive else 0) <= value <= MAX_QUANTITY, value


def assert_level(value: Any) -> None:
    """A stock level: a whole number our integer columns hold (it may be negative)."""
    assert isinstance(value, int) and not isinstance(value, bool), repr(value)
    assert -MAX_QUANTITY <= value <= MAX_QUANTITY, value


def assert_canonical_order(order: CartOrder) -> None:
    assert isinstance(order, CartOrder)
    for name in ("cart_order_id", "order_number"):
        value = getattr(order, name)
        assert isinstance(value, str) and value.strip() == value and value, (name, value)
    assert order.cart_status in STATUSES
    assert_utc(order.ordered_at)
    assert_utc(order.modified_at)
    for address in filter(None, (order.ship_to, order.bill_to)):
        assert isinstance(address, Address)
        assert all(isinstance(getattr(address, f), str) for f in ADDRESS_FIELDS), address
    assert isinstance(order.email, str) and isinstance(order.ship_method, str)
    assert isinstance(order.is_test, bool)
    numbers = [line.line_no for line in order.lines]
    assert len(set(numbers)) == len(numbers), numbers
    for line in order.lines:
        assert_count(line.line_no, positive=True)
        assert_count(line.quantity)
        assert isinstance(line.sku, str) and isinstance(line.description, str)
        assert isinstance(line.cart_line_id, str) and isinstance(line.cart_item_key, str)
        assert isinstance(line.price, Decimal) and line.price.is_finite(), line.price


def assert_rejection(rejected: RejectedCartOrder) -> None:
    assert isinstance(rejected, RejectedCartOrder)
    assert isinstance(rejected.cart_order_id, str) and isinstance(rejected.order_number, str)
    assert rejected.reason.strip(), rejected


# --- Squarespace: order JSON --------------------------------------------------------------------


@fast
@given(s.adversarial_squarespace_orders)
@example({"id": "a1", "orderNumber": "1", "createdOn": "9999-12-31T23:59:59-05:00", "lineItems": []})
@example({"id": "a1", "orderNumber": "1", "modifiedOn": "0001-01-01T00:00:00+05:30", "lineItems": []})
@example({"id": "a1", "orderNumber": "1", "lineItems": [{"sku": "S", "quantity": "1E+20"}]})
@example({"id": "a1", "orderNumber": "1", "lineItems": [{"sku": "S", "quantity": 3_000_000_000}]})
def test_a_squarespace_order_is_parsed_into_a_valid_order_or_rejected_with_a_reason(payload):
    try:
        order = squarespace_wire.parse_order(payload)
    except squarespace_wire.UnreadableOrder as exc:
        clear(exc)
    else:
        assert_canonical_order(order)


@fast
@given(
    st.lists(s.adversarial_squarespace_orders, max_size=4),
    st.one_of(
        st.just({"hasNextPage": False, "nextPageCursor": None, "nextPageUrl": None}),
        s.mutated(st.just({"hasNextPage": True, "nextPageCursor": "abc", "nextPageUrl": None})),
        s.garbage,
    ),
)
@example([{"id": "a1", "orderNumber": "1", "lineItems": [{"sku": "S", "quantity": "1E+20"}]}, None], {})
def test_a_squarespace_page_accounts_for_every_order_or_is_refused_whole(orders, pagination):
    try:
        page, cursor = squarespace_wire.parse_page({"result": orders, "pagination": pagination})
    except BadPayloadError as exc:
        clear(exc)
        return
    assert cursor is None or (isinstance(cursor, str) and cursor)
    assert len(page.orders) + len(page.rejected) == len(orders)
    for order in page.orders:
        assert_canonical_order(order)
    for rejected in page.rejected:
        assert_rejection(rejected)


# --- TradeGecko: order, lines, variants and addresses assembled -------------------------------------


def tradegecko_page(bundle: Any, location: str):
    """What `TradeGeckoCart._order_page` does with the records it fetched (records() drops non-objects)."""
    bundle = bundle if isinstance(bundle, dict) else {}
    orders = tradegecko_wire.records({"orders": [bundle.get("order")]}, "orders")
    lines = tradegecko_wire.records({"order_line_items": bundle.get("lines")}, "order_line_items")
    found = {}
    for root in ("variants", "addresses"):
        found[root] = {
            tradegecko_wire.text(item.get("id")): item
            for item in tradegecko_wire.records({root: bundle.get(root)}, root)
        }
    return orders, tradegecko_wire.parse_order_page(
        orders, lines, found["variants"], found["addresses"], required_location_id=location
    )


@fast
@given(s.mutated(s.tradegecko_bundles(), s.TRADEGECKO_FIELDS, max_mutations=5), st.sampled_from(["", "3", "7"]))
@example(
    {"order": {"id": 1, "order_number": "SO1", "order_line_item_ids": 7}, "lines": [], "variants": [], "addresses": []},
    "",
)
@example(
    {
        "order": {"id": 1, "order_number": "SO1", "order_line_item_ids": [5]},
        "lines": [{"id": 5, "order_id": 1, "variant_id": 9, "quantity": "1E+20", "line_type": "product"}],
        "variants": [{"id": 9, "sku": "S"}],
        "addresses": [],
    },
    "",
)
@example(  # a price too large to discount (found by this test on 2026-12-03)
    {
        "order": {"id": 1, "order_number": "SO1", "order_line_item_ids": [5]},
        "lines": [{"id": 5, "order_id": 1, "variant_id": 9, "quantity": "1", "price": "1e999", "discount": "10.0"}],
        "variants": [{"id": 9, "sku": "S"}],
        "addresses": [],
    },
    "",
)
@example(
    {"order": {"id": 1, "order_number": "SO1", "updated_at": "9999-12-31T23:59:59-05:00"}, "lines": []}
    | {"variants": [], "addresses": []},
    "",
)
def test_a_tradegecko_order_is_assembled_into_a_valid_order_or_rejected_with_a_reason(bundle, location):
    try:
        orders, (parsed, rejected) = tradegecko_page(bundle, location)
    except BadPayloadError as exc:  # a listing whose records are not a list: the page is refused
        clear(exc)
        return
    assert len(parsed) + len(rejected) == len(orders)
    for order in parsed:
        assert_canonical_order(order)
        if order.skip_code:
            assert order.skip_reason.strip()
    for item in rejected:
        assert_rejection(item)


# --- Overstock: order XML -----------------------------------------------------------------------


def xml_line_ends(text: str) -> str:
    """What an XML reader sees of a text: every CR and CRLF becomes LF (XML 1.0, section 2.11)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@fast
@given(s.overstock_listings(), st.sampled_from([None, overstock_orders.WarehouseFilter(name="IML Test")]))
@example(s.overstock_listing(("OSTK-1", "1"), ("OSTK-2", "3000000000")), None)
@example(s.overstock_listing(("0\r0", "1")), None)
def test_an_overstock_listing_gives_valid_orders_and_reasons_or_is_refused_whole(listing, warehouse):
    body, built = listing
    try:
        page = overstock_orders.parse_orders(overstock_xml.read_xml(body, what="a test listing"), warehouse=warehouse)
    except BadPayloadError as exc:
        clear(exc)
        return
    for order in page.orders:
        assert_canonical_order(order)
    for rejected in page.rejected:
        assert_rejection(rejected)
    numbers = {xml_line_ends(overstock_xml.text(o, "salesChannelOrderNumber")) for o in built}
    accounted = {o.cart_order_id for o in page.orders} | {r.cart_order_id for r in page.rejected}
    assert numbers <= accounted | {""}, numbers - accounted


SUPERSCRIPT_LINE = b"""<processedSalesOrderMessage><processedSalesOrder>
<salesChannelOrderNumber>OSTK-1</salesChannelOrderNumber>
<processedSalesOrderLine><salesChannelLineNumber>\xc2\xb2</salesChannelLineNumber><partnerSKU>S</partnerSKU>
<quantity>1</quantity></processedSalesOrderLine></processedSalesOrder></processedSalesOrderMessage>"""
HUGE_LINE_NUMBER = SUPERSCRIPT_LINE.replace(b"\xc2\xb2", b"99999999999")


def test_an_overstock_line_number_that_is_a_digit_but_not_a_number_is_read_or_rejected():
    """`"²".isdigit()` is true but `int("²")` raises: the line numbering must not take it for a number."""
    page = overstock_orders.parse_orders(overstock_xml.read_xml(SUPERSCRIPT_LINE, what="a listing"))

    for order in page.orders:
        assert_canonical_order(order)
    assert len(page.orders) + len(page.rejected) == 1


def test_an_overstock_line_number_too_big_for_a_line_number_is_not_used_as_one():
    page = overstock_orders.parse_orders(overstock_xml.read_xml(HUGE_LINE_NUMBER, what="a listing"))

    [order] = page.orders
    assert_canonical_order(order)


@pytest.mark.parametrize("quantity", [b"3000000000", b"1E+20", b"1" * 400])
def test_an_overstock_quantity_no_warehouse_or_column_holds_is_rejected_with_a_reason(quantity):
    body = SUPERSCRIPT_LINE.replace(b"\xc2\xb2", b"1").replace(b"<quantity>1<", b"<quantity>" + quantity + b"<")
    page = overstock_orders.parse_orders(overstock_xml.read_xml(body, what="a listing"))

    for order in page.orders:
        assert_canonical_order(order)
    for rejected in page.rejected:
        assert_rejection(rejected)


def test_an_overstock_total_count_that_is_a_digit_but_not_a_number_refuses_the_listing_with_a_reason():
    body = SUPERSCRIPT_LINE.replace(b"<processedSalesOrder>", b"<totalCount>\xc2\xb2</totalCount><processedSalesOrder>")
    page = overstock_orders.parse_orders(overstock_xml.read_xml(body, what="a listing"))

    assert [o.cart_order_id for o in page.orders] + [r.cart_order_id for r in page.rejected] == ["OSTK-1"]


def test_an_overstock_total_count_too_big_to_hold_says_the_listing_is_cut_short():
    body = SUPERSCRIPT_LINE.replace(
        b"<processedSalesOrder>", b"<totalCount>" + b"9" * 5000 + b"</totalCount><processedSalesOrder>"
    )
    try:
        overstock_orders.parse_orders(overstock_xml.read_xml(body, what="a listing"))
    except BadPayloadError as exc:
        assert "cut short" in str(exc)
    else:
        raise AssertionError("a listing claiming 10**5000 orders was taken as complete")


def test_an_overstock_order_with_deeply_nested_garbage_is_parsed_or_rejected_with_a_reason():
    """Nested garbage 5000 elements deep inside one order (the XML itself is well-formed)."""
    deep = b"<x>" * 5000 + b"1" + b"</x>" * 5000
    body = SUPERSCRIPT_LINE.replace(b"\xc2\xb2", b"1").replace(
        b"</processedSalesOrder>", deep + b"</processedSalesOrder>"
    )
    page = overstock_orders.parse_orders(overstock_xml.read_xml(body, what="a listing"))

    for order in page.orders:
        assert_canonical_order(order)
    for rejected in page.rejected:
        assert_rejection(rejected)
    assert len(page.orders) + len(page.rejected) == 1


def test_an_overstock_body_with_characters_xml_cannot_hold_is_refused_as_bad_payload():
    body = SUPERSCRIPT_LINE.replace(b"<partnerSKU>S<", b"<partnerSKU>S\x00\x01<")
    try:
        overstock_xml.read_xml(body, what="a listing")
    except BadPayloadError as exc:
        assert "not valid XML" in str(exc)
    else:
        raise AssertionError("an XML body with NUL was read")


# --- Bergen (Extensiv): shipments, stock and order references ---------------------------------------


def assert_shipment(parcel: Shipment) -> None:
    assert isinstance(parcel, Shipment)
    for name in ("warehouse_shipment_id", "cust_ref", "carrier", "service", "tracking_url", "warehouse_order_id"):
        assert isinstance(getattr(parcel, name), str), name
    assert all(isinstance(n, str) and n for n in parcel.tracking_numbers)
    assert_utc(parcel.shipped_at)
    for line in parcel.lines:
        assert isinstance(line.sku, str) and line.sku
        assert_count(line.quantity, positive=True)


@fast
@given(s.mutated(s.bergen_tracking_rows(), s.BERGEN_FIELDS, max_mutations=5))
@example({"orderId": 1, "packageId": 2, "trackingNumber": "1Z", "shipDate": "9999-12-31T23:59:59-05:00"})
@example({"orderId": 1, "packageId": 2, "items": [{"sku": "S", "qty": "1E+20"}]})
def test_a_bergen_tracking_row_becomes_a_parcel_never_an_exception(row):
    body = {"totalResults": 1, "_embedded": {bergen_wire.TRACKING_REL: [row]}}
    for record in bergen_wire.embedded_list(body, bergen_wire.TRACKING_REL):
        assert_shipment(bergen_wire.parse_tracking_row(record))


@fast
@given(s.mutated(st.lists(s.bergen_stock_rows(), min_size=1, max_size=4), s.BERGEN_FIELDS, max_mutations=5))
@example([{"itemIdentifier": {"sku": "S"}, "available": "1E+20"}])
@example([{"itemIdentifier": {"sku": "S"}, "available": 3, "onHand": -7}])
def test_bergen_stock_rows_are_read_or_left_out_never_an_exception(rows):
    body = {"totalResults": len(rows), "_embedded": {"item": rows}}
    read = []
    for record in bergen_wire.embedded_list(body):
        row = bergen_wire.read_stock_row(record)
        if row is None:
            continue
        sku, facility, available, on_hand = row
        assert isinstance(sku, str) and sku
        assert facility is None or (isinstance(facility, int) and not isinstance(facility, bool))
        assert_level(available)  # negative is possible (allocated beyond on hand): the pipeline clamps it
        assert on_hand is None or assert_level(on_hand) is None
        read.append(row)
    for level in bergen_wire.sum_stock(read, facility_id=1) + bergen_wire.sum_stock(read, facility_id=None):
        assert isinstance(level.available, int)


@fast
@given(s.mutated(s.bergen_order_records(), s.BERGEN_FIELDS, max_mutations=5))
@example({"referenceNum": "R-1", "readOnly": {"orderId": 5, "status": float("inf")}})
@example({"referenceNum": "R-1", "readOnly": {"orderId": {"id": 5}}})
@example({"referenceNum": "R-1", "readOnly": {"orderId": True}})
def test_a_bergen_order_record_gives_its_reference_or_none_never_an_exception(record):
    ref = bergen_wire.order_ref(record) if isinstance(record, dict) else None
    if ref is None:
        return
    assert isinstance(ref, WarehouseOrderRef)
    pick = bergen_wire.pick
    raw = pick(pick(record, "readOnly", "ReadOnly") or {}, "orderId", "OrderId") or pick(record, "orderId", "OrderId")
    assert not isinstance(raw, (bool, dict, list)), f"an order id read from {raw!r}"
    assert isinstance(ref.warehouse_order_id, str) and ref.warehouse_order_id
    assert isinstance(ref.cust_ref, str) and isinstance(ref.status, str)


@fast
@given(
    s.mutated(
        st.builds(
            lambda rows: {"totalResults": len(rows), "_embedded": {"item": rows}},
            st.lists(s.bergen_order_records(), max_size=3),
        ),
        s.BERGEN_FIELDS,
    )
)
@example({"totalResults": float("inf"), "_embedded": {"item": []}})
@example({"totalResults": "1e5", "_embedded": {"item": []}})
def test_a_bergen_list_body_gives_its_records_and_count_or_is_refused(body):
    try:
        records = bergen_wire.embedded_list(body)
    except BadPayloadError as exc:
        clear(exc)
        return
    assert all(isinstance(r, dict) for r in records)
    total = bergen_wire.total_results(body)
    assert total is None or (isinstance(total, int) and not isinstance(total, bool))
