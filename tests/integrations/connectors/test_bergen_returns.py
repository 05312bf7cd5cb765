"""Tracking and stock levels back from Bergen (Extensiv-modelled): rows read as pure functions with
payloads shaped like Extensiv's documentation, and the real connector against the Bergen sandbox."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from integrations.connectors.bergen.connector import BergenWarehouse
from integrations.connectors.bergen.wire import (
    facility_id_named,
    parse_tracking_row,
    parse_wms_datetime,
    read_stock_row,
    shipped_window_rql,
    sum_stock,
)
from integrations.connectors.bergen.writes import format_order
from integrations.connectors.canonical import Address, ShipmentLine, StockLevel, WarehouseOrder
from integrations.connectors.errors import BadPayloadError
from integrations.outbound import SANDBOX_TOOLING
from sandbox.bergen import BergenSandbox
from tests.integrations.connectors.builders import address, warehouse_order

T0 = datetime(2024, 5, 1, 14, 0, tzinfo=UTC)

# One package as GET /orders/shipmentstrackinginfo documents it (no offset on the date).
TRACKING_ROW = {
    "orderId": 4711,
    "referenceNum": "SQ-1042",
    "poNum": "1042",
    "packageId": 88,
    "carrier": "UPS",
    "carrierService": "Ground",
    "trackingNumber": "1Z999AA10123456784",
    "trackingUrl": "https://www.ups.com/track?tracknum=1Z999AA10123456784",
    "shipDate": "2024-05-01T14:03:07.12",
}


# --- tracking rows (pure) ----------------------------------------------------------------------


def test_a_documented_tracking_row_becomes_one_parcel_with_a_stable_id():
    parcel = parse_tracking_row(TRACKING_ROW)

    assert parcel.warehouse_shipment_id == "4711-88"
    assert parcel.warehouse_order_id == "4711"
    assert parcel.cust_ref == "SQ-1042"
    assert (parcel.carrier, parcel.service) == ("UPS", "Ground")
    assert parcel.tracking_numbers == ["1Z999AA10123456784"]
    assert parcel.tracking_url == TRACKING_ROW["trackingUrl"]
    assert parcel.shipped_at == datetime(2024, 5, 1, 14, 3, 7, 120000, tzinfo=UTC)
    assert parcel.lines == []
    assert parse_tracking_row(dict(TRACKING_ROW)).warehouse_shipment_id == parcel.warehouse_shipment_id


def test_a_packages_items_become_lines_summed_per_sku():
    row = {
        **TRACKING_ROW,
        "items": [
            {"sku": "TEE-M", "qty": 1},
            {"itemIdentifier": {"sku": "MUG", "id": 12}, "qty": "2.0"},
            {"sku": "TEE-M", "qty": 2},
            {"sku": "", "qty": 1},
            {"sku": "CAP", "qty": 0},
            "junk",
        ],
    }

    assert parse_tracking_row(row).lines == [ShipmentLine("TEE-M", 3), ShipmentLine("MUG", 2)]


def test_a_pascal_case_row_is_read_too():
    row = {
        "OrderId": 5,
        "ReferenceNum": "R-5",
        "PackageId": 1,
        "Carrier": "FDX",
        "CarrierService": "2Day",
        "TrackingNumber": "7946",
        "ShipDate": "2024-05-01T10:00:00Z",
    }

    parcel = parse_tracking_row(row)

    assert (parcel.warehouse_shipment_id, parcel.cust_ref, parcel.carrier, parcel.tracking_numbers) == (
        "5-1",
        "R-5",
        "FDX",
        ["7946"],
    )
    assert parcel.shipped_at == datetime(2024, 5, 1, 10, tzinfo=UTC)


def test_a_row_without_a_package_id_is_identified_by_its_tracking_number():
    row = {**TRACKING_ROW, "packageId": None}

    assert parse_tracking_row(row).warehouse_shipment_id == "4711-trk-1Z999AA10123456784"


def test_an_unreadable_row_is_returned_as_read_for_the_pipeline_to_hold():
    parcel = parse_tracking_row({"referenceNum": "SQ-7", "trackingNumber": None, "carrier": None, "shipDate": "?"})

    assert parcel.warehouse_shipment_id == ""
    assert (parcel.cust_ref, parcel.carrier, parcel.tracking_numbers, parcel.shipped_at) == ("SQ-7", "", [], None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-05-01T14:03:07", datetime(2024, 5, 1, 14, 3, 7, tzinfo=UTC)),
        ("2024-05-01T14:03:07.1234567", datetime(2024, 5, 1, 14, 3, 7, 123456, tzinfo=UTC)),
        ("2024-05-01T16:03:07+02:00", datetime(2024, 5, 1, 14, 3, 7, tzinfo=UTC)),
        ("0001-01-01T00:00:00", None),
        ("yesterday", None),
        (None, None),
    ],
)
def test_extensiv_dates_are_read_as_utc(text, expected):
    assert parse_wms_datetime(text) == expected


def test_the_ship_date_window_is_written_without_an_offset_and_without_a_gap():
    after = datetime(2024, 5, 1, 12, 0, 0, 900000, tzinfo=UTC)
    before = datetime(2024, 5, 1, 14, 30, 0, 1, tzinfo=UTC)

    assert shipped_window_rql(after, before) == "shipDate=ge=2024-05-01T12:00:00;shipDate=lt=2024-05-01T14:30:01"


# --- stock rows (pure) -------------------------------------------------------------------------


def summary(sku: str, facility: int, available: float, on_hand: float, qualifier: str = "") -> dict:
    """One row of GET /inventory/stocksummaries as documented (per item, qualifier and facility)."""
    return {
        "facilityId": facility,
        "itemIdentifier": {"id": 100, "sku": sku},
        "qualifier": qualifier,
        "totalReceived": on_hand,
        "allocated": on_hand - available,
        "available": available,
        "onHold": 0,
        "onHand": on_hand,
    }


def test_stock_is_summed_per_sku_over_qualifiers_at_the_facility_only():
    rows = [
        read_stock_row(r)
        for r in (
            summary("TEE-M", 1, 5, 7),
            summary("TEE-M", 1, 3, 3, qualifier="B-grade"),
            summary("TEE-M", 3, 40, 40),
            summary("MUG", 1, 2.75, 4),
        )
    ]

    assert sum_stock(rows, facility_id=1) == [StockLevel("TEE-M", 8, 10), StockLevel("MUG", 2, 4)]


def test_without_a_facility_id_every_facility_is_added_up():
    rows = [read_stock_row(summary("TEE-M", 1, 5, 7)), read_stock_row(summary("TEE-M", 3, 40, 41))]

    assert sum_stock(rows, facility_id=None) == [StockLevel("TEE-M", 45, 48)]


def test_stock_rows_are_read_tolerantly():
    assert read_stock_row({"FacilityId": 2, "Sku": "CAP", "Available": "6", "OnHand": 9}) == ("CAP", 2, 6, 9)
    assert read_stock_row({"itemIdentifier": {"sku": "CAP"}, "available": 1}) == ("CAP", None, 1, None)
    assert read_stock_row({"itemIdentifier": {"id": 9}, "available": 1}) is None
    assert read_stock_row({"itemIdentifier": {"sku": "CAP"}, "available": None}) is None


def test_a_facility_id_is_found_by_name_in_facility_records_and_in_orders():
    facilities = [{"facilityId": 1, "name": "NJ"}, {"facilityId": 3, "name": "West"}]
    order = {"referenceNum": "SQ-1", "readOnly": {"orderId": 9, "facilityIdentifier": {"id": 4, "name": "EU"}}}

    assert facility_id_named(facilities, "west") == 3
    assert facility_id_named([order], "EU") == 4
    assert facility_id_named(facilities + [order], "NJ2") is None


def test_a_numeric_warehouse_setting_is_sent_as_the_facility_id():
    order = warehouse_order(
        "SQ-1",
        ship_to=Address(first_name="Ada", address_1="1 Way", city="Newark", zip="07102", country="US"),
        ship_code="",
        lines=[("TEE-M", 1)],
    )

    assert format_order(order, customer_name="DEMO", facility="2")["facilityIdentifier"] == {"id": 2}
    assert format_order(order, customer_name="DEMO", facility="NJ")["facilityIdentifier"] == {"name": "NJ"}


# --- over HTTP ---------------------------------------------------------------------------------


def connector(sandbox: BergenSandbox, **settings) -> BergenWarehouse:
    return BergenWarehouse(
        base_url=sandbox.base_url,
        outbound=SANDBOX_TOOLING,
        credentials={"username": sandbox.username, "password": sandbox.password},
        settings={"customer_name": sandbox.customer, "facility": "NJ"} | settings,
    )


def order(cust_ref: str, lines: dict[str, int]) -> WarehouseOrder:
    return warehouse_order(cust_ref, ship_to=address(phone="", email=""), lines=lines.items())


@pytest.fixture
def stocked(bergen_sandbox):
    for sku in ("TEE-M", "MUG"):
        bergen_sandbox.add_item(sku, on_hand=20)
    return bergen_sandbox


def window(start: datetime = T0 - timedelta(hours=1), end: datetime = T0 + timedelta(hours=1)) -> dict:
    return {"shipped_after": start, "shipped_before": end}


def test_an_order_shipped_in_two_packages_comes_back_as_two_parcels(stocked):
    bergen = connector(stocked)
    ref = bergen.submit_order(order("SQ-1042", {"TEE-M": 1, "MUG": 2}))
    stocked.ship_order(
        "SQ-1042",
        [
            {
                "carrier": "UPS",
                "service": "Ground",
                "tracking_number": "1ZA",
                "tracking_url": "https://ups.example/1ZA",
                "lines": [{"sku": "TEE-M", "qty": 1}],
            },
            {"carrier": "UPS", "service": "Ground", "tracking_number": "1ZB", "lines": [{"sku": "MUG", "qty": 2}]},
        ],
        ship_date=T0,
    )

    [page] = list(bergen.iter_shipments(**window()))

    first, second = page
    assert {p.warehouse_order_id for p in page} == {ref.warehouse_order_id}
    assert {p.cust_ref for p in page} == {"SQ-1042"}
    assert first.warehouse_shipment_id != second.warehouse_shipment_id
    assert (first.carrier, first.service, first.tracking_numbers, first.tracking_url) == (
        "UPS",
        "Ground",
        ["1ZA"],
        "https://ups.example/1ZA",
    )
    assert second.tracking_numbers == ["1ZB"] and second.tracking_url == ""
    assert (first.lines, second.lines) == ([ShipmentLine("TEE-M", 1)], [ShipmentLine("MUG", 2)])
    assert first.shipped_at == T0
    again = [p.warehouse_shipment_id for p in next(bergen.iter_shipments(**window()))]
    assert again == [first.warehouse_shipment_id, second.warehouse_shipment_id]


def test_only_parcels_shipped_in_the_window_are_read(stocked):
    bergen = connector(stocked)
    for ref, shipped in (("SQ-1", T0 - timedelta(days=1)), ("SQ-2", T0), ("SQ-3", T0 + timedelta(hours=1))):
        bergen.submit_order(order(ref, {"MUG": 1}))
        stocked.ship_order(
            ref, [{"carrier": "USPS", "service": "Priority", "tracking_number": f"94-{ref}"}], ship_date=shipped
        )

    parcels = [p for page in bergen.iter_shipments(**window()) for p in page]

    assert [p.cust_ref for p in parcels] == ["SQ-2"]  # the end of the window is excluded
    request = stocked.requests_to("/orders/shipmentstrackinginfo", "GET")[0]
    assert request.param("rql") == "shipDate=ge=2024-05-01T13:00:00;shipDate=lt=2024-05-01T15:00:00"
    assert request.header("Authorization").startswith("Bearer ")


def test_a_window_with_nothing_shipped_yields_nothing(stocked):
    assert list(connector(stocked).iter_shipments(**window())) == []


def test_every_page_of_the_tracking_feed_is_read(stocked):
    bergen = connector(stocked)
    bergen.submit_order(order("SQ-BIG", {"MUG": 1}))
    packages = [{"carrier": "UPS", "service": "Ground", "tracking_number": f"1Z{i:05d}"} for i in range(1001)]
    stocked.ship_order("SQ-BIG", packages, ship_date=T0)

    pages = list(bergen.iter_shipments(**window()))

    assert [len(p) for p in pages] == [1000, 1]
    assert len({p.warehouse_shipment_id for page in pages for p in page}) == 1001


def test_stock_is_read_for_the_connections_warehouse_summed_per_sku(stocked):
    stocked.add_item("TEE-M", on_hand=50, facility="WEST")
    stocked.add_item("CAP", on_hand=7, facility="WEST")
    bergen = connector(stocked)
    bergen.submit_order(order("SQ-1", {"TEE-M": 3}))  # allocates 3 in NJ

    levels = [level for page in bergen.iter_stock_levels() for level in page]

    assert sorted(levels, key=lambda lv: lv.sku) == [StockLevel("MUG", 20, 20), StockLevel("TEE-M", 17, 20)]
    stock_request = stocked.requests_to("/inventory/stocksummaries", "GET")[-1]
    assert stock_request.param("rql") == "facilityId==1"
    assert stock_request.param("pgsiz") == "500"


def test_the_facility_is_looked_up_once_per_connector(stocked):
    bergen = connector(stocked)
    bergen.submit_order(order("SQ-1", {"MUG": 1}))

    list(bergen.iter_stock_levels())
    list(bergen.iter_stock_levels())

    assert len(stocked.requests_to("/properties/facilities", "GET")) == 1


def test_a_numeric_warehouse_setting_needs_no_lookup(stocked):
    stocked.add_item("TEE-M", on_hand=50, facility="WEST")

    levels = [level for page in connector(stocked, facility="3").iter_stock_levels() for level in page]

    assert levels == [StockLevel("TEE-M", 50, 50)]
    assert stocked.requests_to("/properties/facilities") == [] and stocked.requests_to("/orders", "GET") == []


def test_when_no_facility_can_be_matched_every_facility_is_added_up(stocked):
    stocked.add_item("TEE-M", on_hand=50, facility="WEST")

    levels = {lv.sku: lv for page in connector(stocked).iter_stock_levels() for lv in page}

    assert levels["TEE-M"] == StockLevel("TEE-M", 70, 70)
    assert stocked.requests_to("/inventory/stocksummaries")[-1].param("rql") is None


def test_a_stock_page_in_which_no_row_can_be_read_fails_loudly(stocked):
    body = json.dumps({"totalResults": 1, "summaries": [{"facilityId": 1, "quantity": 5}]})
    stocked.fail_next(1, status=200, path_contains="stocksummaries", body=body)

    with pytest.raises(BadPayloadError, match="no row names an SKU"):
        list(connector(stocked, facility="1").iter_stock_levels())
