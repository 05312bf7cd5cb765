"""The real TradeGecko warehouse connector against the TradeGecko sandbox, over loopback HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from integrations.connectors.canonical import ShipmentLine, WarehouseOrder
from integrations.connectors.errors import DuplicateReferenceError, OrderRejectedError
from integrations.connectors.tradegecko.connector import QuickBooksCommerceWarehouse, TradeGeckoWarehouse
from integrations.outbound import SANDBOX_TOOLING
from sandbox.tradegecko import TradeGeckoSandbox
from tests.integrations.connectors.builders import warehouse_order


def warehouse(sandbox: TradeGeckoSandbox, location: int, cls=TradeGeckoWarehouse):
    return cls(
        base_url=sandbox.base_url,
        outbound=SANDBOX_TOOLING,
        credentials={"access_token": sandbox.access_token},
        settings={"stock_location_id": str(location)},
    )


def order(cust_ref: str = "SQ-1042", *skus: tuple[str, int]) -> WarehouseOrder:
    return warehouse_order(
        cust_ref,
        ship_code="UPS Ground",
        lines=[(sku, q, Decimal("12.50")) for sku, q in skus or (("TEE-M", 2), ("MUG", 1))],
        ordered_at=datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
    )


@pytest.fixture
def stocked(tradegecko_sandbox):
    """A sandbox with TEE-M and MUG in stock at a location of its own (the connection's)."""
    location = tradegecko_sandbox.add_location("Orderbridge DC")
    tradegecko_sandbox.add_variant("TEE-M", stock=30, location_id=location)
    tradegecko_sandbox.add_variant("MUG", stock=5, location_id=location)
    return tradegecko_sandbox, location


def test_an_order_is_created_at_the_location_with_its_reference_and_found_again(stocked):
    sandbox, location = stocked
    connector = warehouse(sandbox, location)

    ref = connector.submit_order(order())

    created = sandbox.order(int(ref.warehouse_order_id))
    assert ref.cust_ref == "SQ-1042"
    assert created["reference_number"] == "SQ-1042"
    assert created["stock_location_id"] == location
    assert "Cart order 1042" in created["notes"]
    assert {(line["sku"], Decimal(str(line["quantity"]))) for line in sandbox.order_lines(created["id"])} >= {
        ("TEE-M", Decimal(2)),
        ("MUG", Decimal(1)),
    }
    assert sandbox.requests_to("/orders", "POST")[0].header("Idempotency-Key")
    found = warehouse(sandbox, location).find_order("SQ-1042")
    assert found is not None and found.warehouse_order_id == ref.warehouse_order_id
    assert warehouse(sandbox, location).find_order("SQ-104") is None


def test_the_create_answer_gives_the_order_number_but_no_lines_so_the_order_is_looked_up(stocked):
    sandbox, location = stocked

    ref = warehouse(sandbox, location).submit_order(order())

    assert ref.cust_po_no == "1042"  # from the notes the created order carries
    assert ref.items is None  # the answer lists line ids only: the pipeline reads the order back


def test_orders_found_by_reference_are_read_back_as_they_were_sent(stocked):
    sandbox, location = stocked
    connector = warehouse(sandbox, location)
    connector.submit_order(order())

    [found] = warehouse(sandbox, location).find_orders("SQ-1042")

    assert found.cust_po_no == "1042"  # the first line of the notes we wrote
    assert sorted((line.sku, line.quantity) for line in found.items) == [("MUG", 1), ("TEE-M", 2)]
    assert (found.ship_to.full_name, found.ship_to.address_1, found.ship_to.zip) == (
        "Ada Lovelace",
        "12 Analytical Way",
        "07102",
    )
    assert warehouse(sandbox, location).find_orders("SQ-104") == []


def test_the_same_reference_twice_is_a_duplicate(stocked):
    sandbox, location = stocked
    warehouse(sandbox, location).submit_order(order())

    with pytest.raises(DuplicateReferenceError, match="SQ-1042"):
        warehouse(sandbox, location).submit_order(order("SQ-1042", ("MUG", 3)))
    assert sandbox.duplicate_count() == 0


def test_skus_are_resolved_in_one_batch_and_remembered(stocked):
    sandbox, location = stocked
    connector = warehouse(sandbox, location)

    connector.submit_order(order("SQ-1"))
    connector.submit_order(order("SQ-2", ("MUG", 1), ("TEE-M", 1)))

    lookups = sandbox.requests_to("/variants", "GET")
    assert len(lookups) == 1
    assert sorted(lookups[0].query["sku[]"]) == ["MUG", "TEE-M"]


def test_an_unknown_sku_is_held_without_sending_the_order(stocked):
    sandbox, location = stocked

    with pytest.raises(OrderRejectedError) as exc:
        warehouse(sandbox, location).submit_order(order("SQ-3", ("TEE-M", 1), ("NOPE-1", 1)))

    assert exc.value.reason_code == "unknown_sku"
    assert exc.value.skus == ["NOPE-1"]
    assert sandbox.requests_to("/orders", "POST") == []


def test_a_sku_two_variants_carry_is_named_not_guessed(stocked):
    sandbox, location = stocked
    sandbox.add_variant("MUG", stock=1, location_id=location)

    with pytest.raises(OrderRejectedError, match="not guaranteed unique") as exc:
        warehouse(sandbox, location).submit_order(order("SQ-4"))

    assert exc.value.reason_code == "warehouse_rejected"
    assert exc.value.skus == ["MUG"]
    assert sandbox.requests_to("/orders", "POST") == []


def test_the_skus_are_listed(stocked):
    sandbox, location = stocked

    assert warehouse(sandbox, location).list_skus() == {"TEE-M", "MUG"}


def test_shipments_are_read_from_fulfillments_with_their_lines(stocked):
    sandbox, location = stocked
    connector = warehouse(sandbox, location)
    connector.submit_order(order())
    sandbox.add_order("SO-OTHER", lines=[{"sku": "MUG", "quantity": 1}], stock_location_id=location)
    sandbox.fulfil("SO-OTHER")  # the merchant's own order, not one of ours
    shipped = datetime.now(UTC)
    sandbox.fulfil(
        "SQ-1042",
        packages=[
            {
                "tracking_number": "1ZA",
                "tracking_company": "UPS",
                "service": "Ground",
                "lines": [{"sku": "TEE-M", "quantity": 2}],
            },
            {
                "tracking_number": "1ZB",
                "tracking_company": "UPS",
                "service": "Ground",
                "tracking_url": "https://www.ups.com/track?tracknum=1ZB",
                "lines": [{"sku": "MUG", "quantity": 1}],
            },
        ],
        shipped_at=shipped,
    )

    parcels = [
        p
        for page in connector.iter_shipments(
            shipped_after=shipped - timedelta(hours=1), shipped_before=shipped + timedelta(minutes=5)
        )
        for p in page
    ]

    assert sorted((p.cust_ref, p.tracking_numbers[0], p.carrier) for p in parcels) == [
        ("SQ-1042", "1ZA", "UPS"),
        ("SQ-1042", "1ZB", "UPS"),
    ]
    by_number = {p.tracking_numbers[0]: p for p in parcels}
    assert by_number["1ZA"].lines == [ShipmentLine(sku="TEE-M", quantity=2)]
    assert by_number["1ZB"].lines == [ShipmentLine(sku="MUG", quantity=1)]
    assert by_number["1ZB"].tracking_url == "https://www.ups.com/track?tracknum=1ZB"
    assert all(p.warehouse_shipment_id and p.shipped_at for p in parcels)
    assert sandbox.requests_to("/fulfillments", "GET")[0].param("updated_at_min")


def test_stock_is_read_at_the_connection_location(stocked):
    sandbox, location = stocked
    sandbox.add_variant("CAP", stock=9)  # at the primary location only

    levels = {lv.sku: lv for page in warehouse(sandbox, location).iter_stock_levels() for lv in page}

    assert {sku: (lv.available, lv.on_hand) for sku, lv in levels.items()} == {
        "TEE-M": (30, 30),
        "MUG": (5, 5),
        "CAP": (0, 0),
    }


def test_quickbooks_commerce_is_the_same_warehouse(stocked):
    sandbox, location = stocked

    ref = warehouse(sandbox, location, cls=QuickBooksCommerceWarehouse).submit_order(order("QB-1"))

    assert sandbox.order(int(ref.warehouse_order_id))["reference_number"] == "QB-1"


def test_a_create_whose_reply_was_lost_is_resent_under_the_same_key_and_made_once(stocked):
    sandbox, location = stocked
    sandbox.fail_next(1, mode="after_drop", path_contains="/orders", method="POST")

    ref = warehouse(sandbox, location).submit_order(order())

    posts = sandbox.requests_to("/orders", "POST")
    assert len(posts) == 2
    assert posts[0].header("Idempotency-Key") == posts[1].header("Idempotency-Key")
    assert len(sandbox.orders_by_reference()["SQ-1042"]) == 1
    assert sandbox.duplicate_count() == 0
    assert ref.warehouse_order_id == str(sandbox.orders_by_reference()["SQ-1042"][0]["id"])


def test_an_address_tradegecko_refuses_holds_the_order_for_the_address(stocked):
    sandbox, location = stocked
    no_street = order("SQ-5")
    no_street.ship_to.address_1 = ""

    with pytest.raises(OrderRejectedError, match="address1") as exc:
        warehouse(sandbox, location).submit_order(no_street)

    assert exc.value.reason_code == "missing_address"
    assert sandbox.orders_by_reference().get("SQ-5") in (None, [])
