"""The Bergen sandbox's orders after creation: stages, the canceler and the update, as Extensiv documents
them (ETag and If-Match, 428 and 412, 403 OperationException refusals)."""

from __future__ import annotations

import pytest

from tests.sandbox.test_bergen_sandbox import assert_error, client, order_body


@pytest.fixture
def stocked(bergen_sandbox):
    bergen_sandbox.add_item("SKU-1", on_hand=10)
    bergen_sandbox.add_item("SKU-3", on_hand=10)
    return bergen_sandbox


@pytest.fixture
def created(stocked):
    session = client(stocked)
    response = session.post(stocked.base_url + "/orders", json=order_body())
    assert response.status_code == 201, response.text
    return session, response.json()["readOnly"]["orderId"], response.headers["ETag"]


def level(sandbox, sku):
    return next(s for s in sandbox.stock if s.sku == sku)


def test_a_write_needs_if_match_428_and_the_current_etag_412(stocked, created):
    session, order_id, _ = created
    url = f"{stocked.base_url}/orders/{order_id}/canceler"

    assert_error(session.post(url, json={"reason": "x"}), 428, "PreconditionRequired")
    assert_error(session.post(url, json={"reason": "x"}, headers={"If-Match": '"stale"'}), 412, "PreconditionFailed")
    assert stocked.order("SQ-1001")["readOnly"]["status"] == 0


def test_a_cancel_needs_a_reason_then_answers_204_and_releases_the_allocation(stocked, created):
    session, order_id, etag = created
    url = f"{stocked.base_url}/orders/{order_id}/canceler"
    assert level(stocked, "SKU-1").allocated == 2

    assert_error(session.post(url, json={}, headers={"If-Match": etag}), 400, "Required")
    response = session.post(url, json={"reason": "customer canceled"}, headers={"If-Match": etag})

    assert response.status_code == 204
    read = session.get(f"{stocked.base_url}/orders/{order_id}")
    assert read.json()["readOnly"]["status"] == 2 and read.headers["ETag"] != etag
    assert level(stocked, "SKU-1").allocated == 0


def test_a_cancel_of_an_order_being_picked_is_refused_with_an_operation_exception(stocked, created):
    session, order_id, _ = created
    stocked.advance("SQ-1001", "picking")
    etag = session.get(f"{stocked.base_url}/orders/{order_id}").headers["ETag"]

    response = session.post(
        f"{stocked.base_url}/orders/{order_id}/canceler", json={"reason": "x"}, headers={"If-Match": etag}
    )

    body = assert_error(response, 403, "InUse")
    assert "OperationException" in body["$type"] and body["ActionName"] == "Cancel"


@pytest.mark.parametrize(("seed", "code"), [("ship", "OrderConfirmed"), ("cancel", "OrderCanceled")])
def test_closed_and_canceled_orders_refuse_changes_with_documented_codes(stocked, created, seed, code):
    session, order_id, _ = created
    if seed == "ship":
        stocked.ship_order("SQ-1001", [{"carrier": "UPS", "tracking_number": "1Z9", "lines": []}])
    else:
        stocked.cancel_order("SQ-1001")
    etag = session.get(f"{stocked.base_url}/orders/{order_id}").headers["ETag"]

    response = session.put(f"{stocked.base_url}/orders/{order_id}", json=order_body(), headers={"If-Match": etag})

    assert_error(response, 403, code)


def test_an_update_replaces_the_named_parts_and_answers_the_order_with_a_new_etag(stocked, created):
    session, order_id, etag = created
    body = order_body(orderItems=[{"itemIdentifier": {"sku": "SKU-3"}, "qty": 4}], routingInfo={"carrier": "FedEx"})

    response = session.put(f"{stocked.base_url}/orders/{order_id}", json=body, headers={"If-Match": etag})

    assert response.status_code == 200 and response.headers["ETag"] != etag
    stored = stocked.order("SQ-1001")
    assert [(i["itemIdentifier"]["sku"], i["qty"]) for i in stored["orderItems"]] == [("SKU-3", 4)]
    assert stored["routingInfo"] == {"carrier": "FedEx"}
    assert (level(stocked, "SKU-1").allocated, level(stocked, "SKU-3").allocated) == (0, 4)


def test_an_update_with_an_unknown_sku_is_refused_and_changes_nothing(stocked, created):
    session, order_id, etag = created
    body = order_body(orderItems=[{"itemIdentifier": {"sku": "NOPE"}, "qty": 1}])

    assert_error(
        session.put(f"{stocked.base_url}/orders/{order_id}", json=body, headers={"If-Match": etag}), 400, "ItemNotFound"
    )
    assert stocked.order("SQ-1001")["orderItems"][0]["itemIdentifier"]["sku"] == "SKU-1"


def test_advance_moves_an_open_order_through_pick_and_pack_only(stocked, created):
    stocked.advance("SQ-1001", "packed")
    read_only = stocked.order("SQ-1001")["readOnly"]
    assert read_only["pickStarted"] and read_only["pickDoneDate"] and read_only["packDoneDate"]

    with pytest.raises(ValueError):
        stocked.advance("SQ-1001", "shipped")
    stocked.cancel_order("SQ-1001")
    with pytest.raises(ValueError):
        stocked.advance("SQ-1001", "picking")
