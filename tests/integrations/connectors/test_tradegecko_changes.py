"""TradeGecko (as the warehouse) cancels and updates after delivery: the real connector against the sandbox."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest

from integrations.connectors.canonical import (
    CHANGE_ALREADY,
    CHANGE_APPLIED,
    WH_CANCELED,
    WH_PICKING,
    WH_RECEIVED,
    WH_SHIPPED,
    WarehouseOrderLine,
)
from integrations.connectors.errors import ChangeRefusedError, ChangeTooLateError
from tests.integrations.connectors.builders import address
from tests.integrations.connectors.test_tradegecko_warehouse_http import order, warehouse


@pytest.fixture
def delivered(tradegecko_sandbox):
    """The connector, the sandbox and an order it delivered (TEE-M x2, MUG x1), with its lines as sent."""
    location = tradegecko_sandbox.add_location("Orderbridge DC")
    for sku in ("TEE-M", "MUG", "CAP"):
        tradegecko_sandbox.add_variant(sku, stock=30, location_id=location)
    connector = warehouse(tradegecko_sandbox, location)
    ref = connector.submit_order(order())
    return connector, tradegecko_sandbox, dataclasses.replace(ref, items=order().items)


def units(sandbox, ref) -> dict[str, Decimal]:
    return {
        line["sku"]: Decimal(str(line["quantity"]))
        for line in sandbox.order_lines(int(ref.warehouse_order_id))
        if line["line_type"] == "product"
    }


def test_the_state_follows_the_order_from_received_to_packed_to_shipped(delivered):
    connector, sandbox, ref = delivered

    state = connector.order_state(ref)
    assert (state.state, state.platform_status) == (WH_RECEIVED, "active, unpacked, unshipped")
    assert state.ship_code == "UPS Ground" and {i.sku: i.quantity for i in state.items} == {"TEE-M": 2, "MUG": 1}
    sandbox.advance(int(ref.warehouse_order_id), "picking")
    assert connector.order_state(ref).state == WH_PICKING
    (packed,) = [f for f in sandbox.store.fulfillments.values() if f["order_id"] == int(ref.warehouse_order_id)]
    with sandbox.lock:
        sandbox.store.update_fulfillment(packed, {"status": "fulfilled"})
    assert connector.order_state(ref).state == WH_SHIPPED


def test_a_cancel_in_time_voids_the_order_and_is_read_back(delivered):
    connector, sandbox, ref = delivered

    result = connector.order_cancel(ref, reason="Customer canceled at the cart")

    assert (result.outcome, result.state.state) == (CHANGE_APPLIED, WH_CANCELED)
    stored = sandbox.order(int(ref.warehouse_order_id))
    assert stored["status"] == "void" and "Customer canceled at the cart" in stored["notes"]
    assert connector.order_cancel(ref, reason="again").outcome == CHANGE_ALREADY
    assert len(sandbox.requests_to(f"/orders/{ref.warehouse_order_id}", "PUT")) == 1


def test_a_cancel_once_packed_is_too_late_and_the_order_stays(delivered):
    connector, sandbox, ref = delivered
    sandbox.advance(int(ref.warehouse_order_id), "picking")

    with pytest.raises(ChangeTooLateError) as refused:
        connector.order_cancel(ref, reason="Customer canceled")

    assert refused.value.state == WH_PICKING and "packed" in refused.value.platform_status
    assert sandbox.order(int(ref.warehouse_order_id))["status"] == "active"


def test_a_cancel_of_a_shipped_order_is_too_late_without_a_write(delivered):
    connector, sandbox, ref = delivered
    sandbox.fulfil(int(ref.warehouse_order_id))

    with pytest.raises(ChangeTooLateError):
        connector.order_cancel(ref, reason="Customer canceled")
    assert sandbox.requests_to(f"/orders/{ref.warehouse_order_id}", "PUT") == []


def test_a_cancel_of_some_lines_lowers_and_deletes_them_once(delivered):
    connector, sandbox, ref = delivered
    canceled = [WarehouseOrderLine(1, "TEE-M", 1), WarehouseOrderLine(2, "MUG", 1)]

    first = connector.order_cancel(ref, reason="Lines canceled", lines=canceled)
    again = connector.order_cancel(ref, reason="Lines canceled", lines=canceled)

    assert (first.outcome, again.outcome) == (CHANGE_APPLIED, CHANGE_ALREADY)
    assert units(sandbox, ref) == {"TEE-M": Decimal(1)}
    assert sandbox.order(int(ref.warehouse_order_id))["status"] == "active"


def test_an_update_moves_the_address_changes_lines_and_method_and_is_read_back(delivered):
    connector, sandbox, ref = delivered
    moved = dataclasses.replace(address(), address_1="1 New Street", city="New York", zip="10001")
    changed = dataclasses.replace(
        order(),
        ship_to=moved,
        ship_code="FedEx 2Day",
        items=[WarehouseOrderLine(1, "TEE-M", 3), WarehouseOrderLine(2, "CAP", 1)],
    )

    result = connector.order_update(ref, changed)

    assert result.outcome == CHANGE_APPLIED and result.state.ship_code == "FedEx 2Day"
    assert units(sandbox, ref) == {"TEE-M": Decimal(3), "CAP": Decimal(1)}
    stored = sandbox.order(int(ref.warehouse_order_id))
    assert sandbox.store.addresses[stored["shipping_address_id"]]["address1"] == "1 New Street"
    assert connector.order_update(ref, changed).outcome == CHANGE_ALREADY


def test_an_update_once_packed_is_too_late(delivered):
    connector, sandbox, ref = delivered
    sandbox.advance(int(ref.warehouse_order_id), "picking")

    with pytest.raises(ChangeTooLateError):
        connector.order_update(ref, dataclasses.replace(order(), items=[WarehouseOrderLine(1, "TEE-M", 5)]))
    assert units(sandbox, ref) == {"TEE-M": Decimal(2), "MUG": Decimal(1)}


def test_an_update_of_a_voided_order_is_refused_for_a_person(delivered):
    connector, sandbox, ref = delivered
    sandbox.update_order(int(ref.warehouse_order_id), status="void")

    with pytest.raises(ChangeRefusedError, match="voided"):
        connector.order_update(ref, dataclasses.replace(order(), ship_code="FedEx 2Day"))
