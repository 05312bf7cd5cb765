"""A warehouse that writes its dates in its own time zone, without an offset (Extensiv shows dates in
warehouse time): with the connection's zone known, the ship date window is written in that zone and
ship dates are read in it; without it, both are UTC (the pipeline widens the window instead)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from integrations.connectors.bergen.connector import BergenWarehouse
from integrations.connectors.bergen.wire import parse_tracking_row, shipped_window_rql
from integrations.connectors.parsing import format_datetime
from integrations.connectors.tradegecko.fulfillments import parse_fulfillment
from integrations.outbound import SANDBOX_TOOLING
from sandbox.bergen import BergenSandbox
from tests.integrations.connectors.builders import warehouse_order

LOS_ANGELES = ZoneInfo("America/Los_Angeles")  # behind UTC: -7 in summer, -8 in winter
AUCKLAND = ZoneInfo("Pacific/Auckland")  # ahead of UTC: +12 in (its) winter, +13 in summer


def row(ship_date: str) -> dict:
    return {"orderId": 7, "packageId": 1, "referenceNum": "SQ-7", "trackingNumber": "1Z1", "shipDate": ship_date}


def test_a_ship_date_without_an_offset_is_read_in_the_warehouse_zone_when_it_is_known():
    assert parse_tracking_row(row("2024-05-01T14:03:07.12"), LOS_ANGELES).shipped_at == datetime(
        2024, 5, 1, 21, 3, 7, 120000, tzinfo=UTC
    )
    assert parse_tracking_row(row("2024-05-02T02:00:00"), AUCKLAND).shipped_at == datetime(2024, 5, 1, 14, tzinfo=UTC)
    # Not known: read as UTC, as before.
    assert parse_tracking_row(row("2024-05-01T14:03:07")).shipped_at == datetime(2024, 5, 1, 14, 3, 7, tzinfo=UTC)


def test_a_ship_date_with_an_offset_or_z_is_read_as_it_says_whatever_the_zone():
    assert parse_tracking_row(row("2024-05-01T14:03:07Z"), AUCKLAND).shipped_at == datetime(
        2024, 5, 1, 14, 3, 7, tzinfo=UTC
    )
    assert parse_tracking_row(row("2024-05-01T14:03:07-05:00"), AUCKLAND).shipped_at == datetime(
        2024, 5, 1, 19, 3, 7, tzinfo=UTC
    )


def test_the_ship_date_window_is_written_in_the_warehouse_zone():
    after = datetime(2024, 5, 1, 12, tzinfo=UTC)
    before = datetime(2024, 5, 1, 14, 30, 0, 500000, tzinfo=UTC)

    assert (
        shipped_window_rql(after, before, AUCKLAND) == "shipDate=ge=2024-05-02T00:00:00;shipDate=lt=2024-05-02T02:30:01"
    )
    assert shipped_window_rql(after, before, LOS_ANGELES) == (
        "shipDate=ge=2024-05-01T05:00:00;shipDate=lt=2024-05-01T07:30:01"
    )
    assert shipped_window_rql(after, before) == "shipDate=ge=2024-05-01T12:00:00;shipDate=lt=2024-05-01T14:30:01"


def test_a_window_across_a_clock_change_covers_every_wall_clock_time_in_it():
    """Los Angeles falls back at 09:00 UTC on 2024-11-03 (02:00 PDT becomes 01:00 PST): 08:30 to 09:30
    UTC is 01:30 PDT to 01:30 PST, which written end by end would be an empty window."""
    after, before = datetime(2024, 11, 3, 8, 30, tzinfo=UTC), datetime(2024, 11, 3, 9, 30, tzinfo=UTC)

    rql = shipped_window_rql(after, before, LOS_ANGELES)

    assert rql == "shipDate=ge=2024-11-03T00:30:00;shipDate=lt=2024-11-03T02:30:00"
    for minutes in range(0, 60, 5):
        wall = (after + timedelta(minutes=minutes)).astimezone(LOS_ANGELES).replace(tzinfo=None)
        assert "2024-11-03T00:30:00" <= wall.isoformat() < "2024-11-03T02:30:00"


def test_tradegecko_reads_a_shipped_at_without_an_offset_in_the_warehouse_zone_and_writes_its_window_in_it():
    fulfillment = {"id": 9, "order_id": 3, "tracking_number": "1Z9", "shipped_at": "2024-05-01T10:00:00"}
    orders = {"3": {"reference_number": "SQ-3"}}

    assert parse_fulfillment(fulfillment, [], {}, {}, orders, zone=LOS_ANGELES).shipped_at == datetime(
        2024, 5, 1, 17, tzinfo=UTC
    )
    assert parse_fulfillment(fulfillment, [], {}, {}, orders).shipped_at == datetime(2024, 5, 1, 10, tzinfo=UTC)
    with_z = {**fulfillment, "shipped_at": "2024-05-01T10:00:00.000Z"}
    assert parse_fulfillment(with_z, [], {}, {}, orders, zone=LOS_ANGELES).shipped_at == datetime(
        2024, 5, 1, 10, tzinfo=UTC
    )
    moment = datetime(2024, 5, 1, 12, 0, 0, 250000, tzinfo=UTC)
    assert format_datetime(moment, round_up=True, zone=LOS_ANGELES) == "2024-05-01T05:00:01-07:00"
    assert format_datetime(moment) == "2024-05-01T12:00:00Z"


# --- against a sandbox writing warehouse time --------------------------------------------------------


def connector(sandbox: BergenSandbox, zone: ZoneInfo | None) -> BergenWarehouse:
    return BergenWarehouse(
        base_url=sandbox.base_url,
        outbound=SANDBOX_TOOLING,
        credentials={"username": sandbox.username, "password": sandbox.password},
        settings={"account_web_address": "https://www.demo.atworkweb.com", "customer_name": sandbox.customer},
        time_zone=zone,
    )


@pytest.mark.parametrize("zone_name", ["America/Los_Angeles", "Pacific/Auckland"])
def test_with_the_zone_known_a_narrow_window_finds_the_parcel_at_its_real_time(zone_name):
    zone = ZoneInfo(zone_name)
    shipped = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
    with BergenSandbox(time_zone=zone_name) as sandbox:
        sandbox.add_item("TEE-M")
        connector(sandbox, zone).submit_order(warehouse_order("SQ-1", lines=[("TEE-M", 1)]))
        sandbox.ship_order("SQ-1", [{"carrier": "UPS", "tracking_number": "1ZTZ1"}], ship_date=shipped)
        assert sandbox.tracking[0]["shipDate"].startswith(shipped.astimezone(zone).strftime("%Y-%m-%dT%H:%M:%S"))

        known = [
            p
            for page in connector(sandbox, zone).iter_shipments(
                shipped_after=shipped - timedelta(minutes=1), shipped_before=shipped + timedelta(minutes=1)
            )
            for p in page
        ]
        unknown = [
            p
            for page in connector(sandbox, None).iter_shipments(
                shipped_after=shipped - timedelta(minutes=1), shipped_before=shipped + timedelta(minutes=1)
            )
            for p in page
        ]

    assert [(p.tracking_numbers, p.shipped_at) for p in known] == [(["1ZTZ1"], shipped)]
    assert unknown == []  # read as UTC, the same narrow window misses it: why an unknown zone widens it
