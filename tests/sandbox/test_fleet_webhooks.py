"""The fleet benchmark's webhook mode in the multi-account sandbox: a granted token names its own site,
each site notifies from its own subscriptions (signed with its own secret), and the fleet's sender
posts each site's notifications and tries a refused one again."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from sandbox.bench.accounts import SquarespaceAccounts
from sandbox.bench.fleet_sandboxes import NotificationSender

ORDERS = "/1.0/commerce/orders"
HOOKS = "/1.0/webhook_subscriptions"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "User-Agent": "fleet-test"}


def _subscribe(base_url: str, token: str, endpoint: str) -> requests.Response:
    body = {"endpointUrl": endpoint, "topics": ["order.create"]}
    return requests.post(base_url + HOOKS, json=body, headers=_bearer(token), timeout=10)


class _Endpoint:
    """A loopback receiver that refuses its first ``refuse`` posts with 503, then keeps what it gets."""

    def __init__(self, refuse: int = 0) -> None:
        self.received: list[tuple[str, bytes, str]] = []
        self.refuse = refuse
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server name
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if endpoint.refuse > 0:
                    endpoint.refuse -= 1
                    self.send_response(503)
                else:
                    endpoint.received.append((self.path, body, self.headers["Squarespace-Signature"]))
                    self.send_response(200)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_a_granted_token_names_its_own_site_and_only_the_grant_may_subscribe():
    server = SquarespaceAccounts()
    first, second = server.add_account("key-a"), server.add_account("key-b")
    first.add_order(order_number="1001")
    second.add_order(order_number="2001")
    with server:
        token = server.grant("key-b")["access_token"]
        orders = requests.get(server.base_url + ORDERS, headers=_bearer(token), timeout=10).json()["result"]
        by_key = _subscribe(server.base_url, "key-b", "https://orderbridge.test/hooks/x/")
    assert [o["orderNumber"] for o in orders] == ["2001"]
    assert by_key.status_code == 401  # an API key gets no subscriptions, as documented


def test_an_http_endpoint_is_refused_unless_the_site_allows_it():
    server = SquarespaceAccounts()
    strict, relaxed = server.add_account("key-a"), server.add_account("key-b")
    relaxed.http_endpoints_allowed = True
    with server:
        refused = _subscribe(server.base_url, server.grant("key-a")["access_token"], "http://127.0.0.1:1/hooks/a/")
        made = _subscribe(server.base_url, server.grant("key-b")["access_token"], "http://127.0.0.1:1/hooks/b/")
    assert refused.status_code == 400 and not strict.subscriptions
    assert made.status_code == 200 and list(relaxed.subscriptions) == [made.json()["id"]]


def test_each_site_notifies_from_its_own_subscription_and_a_refused_post_is_sent_again():
    endpoint = _Endpoint(refuse=1)
    server = SquarespaceAccounts()
    sites = [server.add_account("key-a"), server.add_account("key-b")]
    for site in sites:
        site.http_endpoints_allowed = True
    sender = NotificationSender(sites)
    sender.RETRY_SECONDS = 0.1
    with server:
        secrets = []
        for key, name in (("key-a", "a"), ("key-b", "b")):
            made = _subscribe(server.base_url, server.grant(key)["access_token"], f"{endpoint.url}/hooks/{name}/")
            secrets.append(made.json()["secret"])
        sender.start()
        try:
            order = sites[1].add_order(order_number="2001")
            sender.pending(1)
            deadline = threading.Event()
            for _ in range(50):
                if endpoint.received:
                    break
                deadline.wait(0.1)
        finally:
            sender.stop()
            endpoint.server.shutdown()
    [(path, body, signature)] = endpoint.received
    assert path == "/hooks/b/"
    assert json.loads(body)["data"]["orderId"] == order["id"]
    assert signature == hmac.new(bytes.fromhex(secrets[1]), body, hashlib.sha256).hexdigest()
    assert sender.figures() == {
        "notifications_sent": 1,
        "notifications_accepted": 1,
        "notification_attempts_failed": 1,
    }
    assert not sites[0].outbox
