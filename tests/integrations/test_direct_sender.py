"""The client's direct path (`DirectSender`) sends what `requests.Session.request` would send.

Each request shape is sent twice to the Squarespace sandbox, once directly and once through the
session's full path, and the two requests as the sandbox received them must be the same."""

from __future__ import annotations

import socket
import threading

import pytest

from integrations import http
from integrations.connectors.errors import PermanentError, TemporaryError
from integrations.http import ApiClient
from integrations.outbound import SANDBOX_TOOLING

KEY = "sandbox-squarespace-key"
ORDERS = "/1.0/commerce/orders"
FULFIL = "/1.0/commerce/orders/5f3e1a2b3c4d5e6f7a8b9c0d/fulfillments"


def client(base_url: str, **kwargs) -> ApiClient:
    return ApiClient(
        base_url,
        platform="Squarespace Commerce",
        rate_key="test",
        headers={"Authorization": f"Bearer {KEY}"},
        outbound=SANDBOX_TOOLING,
        **kwargs,
    )


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    asked: list[float] = []
    monkeypatch.setattr(http.time, "sleep", asked.append)
    return asked


def through_session(api: ApiClient, monkeypatch) -> ApiClient:
    monkeypatch.setattr(api._direct, "can_send", lambda url, data: False)
    return api


ANY_ANSWER = range(400, 500)  # what the sandbox answers does not matter here, only what it received
SHAPES = [
    pytest.param("GET", ORDERS, {}, id="plain get"),
    pytest.param(
        "GET",
        ORDERS + "?cursor=abc",
        {"params": [("fulfillmentStatus", "PENDING"), ("skip", None), ("tag", ["a b", "é"])]},
        id="params appended, None left out, lists repeated, text quoted",
    ),
    pytest.param("GET", ORDERS, {"params": {"modifiedAfter": "2026-12-01T00:00:00Z"}}, id="params as a mapping"),
    pytest.param("POST", FULFIL, {"json_body": {"shipments": [], "note": "café"}}, id="json body"),
    pytest.param(
        "POST",
        FULFIL,
        {"data": b"<x/>", "headers": {"Content-Type": "application/xml"}},
        id="bytes body with its content type",
    ),
    pytest.param("POST", FULFIL, {}, id="post without a body"),
    pytest.param(
        "GET", ORDERS, {"headers": {"accept": "text/plain", "Authorization": None, "X-Extra": "1"}}, id="headers"
    ),
    pytest.param("GET", "/1.0/commerce/orders/a b%20c/ü", {}, id="path quoted"),
]


@pytest.mark.parametrize("method,path,kwargs", SHAPES)
def test_the_direct_path_sends_the_request_the_session_would(squarespace_sandbox, monkeypatch, method, path, kwargs):
    direct = client(squarespace_sandbox.base_url)
    full = through_session(client(squarespace_sandbox.base_url), monkeypatch)

    answers = [api.request(method, path, ok_statuses=ANY_ANSWER, **kwargs) for api in (direct, full)]

    sent, expected = squarespace_sandbox.requests[-2:]
    assert (sent.method, sent.path, sent.query, sent.body) == (
        expected.method,
        expected.path,
        expected.query,
        expected.body,
    )
    assert {k.lower(): v for k, v in sent.headers.items()} == {k.lower(): v for k, v in expected.headers.items()}
    assert answers[0].status_code == answers[1].status_code
    assert answers[0].headers["Content-Type"] == answers[1].headers["Content-Type"]
    assert answers[0].json().keys() == answers[1].json().keys()


def test_basic_auth_is_sent_as_the_session_sends_it(squarespace_sandbox, monkeypatch):
    auth = ("merchant-ü", "p:ss")
    for api in (
        client(squarespace_sandbox.base_url, auth=auth),
        through_session(client(squarespace_sandbox.base_url, auth=auth), monkeypatch),
    ):
        api.request("GET", ORDERS, ok_statuses=(401,))

    sent, expected = squarespace_sandbox.requests[-2:]
    assert sent.header("Authorization") == expected.header("Authorization")
    assert sent.header("Authorization").startswith("Basic ")


def test_a_redirected_get_is_followed_to_its_answer(squarespace_sandbox):
    squarespace_sandbox.fail_next(
        1, status=302, path_contains=ORDERS, headers={"Location": ORDERS + "?fulfillmentStatus=PENDING"}, body=""
    )

    response = client(squarespace_sandbox.base_url).request("GET", ORDERS)

    assert response.status_code == 200 and "result" in response.json()
    assert [r.status_code for r in response.history] == [302]
    first, second = squarespace_sandbox.requests_to(ORDERS, "GET")
    assert second.query == {"fulfillmentStatus": ["PENDING"]}
    assert second.header("Authorization") == f"Bearer {KEY}"  # same host: the credentials go along


def test_a_post_answered_303_is_followed_with_a_get_as_requests_does(squarespace_sandbox):
    squarespace_sandbox.fail_next(1, status=303, path_contains=FULFIL, headers={"Location": ORDERS}, body="")

    response = client(squarespace_sandbox.base_url).request("POST", FULFIL, json_body={"shipments": []})

    assert response.status_code == 200
    assert [(r.method, r.path) for r in squarespace_sandbox.requests[-2:]] == [("POST", FULFIL), ("GET", ORDERS)]


def test_a_request_after_the_session_closed_its_pools_is_sent_on_a_fresh_one(squarespace_sandbox):
    api = client(squarespace_sandbox.base_url)
    api.get_json(ORDERS)

    api.session.close()  # closes the pool the direct path kept

    assert "result" in api.get_json(ORDERS)
    assert len(squarespace_sandbox.requests_to(ORDERS, "GET")) == 2


def test_a_json_body_that_is_not_json_is_refused_before_anything_is_sent(squarespace_sandbox, sleeps):
    with pytest.raises(PermanentError, match="bad request"):
        client(squarespace_sandbox.base_url).request("POST", FULFIL, json_body={"weight": float("nan")})

    assert squarespace_sandbox.requests_to(FULFIL) == []


def _whole_request(conn: socket.socket) -> bytes:
    """One request, read to the end of its body (it may arrive in several segments)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")),
        0,
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


@pytest.fixture
def cut_off_server():
    """A server that answers every request with a body shorter than its Content-Length, then hangs up."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    received: list[bytes] = []

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                received.append(_whole_request(conn))
                conn.sendall(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"id":')
                # Hang up with nothing left unread (unread bytes would make the close a reset, not a cut-off).
                conn.shutdown(socket.SHUT_WR)

    threading.Thread(target=serve, daemon=True).start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}", received
    listener.close()


@pytest.mark.parametrize("path", ["direct", "session"])
def test_an_answer_cut_off_mid_body_may_have_delivered_a_post_and_a_get_is_retried(
    cut_off_server, sleeps, monkeypatch, path
):
    url, received = cut_off_server
    api = client(url)
    if path == "session":
        through_session(api, monkeypatch)

    with pytest.raises(TemporaryError, match="cut off") as caught:
        api.request("POST", FULFIL, json_body={"shipments": []})
    assert caught.value.maybe_delivered is True and len(received) == 1  # never resent

    with pytest.raises(TemporaryError, match="cut off"):
        api.get_json(ORDERS)
    assert len(received) == 1 + 1 + http.settings.HTTP_MAX_RETRIES
