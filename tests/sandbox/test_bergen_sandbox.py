"""The Bergen sandbox answers like the Extensiv 3PL Warehouse Manager API it is modelled on."""

from __future__ import annotations

import copy
import time

import pytest
import requests

from sandbox.bergen import BergenSandbox

REL_ORDER = "http://api.3plCentral.com/rels/orders/order"

ORDER = {
    "customerIdentifier": {"name": "DEMO"},
    "facilityIdentifier": {"name": "NJ"},
    "referenceNum": "SQ-1001",
    "poNum": "1001",
    "shipTo": {
        "name": "Ada Lovelace",
        "address1": "12 Analytical Row",
        "city": "Hoboken",
        "state": "NJ",
        "zip": "07030",
        "country": "US",
    },
    "routingInfo": {"carrier": "UPS", "mode": "Ground"},
    "orderItems": [{"itemIdentifier": {"sku": "SKU-1"}, "qty": 2}],
}


def token(sandbox: BergenSandbox) -> str:
    response = requests.post(
        sandbox.base_url + "/AuthServer/api/Token",
        auth=(sandbox.username, sandbox.password),
        json={"grant_type": "client_credentials", "user_login": "orderbridge"},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def client(sandbox: BergenSandbox) -> requests.Session:
    session = requests.Session()
    session.headers.update({"Authorization": f"Bearer {token(sandbox)}", "Accept": "application/hal+json"})
    return session


def order_body(reference: str = "SQ-1001", **changes) -> dict:
    body = copy.deepcopy(ORDER)
    body["referenceNum"] = reference
    body.update(changes)
    return body


def assert_error(response: requests.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["ErrorCode"] == code
    assert isinstance(body["Hint"], str)
    return body


@pytest.fixture
def stocked(bergen_sandbox) -> BergenSandbox:
    bergen_sandbox.add_item("SKU-1", on_hand=10)
    bergen_sandbox.add_item("SKU-2", on_hand=5, facility="WEST")
    return bergen_sandbox


# -- authentication ----------------------------------------------------------------------------------


def test_token_is_issued_for_basic_credentials(bergen_sandbox):
    response = requests.post(
        bergen_sandbox.base_url + "/AuthServer/api/Token",
        auth=("sandbox-user", "sandbox-pass"),
        json={"grant_type": "client_credentials"},
        timeout=5,
    )
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600 and body["access_token"]


def test_token_refused_for_wrong_credentials_or_grant(bergen_sandbox):
    url = bergen_sandbox.base_url + "/AuthServer/api/Token"
    wrong = requests.post(url, auth=("sandbox-user", "nope"), json={"grant_type": "client_credentials"}, timeout=5)
    assert_error(wrong, 401, "Unauthorized")
    no_grant = requests.post(url, auth=("sandbox-user", "sandbox-pass"), json={}, timeout=5)
    assert_error(no_grant, 400, "UnsupportedGrantType")
    form = requests.post(
        url, auth=("sandbox-user", "sandbox-pass"), data={"grant_type": "client_credentials"}, timeout=5
    )
    assert_error(form, 415, "UnsupportedMediaType")


def test_api_refuses_missing_and_expired_tokens():
    with BergenSandbox(token_ttl=0.2) as sandbox:
        assert_error(requests.get(sandbox.base_url + "/orders", timeout=5), 401, "Unauthorized")
        session = client(sandbox)
        assert session.get(sandbox.base_url + "/orders", timeout=5).status_code == 200
        time.sleep(0.25)
        expired = session.get(sandbox.base_url + "/orders", timeout=5)
        assert_error(expired, 401, "Unauthorized")
        assert "invalid_token" in expired.headers["WWW-Authenticate"]


def test_unacceptable_accept_header_is_refused(stocked):
    response = client(stocked).get(stocked.base_url + "/orders", headers={"Accept": "text/xml"}, timeout=5)
    assert_error(response, 406, "NotAcceptable")


# -- creating orders ---------------------------------------------------------------------------------


def test_created_order_has_read_only_block_location_and_etag(stocked):
    session = client(stocked)
    first = session.post(stocked.base_url + "/orders", json=order_body("A-1"), timeout=5)
    second = session.post(stocked.base_url + "/orders", json=order_body("A-2"), timeout=5)
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["readOnly"]["orderId"] == 1 and second.json()["readOnly"]["orderId"] == 2
    assert body["readOnly"]["customerIdentifier"] == {"id": 1, "name": "DEMO"}
    assert body["readOnly"]["facilityIdentifier"] == {"id": 1, "name": "NJ"}
    assert body["referenceNum"] == "A-1" and body["poNum"] == "1001"
    assert first.headers["Location"] == "/orders/1" and first.headers["ETag"]
    assert first.headers["Content-Type"].startswith("application/hal+json")
    assert [o["referenceNum"] for o in stocked.orders] == ["A-1", "A-2"]


def test_duplicate_reference_for_the_same_customer_is_refused(stocked):
    session = client(stocked)
    assert session.post(stocked.base_url + "/orders", json=order_body(), timeout=5).status_code == 201
    duplicate = session.post(stocked.base_url + "/orders", json=order_body(), timeout=5)
    assert "Duplicate" in assert_error(duplicate, 400, "Duplicate")["Hint"]
    assert len(stocked.orders) == 1 and stocked.duplicate_count() == 0


def test_same_reference_for_another_customer_is_accepted_and_counted(stocked):
    stocked.add_customer("OTHER")
    stocked.add_item("SKU-1", customer="OTHER")
    session = client(stocked)
    assert session.post(stocked.base_url + "/orders", json=order_body(), timeout=5).status_code == 201
    other = order_body(customerIdentifier={"name": "OTHER"})
    assert session.post(stocked.base_url + "/orders", json=other, timeout=5).status_code == 201
    assert stocked.duplicate_count() == 1
    assert len(stocked.orders_by_reference()["SQ-1001"]) == 2


def test_unknown_sku_is_refused_naming_the_sku(stocked):
    body = order_body(orderItems=[{"itemIdentifier": {"sku": "NOPE-9"}, "qty": 1}])
    response = client(stocked).post(stocked.base_url + "/orders", json=body, timeout=5)
    error = assert_error(response, 400, "ItemNotFound")
    assert "NOPE-9" in error["Hint"] and error["Properties"]["sku"] == "NOPE-9"
    assert stocked.orders == []


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"referenceNum": ""}, "MissingRequiredField"),
        ({"customerIdentifier": {"name": "NOBODY"}}, "InvalidCustomer"),
        ({"facilityIdentifier": {"name": "MARS"}}, "InvalidFacility"),
        ({"facilityIdentifier": {"id": 99}}, "InvalidFacility"),
        ({"shipTo": {"name": "Ada", "address1": "x", "zip": "1", "country": "US"}}, "MissingRequiredField"),
        ({"shipTo": {"name": "Ada", "address1": "x", "city": "y", "zip": "1", "country": "USA"}}, "InvalidValue"),
        ({"orderItems": []}, "MissingRequiredField"),
        ({"orderItems": [{"itemIdentifier": {"sku": "SKU-1"}, "qty": 0}]}, "InvalidValue"),
    ],
)
def test_invalid_orders_are_refused(stocked, changes, code):
    response = client(stocked).post(stocked.base_url + "/orders", json=order_body(**changes), timeout=5)
    assert_error(response, 400, code)
    assert stocked.orders == []


def test_facility_may_be_given_by_id(stocked):
    body = order_body(facilityIdentifier={"id": 3})
    response = client(stocked).post(stocked.base_url + "/orders", json=body, timeout=5)
    assert response.json()["readOnly"]["facilityIdentifier"] == {"id": 3, "name": "WEST"}


# -- finding orders ----------------------------------------------------------------------------------


def test_orders_found_by_rql_reference_and_order_id(stocked):
    session = client(stocked)
    for reference in ("R-1", "R-2", "R-3"):
        session.post(stocked.base_url + "/orders", json=order_body(reference), timeout=5)
    found = session.get(stocked.base_url + "/orders", params={"rql": "referenceNum==R-2"}, timeout=5).json()
    assert found["totalResults"] == 1
    assert found["_embedded"][REL_ORDER][0]["readOnly"]["orderId"] == 2
    both = session.get(
        stocked.base_url + "/orders", params={"rql": "referenceNum==R-3;readOnly.orderId==3"}, timeout=5
    ).json()
    assert both["totalResults"] == 1
    none = session.get(
        stocked.base_url + "/orders", params={"rql": "referenceNum==R-3;readOnly.orderId==1"}, timeout=5
    ).json()
    assert none["totalResults"] == 0 and "_embedded" not in none


@pytest.mark.parametrize("detail", ["OrderItems", "All", "SavedElements,orderitems"])
def test_orders_show_their_lines_only_when_the_detail_asks_for_them(stocked, detail):
    session = client(stocked)
    session.post(stocked.base_url + "/orders", json=order_body("R-1", poNum="1001"), timeout=5)
    url = stocked.base_url + "/orders"

    plain = session.get(url, params={"rql": "referenceNum==R-1"}, timeout=5).json()["_embedded"][REL_ORDER][0]
    detailed = session.get(url, params={"rql": "referenceNum==R-1", "detail": detail}, timeout=5).json()
    one = session.get(url + "/1", params={"detail": detail}, timeout=5).json()

    assert "orderItems" not in plain and "_embedded" not in plain
    assert (plain["poNum"], plain["shipTo"]["name"]) == ("1001", "Ada Lovelace")
    for record in (detailed["_embedded"][REL_ORDER][0], one):
        [item] = record["_embedded"]["http://api.3plCentral.com/rels/orders/item"]
        assert (item["itemIdentifier"]["sku"], item["qty"]) == ("SKU-1", 2)
        assert "orderItems" not in record
    assert len(stocked.order("R-1")["orderItems"]) == 1  # stored as created


def test_order_pages_link_to_the_next_page_only_when_there_is_one(stocked):
    session = client(stocked)
    for index in range(3):
        session.post(stocked.base_url + "/orders", json=order_body(f"P-{index}"), timeout=5)
    first = session.get(stocked.base_url + "/orders", params={"pgsiz": 2, "pgnum": 1}, timeout=5).json()
    assert first["totalResults"] == 3 and len(first["_embedded"][REL_ORDER]) == 2
    assert "pgnum=2" in first["_links"]["next"]["href"]
    last = session.get(stocked.base_url + "/orders", params={"pgsiz": 2, "pgnum": 2}, timeout=5).json()
    assert len(last["_embedded"][REL_ORDER]) == 1 and "next" not in last["_links"]


@pytest.mark.parametrize(
    "params", [{"pgsiz": 1001}, {"pgsiz": 0}, {"pgnum": 0}, {"rql": "referenceNum=~x"}, {"rql": "password==x"}]
)
def test_invalid_order_queries_are_refused(stocked, params):
    response = client(stocked).get(stocked.base_url + "/orders", params=params, timeout=5)
    assert response.status_code == 400 and "ErrorCode" in response.json()


def test_single_order_has_an_etag_and_unknown_is_404(stocked):
    session = client(stocked)
    session.post(stocked.base_url + "/orders", json=order_body(), timeout=5)
    response = session.get(stocked.base_url + "/orders/1", timeout=5)
    assert response.status_code == 200 and response.headers["ETag"]
    assert_error(session.get(stocked.base_url + "/orders/99", timeout=5), 404, "NotFound")


# -- stock and tracking ------------------------------------------------------------------------------


def test_stock_summaries_reflect_allocation_and_refuse_large_pages(stocked):
    session = client(stocked)
    session.post(stocked.base_url + "/orders", json=order_body(), timeout=5)
    body = session.get(stocked.base_url + "/inventory/stocksummaries", params={"pgsiz": 500}, timeout=5).json()
    assert body["totalResults"] == 2
    row = next(s for s in body["summaries"] if s["itemIdentifier"]["sku"] == "SKU-1")
    assert (row["onHand"], row["allocated"], row["available"], row["facilityId"]) == (10, 2, 8, 1)
    west = session.get(stocked.base_url + "/inventory/stocksummaries", params={"rql": "facilityId==3"}, timeout=5)
    assert [s["itemIdentifier"]["sku"] for s in west.json()["summaries"]] == ["SKU-2"]
    too_big = session.get(stocked.base_url + "/inventory/stocksummaries", params={"pgsiz": 501}, timeout=5)
    assert too_big.status_code == 400


def test_shipped_order_gives_tracking_rows_and_closes(stocked):
    session = client(stocked)
    session.post(stocked.base_url + "/orders", json=order_body(), timeout=5)
    stocked.ship_order(
        "SQ-1001",
        packages=[
            {"carrier": "UPS", "service": "Ground", "tracking_number": "1ZA", "lines": [{"sku": "SKU-1", "qty": 1}]},
            {"carrier": "UPS", "service": "Ground", "tracking_number": "1ZB", "lines": [{"sku": "SKU-1", "qty": 1}]},
        ],
    )
    body = session.get(
        stocked.base_url + "/orders/shipmentstrackinginfo", params={"rql": "referenceNum==SQ-1001"}, timeout=5
    ).json()
    rows = body["_embedded"]["http://api.3plCentral.com/rels/orders/shipmenttrackinginfo"]
    assert [row["trackingNumber"] for row in rows] == ["1ZA", "1ZB"]
    assert rows[0]["orderId"] == 1 and rows[0]["poNum"] == "1001" and rows[0]["carrierService"] == "Ground"
    assert stocked.order("SQ-1001")["readOnly"]["isClosed"] is True
    summary = stocked.stock[0].summary()
    assert (summary["onHand"], summary["allocated"]) == (8, 0)


# -- faults on the warehouse side --------------------------------------------------------------------


def test_order_accepted_but_reply_lost_is_found_again_and_refused_as_duplicate(stocked):
    session = client(stocked)
    stocked.fail_next(mode="after", path_contains="/orders", method="POST")
    lost = session.post(stocked.base_url + "/orders", json=order_body(), timeout=5)
    assert lost.status_code == 500 and lost.headers["Content-Type"].startswith("text/plain")
    assert len(stocked.orders) == 1
    assert_error(session.post(stocked.base_url + "/orders", json=order_body(), timeout=5), 400, "Duplicate")
    found = session.get(stocked.base_url + "/orders", params={"rql": "referenceNum==SQ-1001"}, timeout=5).json()
    assert found["totalResults"] == 1


def test_order_accepted_then_connection_dropped(stocked):
    session = client(stocked)
    stocked.fail_next(mode="after_drop", path_contains="/orders", method="POST")
    with pytest.raises(requests.ConnectionError):
        session.post(stocked.base_url + "/orders", json=order_body(), timeout=5)
    assert len(stocked.orders) == 1


def test_basic_auth_wall_in_front_of_the_token_endpoint(bergen_sandbox):
    bergen_sandbox.basic_auth_challenge = True
    response = requests.post(
        bergen_sandbox.base_url + "/AuthServer/api/Token",
        auth=("sandbox-user", "sandbox-pass"),
        json={"grant_type": "client_credentials"},
        timeout=5,
    )
    assert response.status_code == 401 and response.headers["WWW-Authenticate"] == 'Basic realm="site"'
