"""Fault injection at a rate: seeded (the same seed and requests give the same faults), only faults that
make sense for the method, every kind behaving as its name says, and counted for assertions."""

from __future__ import annotations

import socket
import time

import pytest
import requests

from sandbox.bergen import BergenSandbox
from sandbox.faults import RATE_FAULT_MODES
from sandbox.squarespace import SquarespaceSandbox

ORDERS = "/1.0/commerce/orders"


@pytest.fixture
def shop():
    sandbox = SquarespaceSandbox(rate_limit_per_minute=None)
    sandbox.start()
    order = sandbox.add_order(order_number="7001")
    try:
        yield sandbox, order["id"]
    finally:
        sandbox.stop()


def session(sandbox: SquarespaceSandbox) -> requests.Session:
    s = requests.Session()
    s.headers.update({"Authorization": f"Bearer {sandbox.api_key}", "User-Agent": "orderbridge-tests/1.0"})
    return s


def fulfillment(number: str) -> dict:
    shipment = {"shipDate": "2024-03-01T12:00:00Z", "carrierName": "UPS", "service": "Ground", "trackingNumber": number}
    return {"shouldSendNotification": False, "shipments": [shipment]}


def send(s: requests.Session, sandbox: SquarespaceSandbox, order_id: str, index: int) -> str:
    """One request of a fixed sequence (two reads, then a write); what the client saw, in a word."""
    try:
        if index % 3 == 2:
            response = s.post(
                f"{sandbox.base_url}{ORDERS}/{order_id}/fulfillments", json=fulfillment(f"T{index}"), timeout=0.3
            )
        else:
            response = s.get(f"{sandbox.base_url}{ORDERS}/{order_id}", timeout=0.3)
    except requests.exceptions.Timeout:
        return "timeout"
    except requests.exceptions.ConnectionError:
        return "closed"
    return str(response.status_code)


def play(seed: int, requests_count: int = 60) -> list[tuple[str, str]]:
    sandbox = SquarespaceSandbox(rate_limit_per_minute=None)
    with sandbox:
        order_id = sandbox.add_order(order_number="7001")["id"]
        sandbox.set_fault_rate(0.5, seed=seed, timeout_delay=0.5, retry_after=0.1)
        s = session(sandbox)
        for index in range(requests_count):
            send(s, sandbox, order_id, index)
        # The order's id is new in each sandbox: compare methods and modes.
        return [(method, mode) for method, _, mode in sandbox.fault_log]


def test_the_same_seed_gives_the_same_faults_and_another_seed_others():
    first_log = play(seed=42)
    again_log = play(seed=42)
    other_log = play(seed=43)
    assert first_log == again_log
    assert first_log != other_log
    assert {method for method, _ in first_log} == {"GET", "POST"}
    assert 10 < len(first_log) < 50  # about half of 60 requests


def test_every_request_fails_at_rate_one_and_none_at_rate_zero(shop):
    sandbox, order_id = shop
    s = session(sandbox)
    sandbox.set_fault_rate(1.0, seed=1, timeout_delay=0.5, retry_after=0.1)
    for i in range(30):
        send(s, sandbox, order_id, i)
    assert sum(sandbox.faults_injected.values()) == len(sandbox.fault_log) == 30
    assert set(sandbox.faults_injected) <= set(RATE_FAULT_MODES)
    sandbox.set_fault_rate(0, seed=1)
    assert s.get(f"{sandbox.base_url}{ORDERS}/{order_id}", timeout=2).status_code == 200
    assert len(sandbox.fault_log) == 30


def test_a_read_is_never_processed_then_failed(shop):
    sandbox, order_id = shop
    sandbox.set_fault_rate(1.0, seed=3, modes=("after", "after_drop", "drop"))
    s = session(sandbox)
    for _ in range(20):
        with pytest.raises(requests.exceptions.ConnectionError):
            s.get(f"{sandbox.base_url}{ORDERS}/{order_id}", timeout=2)
    assert dict(sandbox.faults_injected) == {"drop": 20}


def test_after_processes_the_write_then_loses_the_reply(shop):
    sandbox, order_id = shop
    sandbox.set_fault_rate(1.0, seed=5, modes=("after",))
    response = session(sandbox).post(
        f"{sandbox.base_url}{ORDERS}/{order_id}/fulfillments", json=fulfillment("1Z1"), timeout=2
    )
    assert response.status_code in (500, 502, 503)
    assert [f["trackingNumber"] for f in sandbox.fulfillments_for(order_id)] == ["1Z1"]

    sandbox.set_fault_rate(1.0, seed=5, modes=("after_drop",))
    with pytest.raises(requests.exceptions.ConnectionError):
        session(sandbox).post(f"{sandbox.base_url}{ORDERS}/{order_id}/fulfillments", json=fulfillment("1Z2"), timeout=2)
    assert [f["trackingNumber"] for f in sandbox.fulfillments_for(order_id)] == ["1Z1", "1Z2"]


def test_a_broken_200_on_a_write_was_processed_and_on_a_read_was_not_json(shop):
    sandbox, order_id = shop
    s = session(sandbox)
    for mode in ("malformed", "truncated"):
        sandbox.set_fault_rate(1.0, seed=7, modes=(mode,))
        read = s.get(f"{sandbox.base_url}{ORDERS}/{order_id}", timeout=2)
        assert read.status_code == 200
        with pytest.raises(ValueError):
            read.json()
        write = s.post(f"{sandbox.base_url}{ORDERS}/{order_id}/fulfillments", json=fulfillment(mode), timeout=2)
        assert write.status_code == 200
        with pytest.raises(ValueError):
            write.json()
    assert [f["trackingNumber"] for f in sandbox.fulfillments_for(order_id)] == ["malformed", "truncated"]
    assert dict(sandbox.faults_injected) == {"malformed": 2, "truncated": 2}


def test_status_throttle_and_timeout_faults_do_not_process_the_write(shop):
    sandbox, order_id = shop
    s = session(sandbox)
    url = f"{sandbox.base_url}{ORDERS}/{order_id}/fulfillments"
    sandbox.set_fault_rate(1.0, seed=9, modes=("status",))
    assert s.post(url, json=fulfillment("A"), timeout=2).status_code in (500, 502, 503)
    sandbox.set_fault_rate(1.0, seed=9, modes=("throttle",), retry_after=2)
    throttled = s.post(url, json=fulfillment("B"), timeout=2)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "2"
    sandbox.set_fault_rate(1.0, seed=9, modes=("timeout",), timeout_delay=0.6)
    with pytest.raises(requests.exceptions.Timeout):
        s.post(url, json=fulfillment("C"), timeout=0.2)
    assert sandbox.fulfillments_for(order_id) == []


def test_a_fail_next_fault_comes_before_the_rate_and_reset_forgets_both():
    with BergenSandbox() as sandbox:
        sandbox.set_fault_rate(1.0, seed=11, modes=("drop",))
        sandbox.fail_next(status=503)
        url = f"{sandbox.base_url}/AuthServer/api/Token"
        assert requests.post(url, json={}, timeout=2).status_code == 503
        with pytest.raises(requests.exceptions.ConnectionError):
            requests.post(url, json={}, timeout=2)
        assert dict(sandbox.faults_injected) == {"status": 1, "drop": 1}
        sandbox.reset()
        assert sandbox.faults_injected == {} and sandbox.fault_log == []
        assert requests.post(url, json={}, timeout=2).status_code == 401  # no credentials: answered, no fault


def test_a_rate_outside_zero_to_one_or_an_unknown_mode_is_refused(shop):
    sandbox, _ = shop
    with pytest.raises(ValueError):
        sandbox.set_fault_rate(1.5, seed=1)
    with pytest.raises(ValueError):
        sandbox.set_fault_rate(0.5, seed=1, modes=("explode",))


def test_a_request_cut_off_before_its_whole_body_is_never_processed():
    """A client killed between its headers and its body (as a worker SIGKILLed mid-send): the warehouse
    never has a whole request, so nothing is stored and it is not among the requests received."""
    bergen = BergenSandbox()
    bergen.start()
    try:
        with socket.create_connection((bergen.host, bergen.port)) as raw:
            raw.sendall(
                b"POST /orders HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 400\r\n\r\n" + b'{"referenceNum": "R-1", "orderItems": ['
            )
        deadline = time.monotonic() + 5
        while not bergen.incomplete_requests and time.monotonic() < deadline:
            time.sleep(0.02)
        assert bergen.incomplete_requests == [("POST", "/orders")]
        assert bergen.requests_to("/orders", "POST") == [] and bergen.orders == []
    finally:
        bergen.stop()
