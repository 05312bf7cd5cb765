"""The shared HTTP client against the sandboxes over loopback: retries, throttling, errors, redaction."""

from __future__ import annotations

import json
import socket
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
import requests

from integrations import http
from integrations.connectors.errors import (
    AuthenticationError,
    BadPayloadError,
    PermanentError,
    TemporaryError,
    ThrottledError,
)
from integrations.http import ApiClient, parse_json, retry_after_seconds
from integrations.outbound import SANDBOX_TOOLING

KEY = "sandbox-squarespace-key"
ORDERS = "/1.0/commerce/orders"
FULFIL = "/1.0/commerce/orders/5f3e1a2b3c4d5e6f7a8b9c0d/fulfillments"
SHIPMENT = {"shouldSendNotification": False, "shipments": []}


def client(base_url: str, *, key: str = KEY, **kwargs) -> ApiClient:
    return ApiClient(
        base_url,
        platform="Squarespace Commerce",
        rate_key="test",
        headers={"Authorization": f"Bearer {key}"},
        secrets=[key],
        credential_name="the API key",
        outbound=SANDBOX_TOOLING,
        **kwargs,
    )


def closed_port_url() -> str:
    """A loopback address nobody listens on: connecting to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def sleeps(monkeypatch) -> list[float]:
    """The waits the client asks for, recorded instead of slept (what it waits is the behaviour)."""
    asked: list[float] = []
    monkeypatch.setattr(http.time, "sleep", asked.append)
    return asked


@pytest.fixture
def fast_timeout(settings):
    settings.HTTP_TIMEOUT_SECONDS = 0.5
    return settings


# --- what is sent ----------------------------------------------------------------------------------


def test_a_requests_own_headers_override_the_clients_ignoring_case_and_none_removes_one(squarespace_sandbox):
    api = ApiClient(
        squarespace_sandbox.base_url,
        platform="Squarespace Commerce",
        rate_key="test",
        headers={"Authorization": f"Bearer {KEY}", "Accept": "application/json", "X-Client": "kept"},
        outbound=SANDBOX_TOOLING,
    )

    api.get_json(ORDERS, headers={"accept": "application/vnd.test+json", "X-Client": None, "X-Extra": "1"})
    api.get_json(ORDERS)

    first, second = squarespace_sandbox.requests_to(ORDERS, "GET")
    assert first.header("Accept") == "application/vnd.test+json" and first.header("X-Extra") == "1"
    assert first.header("X-Client") is None
    assert first.header("User-Agent") == http.USER_AGENT
    # The client's own headers are untouched by a request's.
    assert (second.header("Accept"), second.header("X-Client"), second.header("X-Extra")) == (
        "application/json",
        "kept",
        None,
    )


def test_a_cookie_the_platform_sets_is_sent_back_on_the_next_request(squarespace_sandbox, sleeps):
    squarespace_sandbox.fail_next(1, status=500, path_contains=ORDERS, headers={"Set-Cookie": "lb=node-2; Path=/"})

    client(squarespace_sandbox.base_url).get_json(ORDERS, params={"fulfillmentStatus": "PENDING"})

    failed, retried = squarespace_sandbox.requests_to(ORDERS, "GET")
    assert failed.header("Cookie") is None
    assert retried.header("Cookie") == "lb=node-2"
    assert retried.query == {"fulfillmentStatus": ["PENDING"]}


# --- retries ---------------------------------------------------------------------------------------


def test_a_get_is_retried_after_a_500_and_succeeds(squarespace_sandbox, sleeps):
    squarespace_sandbox.fail_next(1, status=500, path_contains=ORDERS)

    body = client(squarespace_sandbox.base_url).get_json(ORDERS)

    assert body["result"] == []
    assert len(squarespace_sandbox.requests_to(ORDERS, "GET")) == 2
    assert len(sleeps) == 1  # one backoff between the two attempts


def test_a_get_gives_up_after_the_configured_retries(squarespace_sandbox, sleeps, settings):
    squarespace_sandbox.fail_next(10, status=502, path_contains=ORDERS)

    with pytest.raises(TemporaryError) as caught:
        client(squarespace_sandbox.base_url).get_json(ORDERS)

    assert len(squarespace_sandbox.requests_to(ORDERS)) == settings.HTTP_MAX_RETRIES + 1
    assert caught.value.status == 502
    assert "502" in str(caught.value)
    assert caught.value.maybe_delivered is False


def test_a_dropped_get_is_retried(squarespace_sandbox, sleeps):
    squarespace_sandbox.fail_next(1, mode="drop", path_contains=ORDERS)

    assert client(squarespace_sandbox.base_url).get_json(ORDERS)["result"] == []
    assert len(squarespace_sandbox.requests_to(ORDERS)) == 2


def test_a_post_is_not_resent_after_a_500(squarespace_sandbox, sleeps):
    squarespace_sandbox.fail_next(1, status=500, method="POST")

    with pytest.raises(TemporaryError) as caught:
        client(squarespace_sandbox.base_url).request("POST", FULFIL, json_body=SHIPMENT)

    assert caught.value.maybe_delivered is True
    assert caught.value.status == 500
    assert len(squarespace_sandbox.requests_to("/fulfillments", "POST")) == 1


def test_a_post_is_not_resent_after_a_timeout(squarespace_sandbox, fast_timeout, sleeps):
    squarespace_sandbox.fail_next(1, mode="timeout", delay=3, method="POST")

    with pytest.raises(TemporaryError) as caught:
        client(squarespace_sandbox.base_url).request("POST", FULFIL, json_body=SHIPMENT)

    assert caught.value.maybe_delivered is True
    assert "timed out after 0.5 s" in str(caught.value)
    assert len(squarespace_sandbox.requests_to("/fulfillments", "POST")) == 1


def test_a_post_whose_answer_is_lost_is_not_resent(squarespace_sandbox, sleeps):
    squarespace_sandbox.fail_next(1, mode="drop", method="POST")

    with pytest.raises(TemporaryError) as caught:
        client(squarespace_sandbox.base_url).request("POST", FULFIL, json_body=SHIPMENT)

    assert caught.value.maybe_delivered is True
    assert len(squarespace_sandbox.requests_to("/fulfillments", "POST")) == 1


def test_a_post_with_an_idempotency_key_is_retried(squarespace_sandbox, sleeps):
    order = squarespace_sandbox.add_order()
    squarespace_sandbox.fail_next(1, status=500, method="POST")

    response = client(squarespace_sandbox.base_url).request(
        "POST", f"{ORDERS}/{order['id']}/fulfillments", json_body=SHIPMENT, headers={"Idempotency-Key": "abc-123"}
    )

    assert response.status_code == 204
    assert len(squarespace_sandbox.requests_to("/fulfillments", "POST")) == 2


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_a_refused_connection_was_never_delivered(method, sleeps):
    base = closed_port_url()

    with pytest.raises(TemporaryError) as caught:
        client(base).request(method, ORDERS, json_body=SHIPMENT if method == "POST" else None)

    assert caught.value.maybe_delivered is False
    assert str(caught.value).startswith(f"could not reach {base}{ORDERS}")
    assert "connection refused" in str(caught.value)


def test_a_get_timeout_says_how_long_it_waited(squarespace_sandbox, fast_timeout, sleeps):
    squarespace_sandbox.fail_next(1, mode="timeout", delay=3, path_contains=ORDERS)

    with pytest.raises(TemporaryError) as caught:
        client(squarespace_sandbox.base_url, max_retries=0).get_json(ORDERS)

    assert "could not reach" in str(caught.value)
    assert "timed out after 0.5 s" in str(caught.value)
    assert caught.value.maybe_delivered is False


# --- rate limits -----------------------------------------------------------------------------------


def test_a_short_retry_after_is_waited_out(squarespace_sandbox, sleeps):
    squarespace_sandbox.fail_next(1, status=429, path_contains=ORDERS, headers={"Retry-After": "1"})

    assert client(squarespace_sandbox.base_url).get_json(ORDERS)["result"] == []
    assert sleeps == [1.0]
    assert len(squarespace_sandbox.requests_to(ORDERS)) == 2


def test_a_long_retry_after_raises_throttled_without_waiting(squarespace_sandbox, sleeps):
    squarespace_sandbox.fail_next(1, status=429, path_contains=ORDERS, headers={"Retry-After": "120"})

    with pytest.raises(ThrottledError) as caught:
        client(squarespace_sandbox.base_url).get_json(ORDERS)

    assert caught.value.retry_after == pytest.approx(120)
    assert "120 s" in str(caught.value)
    assert sleeps == []
    assert len(squarespace_sandbox.requests_to(ORDERS)) == 1


def test_a_retry_after_date_is_honoured(squarespace_sandbox, sleeps):
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    squarespace_sandbox.fail_next(1, status=429, path_contains=ORDERS, headers={"Retry-After": when})

    with pytest.raises(ThrottledError) as caught:
        client(squarespace_sandbox.base_url).get_json(ORDERS)

    assert caught.value.retry_after == pytest.approx(120, abs=3)
    assert sleeps == []


def test_a_near_rate_limit_reset_epoch_is_waited_out(squarespace_sandbox, sleeps):
    reset = str(int(time.time()) + 1)
    squarespace_sandbox.fail_next(1, status=429, path_contains=ORDERS, headers={"X-Rate-Limit-Reset": reset})

    assert client(squarespace_sandbox.base_url).get_json(ORDERS)["result"] == []
    [waited] = sleeps
    assert 0 <= waited <= 1


def test_a_far_rate_limit_reset_epoch_raises_throttled(squarespace_sandbox, sleeps):
    reset = str(int(time.time()) + 120)
    squarespace_sandbox.fail_next(1, status=429, path_contains=ORDERS, headers={"X-Rate-Limit-Reset": reset})

    with pytest.raises(ThrottledError) as caught:
        client(squarespace_sandbox.base_url).get_json(ORDERS)

    assert caught.value.retry_after == pytest.approx(120, abs=3)
    assert sleeps == []


def test_a_429_without_any_hint_uses_the_platforms_cooldown(squarespace_sandbox, sleeps):
    squarespace_sandbox.fail_next(1, status=429, path_contains=ORDERS)

    with pytest.raises(ThrottledError) as caught:
        client(squarespace_sandbox.base_url, default_cooldown=60).get_json(ORDERS)

    assert caught.value.retry_after == 60
    assert sleeps == []


def test_short_waits_are_not_repeated_forever(squarespace_sandbox, sleeps):
    squarespace_sandbox.fail_next(10, status=429, path_contains=ORDERS, headers={"Retry-After": "1"})

    with pytest.raises(ThrottledError):
        client(squarespace_sandbox.base_url).get_json(ORDERS)

    assert sleeps == [1.0, 1.0, 1.0]
    assert len(squarespace_sandbox.requests_to(ORDERS)) == 4


# --- authentication --------------------------------------------------------------------------------


def test_a_401_is_an_authentication_error_naming_the_credential(squarespace_sandbox):
    with pytest.raises(AuthenticationError) as caught:
        client(squarespace_sandbox.base_url, key="wrong-key-0042").get_json(ORDERS)

    assert caught.value.status == 401
    assert "401" in str(caught.value)
    assert "the API key" in str(caught.value)
    assert "wrong-key-0042" not in str(caught.value)
    assert len(squarespace_sandbox.requests) == 1  # never retried


def test_a_basic_auth_challenge_to_a_bearer_token_is_explained(squarespace_sandbox):
    squarespace_sandbox.basic_auth_challenge = True

    with pytest.raises(AuthenticationError) as caught:
        client(squarespace_sandbox.base_url).get_json(ORDERS)

    assert "401" in str(caught.value)
    assert "extra Basic Auth challenge" in str(caught.value)


def test_a_basic_challenge_to_basic_credentials_is_a_plain_refusal(bergen_sandbox):
    api = ApiClient(
        bergen_sandbox.base_url,
        platform="Bergen Logistics",
        rate_key="test",
        auth=("sandbox-user", "wrong-pass"),
        secrets=["wrong-pass"],
        credential_name="the API username or password",
        outbound=SANDBOX_TOOLING,
    )

    with pytest.raises(AuthenticationError) as caught:
        api.request("POST", "/AuthServer/api/Token", json_body={"grant_type": "client_credentials"})

    assert str(caught.value) == "401: the API username or password was refused by Bergen Logistics"


def test_a_403_says_the_credential_lacks_a_permission(squarespace_sandbox):
    squarespace_sandbox.fail_next(1, status=403, path_contains=ORDERS)

    with pytest.raises(AuthenticationError) as caught:
        client(squarespace_sandbox.base_url).get_json(ORDERS)

    assert caught.value.status == 403
    assert "lacks a permission" in str(caught.value)


# --- secrets and payloads --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 404, 422, 500])
def test_a_secret_echoed_in_an_error_body_is_redacted(squarespace_sandbox, sleeps, status):
    echo = json.dumps({"message": f"Key {KEY} is not valid for this site"})
    squarespace_sandbox.fail_next(10, status=status, body=echo, path_contains=ORDERS)

    with pytest.raises((PermanentError, TemporaryError)) as caught:
        client(squarespace_sandbox.base_url).get_json(ORDERS)

    assert KEY not in str(caught.value)
    assert "[redacted]" in str(caught.value)
    assert "is not valid for this site" in str(caught.value)


def test_a_body_that_is_not_json_is_described_never_quoted(squarespace_sandbox):
    squarespace_sandbox.fail_next(1, mode="truncated", body=f"<html>token {KEY}</html>", path_contains=ORDERS)

    with pytest.raises(BadPayloadError) as caught:
        client(squarespace_sandbox.base_url).get_json(ORDERS)

    assert "answered 200 with a body that is not valid JSON" in str(caught.value)
    assert "token" not in str(caught.value) and "html>" not in str(caught.value)
    assert KEY[:8] not in str(caught.value)


def test_a_secret_in_the_url_is_redacted_from_connection_errors(sleeps):
    base = closed_port_url()

    with pytest.raises(TemporaryError) as caught:
        client(base).get_json(f"/1.0/commerce/orders?key={KEY}")

    assert KEY not in str(caught.value)


def test_a_body_that_is_not_json_is_a_bad_payload(squarespace_sandbox):
    squarespace_sandbox.fail_next(1, mode="truncated", path_contains=ORDERS)
    response = client(squarespace_sandbox.base_url).request("GET", ORDERS)

    with pytest.raises(BadPayloadError) as caught:
        parse_json(response, "Squarespace Commerce")

    assert "not valid JSON" in str(caught.value)
    assert caught.value.status == 200


# --- retry_after_seconds ---------------------------------------------------------------------------


def answer(**headers: str) -> requests.Response:
    response = requests.Response()
    response.status_code = 429
    response.headers.update(headers)
    return response


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "30"}, 30),
        ({"Retry-After": " 2.5 "}, 2.5),
        ({"Retry-After": "-5"}, 0),
        ({"Retry-After": "soon"}, 60),  # unreadable: the default
        ({"RateLimit-Reset": "15"}, 15),  # seconds from now
        ({}, 60),
    ],
)
def test_retry_after_seconds_reads_seconds(headers, expected):
    assert retry_after_seconds(answer(**headers), 60) == pytest.approx(expected)


def test_retry_after_seconds_reads_an_http_date():
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=90), usegmt=True)

    assert retry_after_seconds(answer(**{"Retry-After": when}), 60) == pytest.approx(90, abs=2)


def test_retry_after_seconds_treats_a_past_date_as_now():
    when = format_datetime(datetime.now(UTC) - timedelta(hours=1), usegmt=True)

    assert retry_after_seconds(answer(**{"Retry-After": when}), 60) == 0


def test_retry_after_seconds_reads_a_reset_epoch():
    reset = str(int(time.time()) + 45)

    assert retry_after_seconds(answer(**{"X-Rate-Limit-Reset": reset}), 60) == pytest.approx(45, abs=2)


def test_retry_after_wins_over_a_reset_epoch():
    headers = {"Retry-After": "7", "X-Rate-Limit-Reset": str(int(time.time()) + 300)}

    assert retry_after_seconds(answer(**headers), 60) == 7
