"""Bergen's cancels and updates after delivery: the real connector against the Extensiv-model sandbox."""

from __future__ import annotations

import dataclasses

import pytest
import requests

from integrations.connectors.canonical import (
    CHANGE_ALREADY,
    CHANGE_APPLIED,
    WH_CANCELED,
    WH_PICKING,
    WH_RECEIVED,
    WH_SHIPPED,
    WarehouseOrderLine,
)
from integrations.connectors.errors import (
    ChangeRefusedError,
    ChangeTooLateError,
    ChangeUnconfirmedError,
    TemporaryError,
)
from sandbox.bergen import BergenSandbox
from sandbox.server import RecordedRequest
from tests.integrations.connectors.builders import address
from tests.integrations.connectors.test_bergen_http import connector, order


@pytest.fixture
def stocked(bergen_sandbox):
    for sku in ("TEE-M", "MUG", "CAP"):
        bergen_sandbox.add_item(sku)
    return bergen_sandbox


@pytest.fixture
def delivered(stocked):
    """A connector and the order it delivered (TEE-M x1, MUG x2), as the pipeline keeps its reference."""
    bergen = connector(stocked)
    return bergen, bergen.submit_order(order())


def test_the_state_of_a_new_order_is_received_with_its_contents(stocked, delivered):
    bergen, ref = delivered

    state = bergen.order_state(ref)

    assert (state.state, state.platform_status) == (WH_RECEIVED, "open")
    assert {line.sku: line.quantity for line in state.items} == {"TEE-M": 1, "MUG": 2}
    assert state.ship_code == "UPS:Ground" and state.version


def test_the_state_follows_the_order_through_picking_and_shipping(stocked, delivered):
    bergen, ref = delivered

    stocked.advance("SQ-1042", "packed")
    assert (bergen.order_state(ref).state, bergen.order_state(ref).platform_status) == (WH_PICKING, "open, packed")
    stocked.ship_order("SQ-1042", [{"carrier": "UPS", "tracking_number": "1Z1", "lines": []}])
    assert bergen.order_state(ref).state == WH_SHIPPED


def test_a_cancel_in_time_is_sent_under_the_etag_and_confirmed_by_a_read_back(stocked, delivered):
    bergen, ref = delivered

    result = bergen.order_cancel(ref, reason="Customer canceled at the cart")

    assert result.outcome == CHANGE_APPLIED and result.state.state == WH_CANCELED
    assert stocked.order("SQ-1042")["readOnly"]["status"] == 2
    post = stocked.requests_to("/canceler", "POST")[0]
    assert post.header("If-Match") and post.json == {"reason": "Customer canceled at the cart"}
    calls = [(r.method, r.path.rsplit("/", 1)[-1]) for r in stocked.requests_to("/orders/")]
    assert calls == [("GET", ref.warehouse_order_id), ("POST", "canceler"), ("GET", ref.warehouse_order_id)]


def test_a_cancel_sent_again_finds_the_order_canceled_and_sends_nothing(stocked, delivered):
    bergen, ref = delivered
    bergen.order_cancel(ref, reason="Customer canceled")

    again = bergen.order_cancel(ref, reason="Customer canceled")

    assert again.outcome == CHANGE_ALREADY
    assert len(stocked.requests_to("/canceler", "POST")) == 1


def test_a_cancel_once_picking_started_is_too_late_with_the_warehouse_words(stocked, delivered):
    bergen, ref = delivered
    stocked.advance("SQ-1042", "picking")

    with pytest.raises(ChangeTooLateError) as refused:
        bergen.order_cancel(ref, reason="Customer canceled")

    assert refused.value.state == WH_PICKING and "pick started" in refused.value.platform_status
    assert "InUse" in str(refused.value) and "intercept" in str(refused.value)
    assert stocked.order("SQ-1042")["readOnly"]["status"] == 0


def test_a_warehouse_taking_changes_until_confirmation_cancels_an_order_being_picked(stocked, delivered):
    bergen, ref = delivered
    stocked.changes_after_pick = True
    stocked.advance("SQ-1042", "picking")

    assert bergen.order_cancel(ref, reason="Customer canceled").outcome == CHANGE_APPLIED


def test_a_cancel_of_a_shipped_order_is_too_late_without_a_write(stocked, delivered):
    bergen, ref = delivered
    stocked.ship_order("SQ-1042", [{"carrier": "UPS", "tracking_number": "1Z1", "lines": []}])

    with pytest.raises(ChangeTooLateError) as refused:
        bergen.order_cancel(ref, reason="Customer canceled")

    assert refused.value.state == WH_SHIPPED
    assert stocked.requests_to("/canceler") == []


class RacingBergen(BergenSandbox):
    """Changes the order at the warehouse (a new ETag) just before the first cancel arrives."""

    raced = False

    def before_dispatch(self, request: RecordedRequest):
        if request.method == "POST" and request.path.endswith("/canceler") and not self.raced:
            self.raced = True
            order_id = int(request.path.split("/")[-2])
            self._touch(self.orders[order_id - 1], "2024-01-01T00:00:00.000")
        return super().before_dispatch(request)


def test_a_stale_etag_is_read_again_and_the_write_retried_once():
    sandbox = RacingBergen()
    sandbox.start()
    try:
        sandbox.add_item("TEE-M")
        sandbox.add_item("MUG")
        bergen = connector(sandbox)
        ref = bergen.submit_order(order())
        result = bergen.order_cancel(ref, reason="Customer canceled")
        cancels = sandbox.requests_to("/canceler", "POST")
    finally:
        sandbox.stop()
    assert result.outcome == CHANGE_APPLIED
    assert len(cancels) == 2 and cancels[0].header("If-Match") != cancels[1].header("If-Match")


def test_a_write_without_the_etag_is_refused_by_the_sandbox(stocked, delivered):
    bergen, ref = delivered
    bergen.fetch_token()
    url = f"{stocked.base_url}/orders/{ref.warehouse_order_id}/canceler"
    headers = {"Authorization": bergen.api().session.headers["Authorization"], "Content-Type": "application/json"}

    assert requests.post(url, json={"reason": "x"}, headers=headers, timeout=5).status_code == 428


def test_an_update_in_time_changes_ship_to_lines_and_method_and_is_read_back(stocked, delivered):
    bergen, ref = delivered
    moved = dataclasses.replace(address(), address_1="1 New Street", zip="10001", city="New York", state="NY")
    changed = order(ship_to=moved, ship_code="FedEx:2Day", items=[WarehouseOrderLine(1, "CAP", 3)])

    result = bergen.order_update(ref, changed)

    assert result.outcome == CHANGE_APPLIED
    stored = stocked.order("SQ-1042")
    assert stored["shipTo"]["address1"] == "1 New Street" and stored["shipTo"]["zip"] == "10001"
    assert stored["routingInfo"]["carrier"] == "FedEx" and stored["routingInfo"]["mode"] == "2Day"
    assert [(i["itemIdentifier"]["sku"], i["qty"]) for i in stored["orderItems"]] == [("CAP", 3)]
    assert stocked.requests_to(f"/orders/{ref.warehouse_order_id}", "PUT")[0].header("If-Match")


def test_an_update_already_made_sends_nothing(stocked, delivered):
    bergen, ref = delivered

    assert bergen.order_update(ref, order()).outcome == CHANGE_ALREADY
    assert stocked.requests_to("/orders/", "PUT") == []


def test_an_update_once_picking_started_is_too_late(stocked, delivered):
    bergen, ref = delivered
    stocked.advance("SQ-1042", "picked")

    with pytest.raises(ChangeTooLateError):
        bergen.order_update(ref, order(ship_code="FedEx:2Day"))
    assert stocked.order("SQ-1042")["routingInfo"]["carrier"] == "UPS"


def test_an_update_of_an_order_the_warehouse_canceled_is_refused_for_a_person(stocked, delivered):
    bergen, ref = delivered
    stocked.cancel_order("SQ-1042")

    with pytest.raises(ChangeRefusedError, match="canceled"):
        bergen.order_update(ref, order(ship_code="FedEx:2Day"))


def test_an_update_naming_an_unknown_sku_is_refused_for_a_person(stocked, delivered):
    bergen, ref = delivered

    with pytest.raises(ChangeRefusedError, match="NOPE"):
        bergen.order_update(ref, order(items=[WarehouseOrderLine(1, "NOPE", 1)]))


def test_a_cancel_of_some_lines_lowers_the_quantities_and_is_made_once(stocked, delivered):
    bergen, ref = delivered
    canceled = [WarehouseOrderLine(1, "MUG", 1)]

    first = bergen.order_cancel(ref, reason="Line canceled", lines=canceled)
    again = bergen.order_cancel(ref, reason="Line canceled", lines=canceled)

    assert (first.outcome, again.outcome) == (CHANGE_APPLIED, CHANGE_ALREADY)
    stored = stocked.order("SQ-1042")
    assert {i["itemIdentifier"]["sku"]: i["qty"] for i in stored["orderItems"]} == {"TEE-M": 1, "MUG": 1}
    assert stored["readOnly"]["status"] == 0


def test_a_cancel_of_every_line_cancels_the_order(stocked, delivered):
    bergen, ref = delivered

    result = bergen.order_cancel(ref, reason="All lines canceled", lines=ref.items)

    assert result.state.state == WH_CANCELED


def test_an_order_the_warehouse_does_not_have_is_refused(stocked, delivered):
    bergen, ref = delivered

    with pytest.raises(ChangeRefusedError, match="has no order"):
        bergen.order_state(dataclasses.replace(ref, warehouse_order_id="999"))


class ForgetfulBergen(BergenSandbox):
    """Answers a cancel 204 and keeps the order as it was: only the read-back can tell."""

    def _cancel(self, order, reason):
        self._touch(order, "2024-01-01T00:00:00.000")


def test_a_cancel_the_read_back_does_not_show_is_unconfirmed_and_retryable():
    sandbox = ForgetfulBergen()
    sandbox.start()
    try:
        sandbox.add_item("TEE-M")
        sandbox.add_item("MUG")
        bergen = connector(sandbox)
        ref = bergen.submit_order(order())
        with pytest.raises(ChangeUnconfirmedError) as unconfirmed:
            bergen.order_cancel(ref, reason="Customer canceled")
    finally:
        sandbox.stop()
    assert isinstance(unconfirmed.value, TemporaryError) and unconfirmed.value.maybe_delivered
