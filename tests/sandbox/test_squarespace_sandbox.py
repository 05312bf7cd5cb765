"""The Squarespace sandbox answers like the documented Commerce API, and its fault injection works.

These tests pin the sandbox's own contract with plain ``requests``, so that a connector test failing
against it points at the connector, not at the emulator.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import requests
import urllib3

from sandbox.squarespace import SquarespaceSandbox

ORDERS = "/1.0/commerce/orders"
INVENTORY = "/1.0/commerce/inventory"
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)


def client(sandbox: SquarespaceSandbox) -> requests.Session:
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {sandbox.api_key}", "User-Agent": "orderbridge-tests/1.0"})
    return session


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def seed(sandbox: SquarespaceSandbox, count: int, **kwargs) -> list[dict]:
    return [
        sandbox.add_order(order_number=str(1000 + i), created_on=T0 + timedelta(minutes=i), **kwargs)
        for i in range(count)
    ]


def assert_error(response: requests.Response, status: int, error_type: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"type", "subtype", "message", "details", "contextId"}
    assert body["type"] == error_type
    return body


# -- authentication and required headers -------------------------------------------------------------


def test_request_without_bearer_key_is_refused(squarespace_sandbox):
    response = requests.get(squarespace_sandbox.base_url + ORDERS, headers={"User-Agent": "tests"}, timeout=5)
    assert_error(response, 401, "AUTHORIZATION_ERROR")


def test_request_with_wrong_key_is_refused(squarespace_sandbox):
    session = client(squarespace_sandbox)
    session.headers["Authorization"] = "Bearer not-the-key"
    assert_error(session.get(squarespace_sandbox.base_url + ORDERS, timeout=5), 401, "AUTHORIZATION_ERROR")


def test_request_without_user_agent_is_refused(squarespace_sandbox):
    # SKIP_HEADER, because urllib3 otherwise fills in its own default User-Agent.
    response = client(squarespace_sandbox).get(
        squarespace_sandbox.base_url + ORDERS, headers={"User-Agent": urllib3.util.SKIP_HEADER}, timeout=5
    )
    body = assert_error(response, 400, "INVALID_REQUEST_ERROR")
    assert "User-Agent" in body["message"]


def test_body_without_json_content_type_is_refused(squarespace_sandbox):
    order = squarespace_sandbox.add_order()
    response = client(squarespace_sandbox).post(
        f"{squarespace_sandbox.base_url}{ORDERS}/{order['id']}/fulfillments",
        data=b'{"shouldSendNotification": false}',
        headers={"Content-Type": "text/plain"},
        timeout=5,
    )
    assert assert_error(response, 400, "INVALID_REQUEST_ERROR")["subtype"] == "INVALID_CONTENT_TYPE"


# -- orders: filters and cursor paging ---------------------------------------------------------------


def test_cursor_paging_returns_every_order_once_in_modified_order(squarespace_sandbox):
    squarespace_sandbox.page_size = 2
    seeded = seed(squarespace_sandbox, 5)
    session = client(squarespace_sandbox)
    response = session.get(
        squarespace_sandbox.base_url + ORDERS,
        params={"modifiedAfter": iso(T0 - timedelta(days=1)), "modifiedBefore": iso(T0 + timedelta(days=1))},
        timeout=5,
    )
    numbers, pages = [], 0
    while True:
        assert response.status_code == 200, response.text
        body = response.json()
        assert len(body["result"]) <= 2
        numbers += [order["orderNumber"] for order in body["result"]]
        pages += 1
        if not body["pagination"]["hasNextPage"]:
            assert body["pagination"]["nextPageCursor"] is None
            break
        cursor = body["pagination"]["nextPageCursor"]
        assert body["pagination"]["nextPageUrl"].endswith(f"cursor={cursor}")
        response = session.get(squarespace_sandbox.base_url + ORDERS, params={"cursor": cursor}, timeout=5)
    assert numbers == [order["orderNumber"] for order in seeded]
    assert pages == 3


def test_cursor_remembers_status_filter_and_date_range(squarespace_sandbox):
    squarespace_sandbox.page_size = 1
    seed(squarespace_sandbox, 3)
    seed(squarespace_sandbox, 2, fulfillment_status="FULFILLED")
    squarespace_sandbox.add_order(order_number="late", created_on=T0 + timedelta(days=5))
    session = client(squarespace_sandbox)
    params = {
        "modifiedAfter": iso(T0 - timedelta(hours=1)),
        "modifiedBefore": iso(T0 + timedelta(days=1)),
        "fulfillmentStatus": "PENDING",
    }
    body = session.get(squarespace_sandbox.base_url + ORDERS, params=params, timeout=5).json()
    seen = [o["orderNumber"] for o in body["result"]]
    while body["pagination"]["hasNextPage"]:
        cursor = body["pagination"]["nextPageCursor"]
        body = session.get(squarespace_sandbox.base_url + ORDERS, params={"cursor": cursor}, timeout=5).json()
        seen += [o["orderNumber"] for o in body["result"]]
    assert seen == ["1000", "1001", "1002"]


def test_cursor_combined_with_date_range_is_refused(squarespace_sandbox):
    squarespace_sandbox.page_size = 1
    seed(squarespace_sandbox, 2)
    session = client(squarespace_sandbox)
    cursor = session.get(squarespace_sandbox.base_url + ORDERS, timeout=5).json()["pagination"]["nextPageCursor"]
    params = {"cursor": cursor, "modifiedAfter": iso(T0), "modifiedBefore": iso(T0 + timedelta(hours=1))}
    response = session.get(squarespace_sandbox.base_url + ORDERS, params=params, timeout=5)
    assert_error(response, 400, "INVALID_REQUEST_ERROR")
    response = session.get(
        squarespace_sandbox.base_url + ORDERS, params={"cursor": cursor, "fulfillmentStatus": "PENDING"}, timeout=5
    )
    assert_error(response, 400, "INVALID_REQUEST_ERROR")


@pytest.mark.parametrize(
    "params",
    [
        {"modifiedAfter": "2024-03-01T00:00:00Z"},
        {"modifiedBefore": "2024-03-01T00:00:00Z"},
        {"modifiedAfter": "2024-03-02T00:00:00Z", "modifiedBefore": "2024-03-01T00:00:00Z"},
        {"modifiedAfter": "2024-03-01T00:00:00+02:00", "modifiedBefore": "2024-03-02T00:00:00Z"},
        {"modifiedAfter": "yesterday", "modifiedBefore": "2024-03-02T00:00:00Z"},
        {"fulfillmentStatus": "SHIPPED"},
        {"cursor": "forged-cursor"},
    ],
)
def test_invalid_order_filters_are_refused(squarespace_sandbox, params):
    response = client(squarespace_sandbox).get(squarespace_sandbox.base_url + ORDERS, params=params, timeout=5)
    assert_error(response, 400, "INVALID_REQUEST_ERROR")


def test_date_range_excludes_both_boundaries(squarespace_sandbox):
    seed(squarespace_sandbox, 3)  # modified at T0, T0+1min, T0+2min
    params = {"modifiedAfter": iso(T0), "modifiedBefore": iso(T0 + timedelta(minutes=2))}
    body = client(squarespace_sandbox).get(squarespace_sandbox.base_url + ORDERS, params=params, timeout=5).json()
    assert [o["orderNumber"] for o in body["result"]] == ["1001"]


def test_order_has_every_documented_field(squarespace_sandbox):
    order = squarespace_sandbox.add_order(created_on=T0, lines=[{"sku": "SKU-9", "quantity": 3, "price": "2.50"}])
    body = client(squarespace_sandbox).get(f"{squarespace_sandbox.base_url}{ORDERS}/{order['id']}", timeout=5).json()
    for name in (
        "id",
        "orderNumber",
        "createdOn",
        "modifiedOn",
        "channel",
        "testmode",
        "customerEmail",
        "billingAddress",
        "shippingAddress",
        "fulfillmentStatus",
        "lineItems",
        "shippingLines",
        "discountLines",
        "formSubmission",
        "fulfillments",
        "subtotal",
        "shippingTotal",
        "discountTotal",
        "taxTotal",
        "refundedTotal",
        "grandTotal",
        "priceTaxInterpretation",
        "internalNotes",
        "fulfilledOn",
    ):
        assert name in body
    assert len(body["id"]) == 24 and isinstance(body["orderNumber"], str)
    assert body["createdOn"] == "2024-03-01T12:00:00.000Z"
    line = body["lineItems"][0]
    assert line["sku"] == "SKU-9" and line["quantity"] == 3
    assert line["unitPricePaid"] == {"currency": "USD", "value": "2.50"}
    assert body["subtotal"]["value"] == "7.50" and body["grandTotal"]["value"] == "12.50"
    assert set(body["shippingAddress"]) == {
        "firstName",
        "lastName",
        "address1",
        "address2",
        "city",
        "state",
        "countryCode",
        "postalCode",
        "phone",
    }


def test_unknown_and_malformed_order_ids(squarespace_sandbox):
    session = client(squarespace_sandbox)
    assert_error(
        session.get(f"{squarespace_sandbox.base_url}{ORDERS}/{'a' * 24}", timeout=5), 404, "INVALID_REQUEST_ERROR"
    )
    assert_error(session.get(f"{squarespace_sandbox.base_url}{ORDERS}/nope", timeout=5), 400, "INVALID_REQUEST_ERROR")


# -- fulfillments ------------------------------------------------------------------------------------


def test_fulfillment_is_recorded_and_marks_the_order_fulfilled(squarespace_sandbox):
    order = squarespace_sandbox.add_order(created_on=T0)
    shipment = {
        "shipDate": "2024-03-02T10:00:00Z",
        "carrierName": "UPS",
        "service": "Ground",
        "trackingNumber": "1Z999",
        "trackingUrl": "https://ups.example/1Z999",
    }
    response = client(squarespace_sandbox).post(
        f"{squarespace_sandbox.base_url}{ORDERS}/{order['id']}/fulfillments",
        json={"shouldSendNotification": True, "shipments": [shipment]},
        timeout=5,
    )
    assert response.status_code == 204 and response.content == b""
    assert squarespace_sandbox.fulfillments_for(order["id"]) == [shipment]
    stored = squarespace_sandbox.orders[order["id"]]
    assert stored["fulfillmentStatus"] == "FULFILLED"
    assert stored["modifiedOn"] > order["modifiedOn"] and stored["fulfilledOn"] is not None


@pytest.mark.parametrize(
    "body",
    [
        {"shipments": []},
        {"shouldSendNotification": "yes"},
        {"shouldSendNotification": False, "shipments": [{"carrierName": "UPS", "service": "G", "trackingNumber": "1"}]},
        {
            "shouldSendNotification": False,
            "shipments": [
                {
                    "shipDate": "2024-03-02T10:00:00Z",
                    "carrierName": "UPS",
                    "service": "G",
                    "trackingNumber": "1",
                    "trackingUrl": "x",
                }
            ],
        },
    ],
)
def test_fulfillment_with_missing_or_invalid_fields_is_refused(squarespace_sandbox, body):
    order = squarespace_sandbox.add_order()
    response = client(squarespace_sandbox).post(
        f"{squarespace_sandbox.base_url}{ORDERS}/{order['id']}/fulfillments", json=body, timeout=5
    )
    assert_error(response, 400, "INVALID_REQUEST_ERROR")
    assert squarespace_sandbox.orders[order["id"]]["fulfillmentStatus"] == "PENDING"


def test_read_only_key_cannot_fulfill(squarespace_sandbox):
    squarespace_sandbox.orders_read_only = True
    order = squarespace_sandbox.add_order()
    response = client(squarespace_sandbox).post(
        f"{squarespace_sandbox.base_url}{ORDERS}/{order['id']}/fulfillments",
        json={"shouldSendNotification": False},
        timeout=5,
    )
    assert_error(response, 403, "AUTHORIZATION_ERROR")


# -- inventory ---------------------------------------------------------------------------------------


def test_inventory_pages_with_cursor(squarespace_sandbox):
    squarespace_sandbox.page_size = 2
    for i in range(3):
        squarespace_sandbox.add_inventory(f"v-{i}", f"SKU-{i}", 10 + i)
    session = client(squarespace_sandbox)
    first = session.get(squarespace_sandbox.base_url + INVENTORY, timeout=5).json()
    assert [item["sku"] for item in first["inventory"]] == ["SKU-0", "SKU-1"]
    assert set(first["inventory"][0]) == {"variantId", "sku", "descriptor", "isUnlimited", "quantity"}
    cursor = first["pagination"]["nextPageCursor"]
    second = session.get(squarespace_sandbox.base_url + INVENTORY, params={"cursor": cursor}, timeout=5).json()
    assert [item["sku"] for item in second["inventory"]] == ["SKU-2"]
    assert second["pagination"]["hasNextPage"] is False


def test_adjustment_needs_an_idempotency_key_and_applies_once(squarespace_sandbox):
    squarespace_sandbox.add_inventory("v-1", "SKU-1", 5)
    squarespace_sandbox.add_inventory("v-2", "SKU-2", 5)
    session = client(squarespace_sandbox)
    url = squarespace_sandbox.base_url + INVENTORY + "/adjustments"
    body = {
        "setFiniteOperations": [{"variantId": "v-1", "quantity": 42}],
        "incrementOperations": [{"variantId": "v-2", "quantity": 3}],
    }
    assert_error(session.post(url, json=body, timeout=5), 400, "INVALID_REQUEST_ERROR")
    assert_error(
        session.post(url, json=body, headers={"Idempotency-Key": "k" * 65}, timeout=5), 400, "INVALID_REQUEST_ERROR"
    )
    for _ in range(2):
        assert session.post(url, json=body, headers={"Idempotency-Key": "sync-1"}, timeout=5).status_code == 204
    assert squarespace_sandbox.inventory["v-1"]["quantity"] == 42
    assert squarespace_sandbox.inventory["v-2"]["quantity"] == 8
    other = {"setFiniteOperations": [{"variantId": "v-1", "quantity": 1}]}
    assert_error(
        session.post(url, json=other, headers={"Idempotency-Key": "sync-1"}, timeout=5), 400, "INVALID_REQUEST_ERROR"
    )


def test_refused_adjustment_changes_nothing(squarespace_sandbox):
    squarespace_sandbox.add_inventory("v-1", "SKU-1", 5)
    squarespace_sandbox.add_inventory("v-2", "SKU-2", 1)
    body = {
        "setFiniteOperations": [{"variantId": "v-1", "quantity": 9}],
        "decrementOperations": [{"variantId": "v-2", "quantity": 2}],
    }
    response = client(squarespace_sandbox).post(
        squarespace_sandbox.base_url + INVENTORY + "/adjustments",
        json=body,
        headers={"Idempotency-Key": "k-2"},
        timeout=5,
    )
    assert assert_error(response, 409, "CONFLICT")["subtype"] == "INSUFFICIENT_STOCK"
    assert squarespace_sandbox.inventory["v-1"]["quantity"] == 5


# -- rate limit --------------------------------------------------------------------------------------


def test_rate_limit_answers_429_for_the_whole_cooldown():
    with SquarespaceSandbox(rate_limit_per_minute=3, cooldown_seconds=0.3) as sandbox:
        session = client(sandbox)
        statuses = [session.get(sandbox.base_url + ORDERS, timeout=5).status_code for _ in range(3)]
        assert statuses == [200, 200, 200]
        limited = session.get(sandbox.base_url + ORDERS, timeout=5)
        assert_error(limited, 429, "TOO_MANY_REQUESTS")
        assert "Retry-After" not in limited.headers
        assert session.get(sandbox.base_url + ORDERS, timeout=5).status_code == 429
        time.sleep(0.35)
        assert session.get(sandbox.base_url + ORDERS, timeout=5).status_code == 200


# -- the shared server: recording, faults, Basic Auth wall -------------------------------------------


def test_every_request_is_recorded(squarespace_sandbox):
    order = squarespace_sandbox.add_order()
    client(squarespace_sandbox).post(
        f"{squarespace_sandbox.base_url}{ORDERS}/{order['id']}/fulfillments?x=1",
        json={"shouldSendNotification": False},
        timeout=5,
    )
    recorded = squarespace_sandbox.requests[-1]
    assert recorded.method == "POST" and recorded.path.endswith("/fulfillments")
    assert recorded.query == {"x": ["1"]}
    assert recorded.header("user-agent") == "orderbridge-tests/1.0"
    assert recorded.json == {"shouldSendNotification": False}
    squarespace_sandbox.reset()
    assert squarespace_sandbox.requests == []


def test_status_fault_hits_only_matching_requests_then_clears(squarespace_sandbox):
    squarespace_sandbox.fail_next(2, status=503, path_contains="/inventory", headers={"Retry-After": "1"})
    session = client(squarespace_sandbox)
    assert session.get(squarespace_sandbox.base_url + ORDERS, timeout=5).status_code == 200
    for _ in range(2):
        response = session.get(squarespace_sandbox.base_url + INVENTORY, timeout=5)
        assert_error(response, 503, "SERVICE_UNAVAILABLE")
        assert response.headers["Retry-After"] == "1"
    assert session.get(squarespace_sandbox.base_url + INVENTORY, timeout=5).status_code == 200


def test_timeout_fault_outlasts_the_client_timeout(squarespace_sandbox):
    squarespace_sandbox.fail_next(mode="timeout", delay=0.5)
    with pytest.raises(requests.Timeout):
        client(squarespace_sandbox).get(squarespace_sandbox.base_url + ORDERS, timeout=0.2)


def test_drop_fault_closes_without_an_answer(squarespace_sandbox):
    squarespace_sandbox.fail_next(mode="drop")
    with pytest.raises(requests.ConnectionError):
        client(squarespace_sandbox).get(squarespace_sandbox.base_url + ORDERS, timeout=5)


def test_truncated_fault_answers_200_with_broken_json(squarespace_sandbox):
    squarespace_sandbox.fail_next(mode="truncated")
    response = client(squarespace_sandbox).get(squarespace_sandbox.base_url + ORDERS, timeout=5)
    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_after_fault_applies_the_change_but_loses_the_reply(squarespace_sandbox):
    order = squarespace_sandbox.add_order()
    squarespace_sandbox.fail_next(mode="after", method="POST")
    response = client(squarespace_sandbox).post(
        f"{squarespace_sandbox.base_url}{ORDERS}/{order['id']}/fulfillments",
        json={"shouldSendNotification": False},
        timeout=5,
    )
    assert response.status_code == 500
    assert squarespace_sandbox.orders[order["id"]]["fulfillmentStatus"] == "FULFILLED"


def test_basic_auth_wall_refuses_everything(squarespace_sandbox):
    squarespace_sandbox.basic_auth_challenge = True
    response = client(squarespace_sandbox).get(squarespace_sandbox.base_url + ORDERS, timeout=5)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Basic realm="site"'


def test_responses_carry_content_length_for_keep_alive(squarespace_sandbox):
    session = client(squarespace_sandbox)
    for _ in range(3):
        response = session.get(squarespace_sandbox.base_url + ORDERS, timeout=5)
        assert int(response.headers["Content-Length"]) == len(response.content)


def test_notifications_are_sent_from_a_background_thread_and_retried_until_accepted(squarespace_sandbox):
    """The sandbox's own sender: a 500 is tried again, a 2xx ends it; each body is signed as documented."""
    sandbox = squarespace_sandbox
    sandbox.subscriptions["s1"] = {
        "id": "s1",
        "endpointUrl": "https://receiver.test/hooks/1/",
        "topics": ["order.create"],
        "secret": "ab" * 32,
    }
    answers = iter([500, 200])
    received: list[tuple[str, bytes, dict[str, str]]] = []
    done = threading.Event()

    def transport(url: str, body: bytes, headers: dict[str, str]) -> int:
        received.append((url, body, headers))
        status = next(answers, 200)
        if status == 200:
            done.set()
        return status

    sandbox.start_notifier(interval=0.01, transport=transport)
    sandbox.add_order(order_number="9001")
    assert done.wait(5)
    sandbox.stop_notifier()
    time.sleep(0.05)

    assert len(received) == 2 and received[0][1] == received[1][1]
    url, body, headers = received[0]
    assert url == "https://receiver.test/hooks/1/"
    expected = hmac.new(bytes.fromhex("ab" * 32), body, hashlib.sha256).hexdigest()
    assert headers["Squarespace-Signature"] == expected
    [outgoing] = sandbox.outbox
    assert outgoing.delivered and outgoing.statuses == [500, 200]
