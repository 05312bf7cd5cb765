"""The multi-account sandboxes of the fleet benchmark: each account its own store and rate limit, answers
delayed without holding the others up."""

from __future__ import annotations

import threading

import requests

from sandbox.bench.accounts import BergenAccounts, SquarespaceAccounts

ORDERS = "/1.0/commerce/orders"


def _squarespace_get(base_url: str, key: str) -> requests.Response:
    return requests.get(
        base_url + ORDERS, headers={"Authorization": f"Bearer {key}", "User-Agent": "fleet-test"}, timeout=10
    )


def test_each_squarespace_key_sees_its_own_site_and_an_unknown_key_is_refused():
    server = SquarespaceAccounts()
    first, second = server.add_account("key-a"), server.add_account("key-b")
    first.add_order(order_number="1001")
    second.add_order(order_number="2001")
    second.add_order(order_number="2002")
    with server:
        a = _squarespace_get(server.base_url, "key-a").json()["result"]
        b = _squarespace_get(server.base_url, "key-b").json()["result"]
        unknown = _squarespace_get(server.base_url, "key-z")
    assert [o["orderNumber"] for o in a] == ["1001"]
    assert sorted(o["orderNumber"] for o in b) == ["2001", "2002"]
    assert unknown.status_code == 401
    assert unknown.json()["type"] == "AUTHORIZATION_ERROR"


def test_the_rate_limit_is_per_account_and_its_refusals_are_counted():
    server = SquarespaceAccounts()
    server.add_account("busy", rate_limit_per_minute=2)
    server.add_account("quiet", rate_limit_per_minute=2)
    with server:
        busy = [_squarespace_get(server.base_url, "busy").status_code for _ in range(3)]
        quiet = _squarespace_get(server.base_url, "quiet").status_code
    assert busy == [200, 200, 429]
    assert quiet == 200
    assert server.throttled == 1


def test_a_bergen_token_names_the_account_that_asked_for_it():
    server = BergenAccounts()
    first = server.add_account("user-a", "pass-a", customer="FLEET")
    server.add_account("user-b", "pass-b", customer="FLEET")
    first.add_item("SKU-1", facility="NJ")
    with server:
        token = requests.post(
            server.base_url + "/AuthServer/api/Token",
            auth=("user-a", "pass-a"),
            json={"grant_type": "client_credentials"},
            timeout=10,
        ).json()["access_token"]
        rows = requests.get(
            server.base_url + "/inventory/stocksummaries", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).json()["summaries"]
        wrong = requests.post(
            server.base_url + "/AuthServer/api/Token",
            auth=("user-b", "pass-a"),
            json={"grant_type": "client_credentials"},
            timeout=10,
        )
    assert [row["itemIdentifier"]["sku"] for row in rows] == ["SKU-1"]
    assert wrong.status_code == 401


def test_latency_delays_answers_without_serializing_the_server():
    """Every request is received while the first one's answer is still held back by the latency."""
    server = SquarespaceAccounts()
    server.add_account("key-a")
    server.latency_seconds = 3.0
    answered: list[int] = []
    with server:
        threads = [
            threading.Thread(target=lambda: answered.append(_squarespace_get(server.base_url, "key-a").status_code))
            for _ in range(5)
        ]
        for thread in threads:
            thread.start()
        received_all = threading.Event()
        while not received_all.wait(0.02) and not answered:
            if server.requests_served == 5:
                received_all.set()
        for thread in threads:
            thread.join()
    assert received_all.is_set(), "a request was answered before all five were received: the server serialized"
    assert answered == [200] * 5
