"""The TradeGecko sandbox answers like the documented TradeGecko API (plain ``requests``, no connector)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sandbox.tradegecko import TradeGeckoSandbox

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
REDIRECT = "https://orderbridge.example/oauth/tradegecko/callback"


def api(sandbox: TradeGeckoSandbox, token: str | None = None) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {token or sandbox.access_token}"
    return session


def get(sandbox: TradeGeckoSandbox, path: str, **params) -> requests.Response:
    return api(sandbox).get(sandbox.base_url + path, params=params, timeout=5)


def pagination(response: requests.Response) -> dict:
    return json.loads(response.headers["X-Pagination"])


def authorization_code(sandbox: TradeGeckoSandbox, state: str = "xyz") -> str:
    response = requests.get(
        sandbox.base_url + "/oauth/authorize",
        params={"response_type": "code", "client_id": sandbox.client_id, "redirect_uri": REDIRECT, "state": state},
        allow_redirects=False,
        timeout=5,
    )
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    query = parse_qs(location.query)
    assert query["state"] == [state]
    return query["code"][0]


def token_request(sandbox: TradeGeckoSandbox, **params) -> requests.Response:
    body = {"client_id": sandbox.client_id, "client_secret": sandbox.client_secret, "redirect_uri": REDIRECT, **params}
    return requests.post(sandbox.base_url + "/oauth/token", data=body, timeout=5)


def exchange(sandbox: TradeGeckoSandbox) -> dict:
    response = token_request(sandbox, grant_type="authorization_code", code=authorization_code(sandbox))
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def limited() -> Iterator[TradeGeckoSandbox]:
    sandbox = TradeGeckoSandbox(rate_limit=2, rate_window=1)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


# -- OAuth -------------------------------------------------------------------------------------------


def test_authorization_code_grant_issues_a_bearer_token_once(tradegecko_sandbox):
    code = authorization_code(tradegecko_sandbox)
    response = token_request(tradegecko_sandbox, grant_type="authorization_code", code=code)
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "bearer" and body["expires_in"] == 7200 and body["scope"] == "public"
    assert body["access_token"] and body["refresh_token"] and isinstance(body["created_at"], int)
    assert (
        api(tradegecko_sandbox, body["access_token"])
        .get(tradegecko_sandbox.base_url + "/accounts/current", timeout=5)
        .json()["account"]["id"]
        == 1
    )
    again = token_request(tradegecko_sandbox, grant_type="authorization_code", code=code)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert [t["grant_type"] for t in tradegecko_sandbox.issued_tokens] == ["authorization_code"]


def test_token_endpoint_refuses_wrong_redirect_uri_client_and_grant_type(tradegecko_sandbox):
    code = authorization_code(tradegecko_sandbox)
    wrong_uri = token_request(
        tradegecko_sandbox, grant_type="authorization_code", code=code, redirect_uri="https://elsewhere.example/cb"
    )
    assert wrong_uri.status_code == 400 and wrong_uri.json()["error"] == "invalid_grant"
    wrong_secret = token_request(tradegecko_sandbox, grant_type="authorization_code", code=code, client_secret="no")
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    password = token_request(tradegecko_sandbox, grant_type="password")
    assert password.status_code == 400 and password.json()["error"] == "unsupported_grant_type"
    unknown_client = requests.get(
        tradegecko_sandbox.base_url + "/oauth/authorize",
        allow_redirects=False,
        timeout=5,
        params={"response_type": "code", "client_id": "nobody", "redirect_uri": REDIRECT},
    )
    assert unknown_client.status_code == 400 and unknown_client.json()["error"] == "invalid_client"


def test_refresh_rotates_both_tokens_and_the_old_pair_stops_working(tradegecko_sandbox):
    first = exchange(tradegecko_sandbox)
    response = requests.post(
        tradegecko_sandbox.base_url + "/oauth/token",
        timeout=5,
        json={
            "client_id": "sandbox-client",
            "client_secret": "sandbox-secret",
            "redirect_uri": REDIRECT,
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
        },
    )
    second = response.json()
    assert response.status_code == 200
    assert second["refresh_token"] != first["refresh_token"] and second["access_token"] != first["access_token"]
    reused = token_request(tradegecko_sandbox, grant_type="refresh_token", refresh_token=first["refresh_token"])
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    old = api(tradegecko_sandbox, first["access_token"]).get(tradegecko_sandbox.base_url + "/orders", timeout=5)
    assert old.status_code == 401
    new = api(tradegecko_sandbox, second["access_token"]).get(tradegecko_sandbox.base_url + "/orders", timeout=5)
    assert new.status_code == 200


def test_expired_access_token_is_401_and_refresh_still_works(tradegecko_sandbox):
    tokens = exchange(tradegecko_sandbox)
    tradegecko_sandbox.expire_tokens()
    response = api(tradegecko_sandbox, tokens["access_token"]).get(tradegecko_sandbox.base_url + "/orders", timeout=5)
    assert response.status_code == 401
    assert response.json() == {"type": "Unauthorized", "message": "The access token expired"}
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]
    assert get(tradegecko_sandbox, "/orders").status_code == 200  # the privileged token never expires
    refreshed = token_request(tradegecko_sandbox, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refreshed.status_code == 200


def test_revoke_all_refuses_every_access_and_refresh_token(tradegecko_sandbox):
    tokens = exchange(tradegecko_sandbox)
    tradegecko_sandbox.revoke_all()
    assert get(tradegecko_sandbox, "/orders").status_code == 401
    assert (
        api(tradegecko_sandbox, tokens["access_token"])
        .get(tradegecko_sandbox.base_url + "/orders", timeout=5)
        .status_code
        == 401
    )
    refresh = token_request(tradegecko_sandbox, grant_type="refresh_token", refresh_token=tokens["refresh_token"])
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"


def test_api_call_without_bearer_token_is_401(tradegecko_sandbox):
    for value in (None, "Bearer ", "Bearer unknown", "Basic eDp5", tradegecko_sandbox.access_token):
        headers = {"Authorization": value} if value else {}
        response = requests.get(tradegecko_sandbox.base_url + "/orders", headers=headers, timeout=5)
        assert response.status_code == 401
        assert response.json()["type"] == "Unauthorized"
        assert response.headers["X-Request-ID"]


# -- paging ------------------------------------------------------------------------------------------


def test_limit_above_250_or_a_bad_page_is_400(tradegecko_sandbox):
    assert get(tradegecko_sandbox, "/orders", limit=250).status_code == 200
    for params in ({"limit": 251}, {"limit": "ten"}, {"page": 0}, {"page": -1}):
        response = get(tradegecko_sandbox, "/orders", **params)
        assert response.status_code == 400, params
        assert response.json()["type"] == "BadRequest"


def test_x_pagination_header_pages_through_orders_in_id_order(tradegecko_sandbox):
    seeded = [tradegecko_sandbox.add_order(f"SO{n}") for n in range(5)]
    seen = []
    for page in (1, 2, 3):
        response = get(tradegecko_sandbox, "/orders", limit=2, page=page)
        header = pagination(response)
        assert header == {
            "total_records": 5,
            "total_pages": 3,
            "first_page": page == 1,
            "last_page": page == 3,
            "out_of_bounds": False,
            "offset": (page - 1) * 2,
        }
        seen += [order["id"] for order in response.json()["orders"]]
    assert seen == [order["id"] for order in seeded]
    beyond = get(tradegecko_sandbox, "/orders", limit=2, page=4)
    assert beyond.status_code == 200 and beyond.json() == {"orders": []}
    assert pagination(beyond)["out_of_bounds"] is True
    assert len(get(tradegecko_sandbox, "/orders").json()["orders"]) == 5  # default limit 50
    assert pagination(get(tradegecko_sandbox, "/orders", limit=0))["total_records"] == 5


# -- orders ------------------------------------------------------------------------------------------


def test_order_filters_match_the_documented_parameters(tradegecko_sandbox):
    second = tradegecko_sandbox.add_location("Second")
    old = tradegecko_sandbox.add_order("SO1", reference_number="R1", created_at=T0)
    new = tradegecko_sandbox.add_order(
        "SO2", reference_number="R2", stock_location_id=second, created_at=T0 + timedelta(days=2)
    )
    draft = tradegecko_sandbox.add_order("SO3", status="draft", created_at=T0 + timedelta(days=3))
    shipped = tradegecko_sandbox.add_order(
        "SO4", fulfillment_status="shipped", created_at=T0 + timedelta(days=4), updated_at=T0 + timedelta(days=4)
    )

    def ids(**params) -> list[int]:
        response = get(tradegecko_sandbox, "/orders", **params)
        assert response.status_code == 200, response.text
        return [order["id"] for order in response.json()["orders"]]

    assert ids(status="active") == [old["id"], new["id"], shipped["id"]]
    assert ids(status="draft,active", fulfillment_status="unshipped") == [old["id"], new["id"], draft["id"]]
    assert ids(**{"fulfillment_status[]": ["partial", "shipped"]}) == [shipped["id"]]
    assert ids(updated_at_min="2024-03-04T00:00:00Z") == [draft["id"], shipped["id"]]
    assert ids(updated_at_min="2024-03-04T12:00:00.000Z", updated_at_max="2024-03-05") == [draft["id"]]  # inclusive
    assert ids(created_at_min="2024-03-02") == [new["id"], draft["id"], shipped["id"]]
    assert ids(stock_location_id=second) == [new["id"]]
    assert ids(reference_number="R1") == [old["id"]]
    assert ids(order_number="SO3") == [draft["id"]]
    assert ids(**{"ids[]": [new["id"], shipped["id"]]}) == [new["id"], shipped["id"]]
    assert ids(order="updated_at desc", limit=1) == [shipped["id"]]
    assert get(tradegecko_sandbox, "/orders", updated_at_min="yesterday").status_code == 400


def test_lines_carry_variant_ids_not_skus_and_the_shipping_method_is_a_line(tradegecko_sandbox):
    variant = tradegecko_sandbox.add_variant("WIDGET-1", name="Widget", stock=5)
    order = tradegecko_sandbox.add_order(
        "SO1", lines=[{"sku": "WIDGET-1", "quantity": 2, "price": "189"}], shipping_method="Express"
    )
    fetched = get(tradegecko_sandbox, f"/orders/{order['id']}").json()["order"]
    assert fetched["order_line_item_ids"] == order["order_line_item_ids"]
    lines = get(tradegecko_sandbox, "/order_line_items", order_id=order["id"]).json()["order_line_items"]
    product, shipping = lines
    assert "sku" not in product
    assert (product["variant_id"], product["quantity"], product["price"], product["line_type"]) == (
        variant["id"],
        "2.0",
        "189.0",
        "product",
    )
    assert (shipping["line_type"], shipping["label"], shipping["variant_id"]) == ("shipping", "Express", None)
    variants = get(tradegecko_sandbox, "/variants", **{"ids[]": [product["variant_id"]]}).json()["variants"]
    assert [v["sku"] for v in variants] == ["WIDGET-1"]
    assert variants[0]["locations"][0]["committed"] == "2.0" and variants[0]["available_stock"] == "3.0"
    address = get(tradegecko_sandbox, f"/addresses/{fetched['shipping_address_id']}").json()["address"]
    assert (address["first_name"], address["zip_code"], address["country"]) == ("Ada", "07030", "US")


def test_create_order_with_embedded_company_address_and_lines(tradegecko_sandbox):
    variant = tradegecko_sandbox.add_variant("SKU-9", stock=3)
    body = {
        "order": {
            "company": {"name": "Ada Lovelace", "company_type": "consumer"},
            "email": "ada@example.com",
            "issued_at": "2024-03-01",
            "reference_number": "SQ-1001",
            "status": "active",
            "shipping_address": {
                "first_name": "Ada",
                "address1": "12 Analytical Row",
                "city": "Hoboken",
                "zip_code": "07030",
                "country": "US",
            },
            "order_line_items": [
                {"variant_id": variant["id"], "quantity": 2, "price": "10.5"},
                {"line_type": "shipping", "label": "UPS Ground", "quantity": 1, "price": 5},
            ],
        }
    }
    response = api(tradegecko_sandbox).post(tradegecko_sandbox.base_url + "/orders", json=body, timeout=5)
    assert response.status_code == 201, response.text
    order = response.json()["order"]
    assert order["reference_number"] == "SQ-1001" and order["status"] == "active"
    assert order["fulfillment_status"] == "unshipped" and order["total"] == "26.0"
    assert order["order_number"].startswith("SO") and order["billing_address_id"] == order["shipping_address_id"]
    company = get(tradegecko_sandbox, f"/companies/{order['company_id']}").json()["company"]
    assert company["name"] == "Ada Lovelace" and company["address_ids"] == [order["shipping_address_id"]]
    assert get(tradegecko_sandbox, "/orders", reference_number="SQ-1001").json()["orders"][0]["id"] == order["id"]


def test_duplicate_reference_for_the_same_company_is_422(tradegecko_sandbox):
    variant = tradegecko_sandbox.add_variant("SKU-1", stock=3)
    companies = [
        api(tradegecko_sandbox)
        .post(tradegecko_sandbox.base_url + "/companies", timeout=5, json={"company": {"name": name}})
        .json()["company"]["id"]
        for name in ("Shop A", "Shop B")
    ]

    def create(company_id: int) -> requests.Response:
        body = {
            "order": {
                "company_id": company_id,
                "issued_at": "2024-03-01",
                "reference_number": "SQ-7",
                "shipping_address": {"address1": "1 Main St"},
                "order_line_items": [{"variant_id": variant["id"], "quantity": 1}],
            }
        }
        return api(tradegecko_sandbox).post(tradegecko_sandbox.base_url + "/orders", json=body, timeout=5)

    assert create(companies[0]).status_code == 201
    duplicate = create(companies[0])
    assert duplicate.status_code == 422
    assert duplicate.json() == {"errors": {"reference_number": ["has already been taken"]}}
    assert create(companies[1]).status_code == 201
    assert len(tradegecko_sandbox.orders_by_reference()["SQ-7"]) == 2
    assert tradegecko_sandbox.duplicate_count() == 1


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"issued_at": None}, {"issued_at": ["can't be blank"]}),
        ({"company_id": None}, {"company_id": ["can't be blank"]}),
        ({"shipping_address": None}, {"shipping_address_id": ["can't be blank"]}),
        (
            {"order_line_items": [{"variant_id": 999999, "quantity": 1}]},
            {"order_line_items.variant_id": ["is invalid"]},
        ),
        ({"order_line_items": [{"variant_id": "V", "quantity": 0}]}, {"order_line_items.variant_id": ["is invalid"]}),
        ({"stock_location_id": 999999}, {"stock_location_id": ["is invalid"]}),
        ({"status": "fulfilled"}, {"status": ["must be draft or active when creating an order"]}),
    ],
)
def test_create_order_validation_errors_are_422_and_create_nothing(tradegecko_sandbox, change, errors):
    company = tradegecko_sandbox.add_company("Shop")
    body = {
        "company_id": company["id"],
        "issued_at": "2024-03-01",
        "shipping_address": {"address1": "1 Main St"},
        **change,
    }
    response = api(tradegecko_sandbox).post(tradegecko_sandbox.base_url + "/orders", json={"order": body}, timeout=5)
    assert response.status_code == 422 and response.json() == {"errors": errors}
    assert tradegecko_sandbox.orders == [] and get(tradegecko_sandbox, "/addresses").json()["addresses"] == []


def test_a_body_without_the_root_key_is_400_and_an_unknown_order_404(tradegecko_sandbox):
    session = api(tradegecko_sandbox)
    response = session.post(tradegecko_sandbox.base_url + "/orders", json={"issued_at": "2024-03-01"}, timeout=5)
    assert response.status_code == 400 and "order" in response.json()["message"]
    missing = get(tradegecko_sandbox, "/orders/424242")
    assert missing.status_code == 404 and missing.json()["type"] == "NotFound"


def test_update_order_answers_204_and_moves_updated_at(tradegecko_sandbox):
    order = tradegecko_sandbox.add_order("SO1", created_at=T0)
    response = api(tradegecko_sandbox).put(
        tradegecko_sandbox.base_url + f"/orders/{order['id']}",
        timeout=5,
        json={"order": {"notes": "gift wrap", "fulfillment_status": "shipped"}},
    )
    assert response.status_code == 204 and response.content == b""
    fetched = get(tradegecko_sandbox, f"/orders/{order['id']}").json()["order"]
    assert fetched["notes"] == "gift wrap" and fetched["fulfillment_status"] == "unshipped"  # read-only
    assert fetched["updated_at"] > order["updated_at"]


# -- fulfillments ------------------------------------------------------------------------------------


def test_partial_fulfillment_packs_then_ships_and_updates_order_status(tradegecko_sandbox):
    tradegecko_sandbox.add_variant("SKU-1", stock=10)
    order = tradegecko_sandbox.add_order("SO1", lines=[{"sku": "SKU-1", "quantity": 3}], created_at=T0)
    line_id = order["order_line_item_ids"][0]
    session = api(tradegecko_sandbox)
    too_many = session.post(
        tradegecko_sandbox.base_url + "/fulfillments",
        timeout=5,
        json={
            "fulfillment": {
                "order_id": order["id"],
                "fulfillment_line_items": [{"order_line_item_id": line_id, "quantity": 4}],
            }
        },
    )
    assert too_many.status_code == 422
    created = session.post(
        tradegecko_sandbox.base_url + "/fulfillments",
        timeout=5,
        json={
            "fulfillment": {
                "order_id": order["id"],
                "fulfillment_line_items": [{"order_line_item_id": line_id, "quantity": 1}],
            }
        },
    )
    assert created.status_code == 201, created.text
    fulfillment = created.json()["fulfillment"]
    assert fulfillment["status"] == "packed"
    assert created.json()["fulfillment_line_items"][0]["quantity"] == "1.0"
    packed = get(tradegecko_sandbox, f"/orders/{order['id']}").json()["order"]
    assert (packed["packed_status"], packed["fulfillment_status"]) == ("partial", "unshipped")
    assert packed["updated_at"] > order["updated_at"]
    shipped = session.put(
        tradegecko_sandbox.base_url + f"/fulfillments/{fulfillment['id']}",
        timeout=5,
        json={
            "fulfillment": {
                "status": "fulfilled",
                "tracking_number": "1Z999",
                "tracking_company": "UPS",
                "tracking_url": "https://ups.example/1Z999",
                "service": "Ground",
            }
        },
    )
    assert shipped.status_code == 204
    assert get(tradegecko_sandbox, f"/orders/{order['id']}").json()["order"]["fulfillment_status"] == "partial"
    listed = get(tradegecko_sandbox, "/fulfillments", order_id=order["id"]).json()["fulfillments"]
    assert [(f["status"], f["tracking_number"], f["tracking_company"]) for f in listed] == [
        ("fulfilled", "1Z999", "UPS")
    ]
    assert listed[0]["shipped_at"]
    assert tradegecko_sandbox.variant_stock("SKU-1") == 9


def test_fulfil_action_ships_everything_left_once(tradegecko_sandbox):
    order = tradegecko_sandbox.add_order(
        "SO1", lines=[{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}], fulfillment_status="partial"
    )
    assert order["fulfillment_status"] == "partial"
    session = api(tradegecko_sandbox)
    url = tradegecko_sandbox.base_url + f"/orders/{order['id']}/actions/fulfil"
    response = session.post(url, json={"tracking_number": "TRK1", "tracking_company": "FedEx"}, timeout=5)
    assert response.status_code == 200, response.text
    assert response.json()["order"]["fulfillment_status"] == "shipped"
    fulfillments = get(tradegecko_sandbox, "/fulfillments", order_id=order["id"]).json()["fulfillments"]
    assert len(fulfillments) == 2 and fulfillments[1]["tracking_number"] == "TRK1"
    items = get(tradegecko_sandbox, "/fulfillment_line_items", fulfillment_id=fulfillments[1]["id"])
    assert sorted(item["quantity"] for item in items.json()["fulfillment_line_items"]) == ["1.0", "1.0"]
    again = session.post(url, timeout=5)
    assert again.status_code == 422 and "base" in again.json()["errors"]


def test_fulfil_action_reads_its_fields_flat_and_ships_a_wrapped_body_without_tracking(tradegecko_sandbox):
    """The action's envelope is not documented: a body that wraps the fields is read as a platform
    reading them elsewhere would, so a client relying on a guessed envelope shows in the store."""
    order = tradegecko_sandbox.add_order("SO1", lines=[{"sku": "A", "quantity": 1}])
    url = tradegecko_sandbox.base_url + f"/orders/{order['id']}/actions/fulfil"

    response = api(tradegecko_sandbox).post(
        url, json={"fulfillment": {"tracking_number": "TRK9", "tracking_company": "UPS"}}, timeout=5
    )

    assert response.status_code == 200, response.text
    (fulfillment,) = get(tradegecko_sandbox, "/fulfillments", order_id=order["id"]).json()["fulfillments"]
    assert fulfillment["status"] == "fulfilled" and fulfillment["tracking_number"] is None


def test_warehouse_fulfil_helper_creates_tracked_fulfillments(tradegecko_sandbox):
    tradegecko_sandbox.add_order("SO1", reference_number="SQ-1", lines=[{"sku": "A", "quantity": 3}])
    shipped_at = T0 + timedelta(hours=5)
    ups = {"tracking_company": "UPS", "service": "Ground"}
    created = tradegecko_sandbox.fulfil(
        "SQ-1",
        shipped_at=shipped_at,
        packages=[
            {"tracking_number": "P1", **ups, "lines": [{"sku": "A", "quantity": 2}]},
            {"tracking_number": "P2", **ups, "lines": [{"sku": "A", "quantity": 1}]},
        ],
    )
    assert [f["tracking_number"] for f in created] == ["P1", "P2"]
    order = tradegecko_sandbox.order("SQ-1")
    assert order["fulfillment_status"] == "shipped"
    listed = get(tradegecko_sandbox, "/fulfillments", shipped_at_min="2024-03-01T17:00:00Z").json()["fulfillments"]
    assert [f["shipped_at"] for f in listed] == ["2024-03-01T17:00:00.000Z"] * 2
    with pytest.raises(ValueError):
        tradegecko_sandbox.fulfil("SQ-1", packages=[{"lines": [{"sku": "A", "quantity": 1}]}])


# -- stock ---------------------------------------------------------------------------------------------


def adjust(
    sandbox: TradeGeckoSandbox, items: list[dict], key: str | None = None, location: int | None = None
) -> requests.Response:
    body = {
        "stock_adjustment": {
            "stock_location_id": location or sandbox.primary_location_id,
            "reason": "stocktake",
            "stock_adjustment_line_items": items,
        }
    }
    headers = {"Idempotency-Key": key} if key else {}
    return api(sandbox).post(sandbox.base_url + "/stock_adjustments", json=body, headers=headers, timeout=5)


def test_stock_adjustments_apply_deltas_per_location(tradegecko_sandbox):
    second = tradegecko_sandbox.add_location("Overflow")
    a = tradegecko_sandbox.add_variant("A", stock=10)
    b = tradegecko_sandbox.add_variant("B", stock=1, location_id=second)
    response = adjust(
        tradegecko_sandbox,
        [{"variant_id": a["id"], "quantity": 5}, {"variant_id": b["id"], "quantity": "-3"}],
        location=second,
    )
    assert response.status_code == 201, response.text
    assert [line["quantity"] for line in response.json()["stock_adjustment_line_items"]] == ["5.0", "-3.0"]
    assert tradegecko_sandbox.variant_stock("A") == 15 and tradegecko_sandbox.variant_stock("A", second) == 5
    assert tradegecko_sandbox.variant_stock("B") == -2
    variant = get(tradegecko_sandbox, "/variants", sku="A").json()["variants"][0]
    assert variant["stock_on_hand"] == "15.0"
    assert {loc["location_id"]: loc["stock_on_hand"] for loc in variant["locations"]} == {
        tradegecko_sandbox.primary_location_id: "10.0",
        second: "5.0",
    }
    recorded = tradegecko_sandbox.stock_adjustments
    assert [len(r["stock_adjustment_line_items"]) for r in recorded] == [2]


def test_idempotency_key_applies_a_stock_adjustment_once(tradegecko_sandbox):
    variant = tradegecko_sandbox.add_variant("A", stock=10)
    first = adjust(tradegecko_sandbox, [{"variant_id": variant["id"], "quantity": -4}], key="sync-42")
    again = adjust(tradegecko_sandbox, [{"variant_id": variant["id"], "quantity": -4}], key="sync-42")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and again.headers["Idempotent-Replayed"] == "true"
    assert tradegecko_sandbox.variant_stock("A") == 6 and len(tradegecko_sandbox.stock_adjustments) == 1
    other = adjust(tradegecko_sandbox, [{"variant_id": variant["id"], "quantity": -1}], key="sync-42")
    assert other.status_code == 422 and "idempotency_key" in other.json()["errors"]
    assert adjust(tradegecko_sandbox, [{"variant_id": variant["id"], "quantity": -4}]).status_code == 201
    assert tradegecko_sandbox.variant_stock("A") == 2


@pytest.mark.parametrize(
    ("item", "field"),
    [
        ({"variant_id": 999999, "quantity": 1}, "stock_adjustment_line_items.variant_id"),
        ({"quantity": 1}, "stock_adjustment_line_items.variant_id"),
        (None, "stock_adjustment_line_items.quantity"),
    ],
)
def test_bad_stock_adjustments_are_422_and_change_nothing(tradegecko_sandbox, item, field):
    variant = tradegecko_sandbox.add_variant("A", stock=10)
    response = adjust(tradegecko_sandbox, [item or {"variant_id": variant["id"], "quantity": 0}])
    assert response.status_code == 422 and field in response.json()["errors"]
    assert tradegecko_sandbox.variant_stock("A") == Decimal(10) and tradegecko_sandbox.stock_adjustments == []


def test_variants_by_sku_may_match_several(tradegecko_sandbox):
    tradegecko_sandbox.add_variant("DUP", name="Red")
    tradegecko_sandbox.add_variant("DUP", name="Blue")
    assert [v["name"] for v in get(tradegecko_sandbox, "/variants", sku="DUP").json()["variants"]] == ["Red", "Blue"]
    assert get(tradegecko_sandbox, "/variants", sku="dup").json()["variants"] == []


# -- rate limit and faults -------------------------------------------------------------------------


def test_rate_limit_headers_on_every_answer_and_429_until_reset(limited):
    first, second = get(limited, "/locations"), get(limited, "/orders")
    assert first.headers["X-Rate-Limit-Limit"] == "2"
    assert (first.headers["X-Rate-Limit-Remaining"], second.headers["X-Rate-Limit-Remaining"]) == ("1", "0")
    refused = get(limited, "/orders")
    assert refused.status_code == 429 and refused.json()["type"] == "TooManyRequests"
    reset = int(refused.headers["X-Rate-Limit-Reset"])
    assert refused.headers["X-Rate-Limit-Remaining"] == "0" and reset >= int(time.time())
    while time.time() < reset:
        time.sleep(0.05)
    again = get(limited, "/orders")
    assert again.status_code == 200 and again.headers["X-Rate-Limit-Remaining"] == "1"


def test_request_ids_are_unique_and_oauth_is_not_rate_limited(limited):
    ids = {get(limited, "/orders").headers["X-Request-ID"] for _ in range(2)}
    assert len(ids) == 2
    token = token_request(limited, grant_type="authorization_code", code=authorization_code(limited))
    assert token.status_code == 200 and token.headers["X-Request-ID"] not in ids
    assert "X-Rate-Limit-Limit" not in token.headers


def test_fault_injection_still_works(tradegecko_sandbox):
    tradegecko_sandbox.fail_next(status=503, path_contains="/orders")
    failed = get(tradegecko_sandbox, "/orders")
    assert failed.status_code == 503 and failed.json()["type"] == "ServiceUnavailable"
    assert failed.headers["X-Request-ID"]
    assert get(tradegecko_sandbox, "/orders").status_code == 200
    company = tradegecko_sandbox.add_company("Shop")
    tradegecko_sandbox.fail_next(mode="after", status=502, method="POST", path_contains="/orders")
    body = {
        "order": {
            "company_id": company["id"],
            "issued_at": "2024-03-01",
            "reference_number": "SQ-LOST",
            "shipping_address": {"address1": "1 Main St"},
        }
    }
    lost = api(tradegecko_sandbox).post(tradegecko_sandbox.base_url + "/orders", json=body, timeout=5)
    assert lost.status_code == 502
    found = get(tradegecko_sandbox, "/orders", reference_number="SQ-LOST").json()["orders"]
    assert len(found) == 1
    assert tradegecko_sandbox.handler_errors == []


def test_a_retry_with_the_same_idempotency_key_after_a_lost_reply_creates_one_order(tradegecko_sandbox):
    company = tradegecko_sandbox.add_company("Shop")
    body = {
        "order": {
            "company_id": company["id"],
            "issued_at": "2024-03-01",
            "reference_number": "SQ-9",
            "shipping_address": {"address1": "1 Main St"},
        }
    }
    tradegecko_sandbox.fail_next(mode="after_drop", method="POST", path_contains="/orders")
    session = api(tradegecko_sandbox)
    headers = {"Idempotency-Key": "order-SQ-9"}
    with pytest.raises(requests.ConnectionError):
        session.post(tradegecko_sandbox.base_url + "/orders", json=body, headers=headers, timeout=5)
    retried = session.post(tradegecko_sandbox.base_url + "/orders", json=body, headers=headers, timeout=5)
    assert retried.status_code == 201 and retried.headers["Idempotent-Replayed"] == "true"
    assert retried.json()["order"]["id"] == tradegecko_sandbox.order("SQ-9")["id"]
    assert tradegecko_sandbox.duplicate_count() == 0 and len(tradegecko_sandbox.orders) == 1
