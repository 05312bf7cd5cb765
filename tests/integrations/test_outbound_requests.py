"""The outbound policy on every request: the address actually connected to, each redirect hop, the
target of a request handed to a proxy. Nothing reaches a refused address, and the refusal is a typed
error that stops the connection until a person corrects it."""

from __future__ import annotations

import socket

import pytest

from integrations.connectors.errors import AddressRefusedError, AuthenticationError
from integrations.http import ApiClient
from integrations.models import CartConnection, SyncOutcome
from integrations.outbound import SANDBOX_TOOLING, OutboundPolicy
from integrations.services import connection_test
from orders.services.records.health import FailureKind
from sync.cycle import cart_connection_sync_orders
from tests.factories import CartConnectionFactory, WMSConnectionFactory

ORDERS = "/1.0/commerce/orders"


def api(base_url: str, outbound: OutboundPolicy | None = None, **kwargs) -> ApiClient:
    return ApiClient(base_url, platform="Test platform", rate_key="test", outbound=outbound, **kwargs)


# --- connections and their exceptions ------------------------------------------------------------


def test_an_unmarked_connection_cannot_reach_a_loopback_sandbox_and_sends_nothing(db, squarespace_sandbox, settings):
    settings.SANDBOX_ENABLED = False
    cart = CartConnectionFactory(api_base_url=squarespace_sandbox.base_url)

    result = connection_test(connection=cart)

    assert result.ok is False
    assert "nothing was sent" in result.message and "127.0.0.1 is a loopback address" in result.message
    assert squarespace_sandbox.requests == []


def test_a_connection_marked_as_sandbox_tooling_reaches_its_sandbox(db, squarespace_sandbox, settings):
    settings.SANDBOX_ENABLED = False
    cart = CartConnectionFactory(api_base_url=squarespace_sandbox.base_url, sandbox_tooling=True)

    assert connection_test(connection=cart).ok is True
    assert squarespace_sandbox.requests_to(ORDERS, "GET")


def test_staff_may_point_a_connection_at_a_sandbox_only_while_sandbox_enabled_is_on(db, bergen_sandbox, settings):
    wms = WMSConnectionFactory(api_base_url=bergen_sandbox.base_url)

    settings.SANDBOX_ENABLED = True
    assert connection_test(connection=wms).ok is True
    received = len(bergen_sandbox.requests)

    settings.SANDBOX_ENABLED = False
    result = connection_test(connection=wms)
    assert result.ok is False and "loopback address" in result.message
    assert len(bergen_sandbox.requests) == received


def test_a_refused_address_stops_the_connections_runs_until_a_person_acts(db, squarespace_sandbox, settings):
    settings.SANDBOX_ENABLED = False
    cart = CartConnectionFactory(api_base_url=squarespace_sandbox.base_url)

    run = cart_connection_sync_orders(connection=cart)

    assert (run.status, run.failure_kind) == (SyncOutcome.FAILED, FailureKind.NEEDS_PERSON)
    assert "loopback address" in run.error
    assert "loopback address" in CartConnection.objects.get(pk=cart.pk).blocked_reason
    assert squarespace_sandbox.requests == []


# --- the address connected to -------------------------------------------------------------------


def test_a_name_that_resolved_to_a_public_address_when_saved_is_refused_once_it_resolves_to_loopback(
    fake_dns, listener
):
    fake_dns["wms.example"] = ["93.184.216.34"]
    client = api(f"https://wms.example:{listener.port}")
    fake_dns["wms.example"] = ["127.0.0.1"]  # the DNS answer changed after the save

    with pytest.raises(AddressRefusedError, match="wms.example resolves to a loopback address") as refused:
        client.request("GET", "/orders")

    assert "nothing was sent" in str(refused.value)
    assert listener.connections() == []


@pytest.mark.parametrize("direct", [True, False], ids=["direct path", "session path"])
def test_a_refusal_is_raised_on_both_send_paths(fake_dns, listener, monkeypatch, direct):
    fake_dns["inside.example"] = ["10.0.0.8", "127.0.0.1"]
    client = api(f"https://inside.example:{listener.port}")
    if not direct:
        monkeypatch.setattr(client._direct, "can_send", lambda url, data: False)

    with pytest.raises(AddressRefusedError, match="private address"):
        client.request("POST", "/orders", json_body={"x": 1})

    assert listener.connections() == []


def test_plain_http_is_refused_for_a_public_host(fake_dns, listener):
    fake_dns["shop.example"] = ["93.184.216.34"]

    with pytest.raises(AddressRefusedError, match="only https://"):
        api(f"http://shop.example:{listener.port}").request("GET", "/")


def test_a_listed_private_host_is_connected_to_and_an_unlisted_one_is_not(fake_dns, listener, settings):
    fake_dns["wms.internal.example"] = ["127.0.0.1"]
    fake_dns["other.internal.example"] = ["127.0.0.1"]
    settings.OUTBOUND_PRIVATE_HOSTS = ["wms.internal.example"]

    with pytest.raises(AddressRefusedError):
        api(f"https://other.internal.example:{listener.port}").request("GET", "/")
    assert listener.connections() == []
    with pytest.raises(Exception) as failed:  # the listener speaks no TLS: the handshake fails after connecting
        api(f"https://wms.internal.example:{listener.port}", max_retries=0).request("GET", "/")

    assert not isinstance(failed.value, AddressRefusedError)
    [hello] = listener.connections()
    assert hello.startswith(b"\x16\x03")  # a TLS ClientHello


def test_the_connected_peer_is_checked_again(fake_dns, listener, settings, monkeypatch):
    """Should the socket end up connected elsewhere than the checked address, nothing is sent."""
    fake_dns["wms.internal.example"] = ["127.0.0.1"]
    settings.OUTBOUND_PRIVATE_HOSTS = ["wms.internal.example"]
    monkeypatch.setattr(socket.socket, "getpeername", lambda sock: ("169.254.169.254", listener.port))

    with pytest.raises(AddressRefusedError, match="cloud metadata address"):
        api(f"https://wms.internal.example:{listener.port}").request("GET", "/")

    assert listener.connections() in ([], [b""])  # connected, then closed before a byte was sent


# --- redirects -----------------------------------------------------------------------------------


@pytest.fixture
def redirecting(fake_dns, https_server, listener, settings):
    """An allowed https host (listed as private, on loopback) whose /go redirects to a private name."""
    fake_dns["shop.internal.example"] = ["127.0.0.1"]
    fake_dns["hidden.example"] = ["127.0.0.1"]
    settings.OUTBOUND_PRIVATE_HOSTS = ["shop.internal.example"]
    server = https_server(["shop.internal.example", "hidden.example"])
    server.answers["/go"] = (302, {"Location": f"https://hidden.example:{listener.port}/latest"})
    server.answers["/stay"] = (302, {"Location": "/landed"})
    client = api(f"https://shop.internal.example:{server.port}")
    client.session.verify = str(server.certificates.ca_file)  # trust the test's own authority
    return client, server


def test_a_redirect_within_the_allowed_host_is_followed(redirecting):
    client, server = redirecting

    assert client.request("GET", "/stay").status_code == 200
    assert server.paths == ["/stay", "/landed"]


def test_a_redirect_from_an_allowed_host_to_a_private_address_is_refused(redirecting, listener):
    client, server = redirecting

    with pytest.raises(AddressRefusedError, match="hidden.example resolves to a loopback address"):
        client.request("GET", "/go")

    assert server.paths == ["/go"]
    assert listener.connections() == []


@pytest.mark.parametrize("direct", [True, False], ids=["direct path", "session path"])
def test_a_sandbox_redirecting_to_the_metadata_service_is_refused(squarespace_sandbox, monkeypatch, direct):
    """Even where loopback is allowed (the sandbox tooling), each hop is checked: never the metadata service."""
    client = api(squarespace_sandbox.base_url, SANDBOX_TOOLING)
    if not direct:
        monkeypatch.setattr(client._direct, "can_send", lambda url, data: False)
    squarespace_sandbox.fail_next(
        1, status=302, path_contains=ORDERS, headers={"Location": "http://169.254.169.254/latest/meta-data/"}, body=""
    )

    with pytest.raises(AddressRefusedError, match="169.254.169.254 is a cloud metadata address"):
        client.request("GET", ORDERS)


# --- proxies ---------------------------------------------------------------------------------------


@pytest.fixture
def through_proxy(listener, settings, monkeypatch):
    """Requests go through a proxy from the environment (the listener stands in for it)."""
    settings.HTTP_TRUST_ENV = True
    for name in ("NO_PROXY", "no_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{listener.port}")
    return listener


def test_a_target_that_resolves_to_a_private_address_is_not_handed_to_the_proxy(fake_dns, through_proxy):
    fake_dns["inside.example"] = ["10.1.2.3"]

    with pytest.raises(AddressRefusedError, match="inside.example resolves to a private address"):
        api("https://inside.example").request("GET", "/orders")

    assert through_proxy.connections() == []


def test_a_public_target_is_handed_to_the_proxy(fake_dns, through_proxy):
    fake_dns["shop.example"] = ["93.184.216.34"]

    with pytest.raises(Exception) as failed:  # the stand-in proxy hangs up after reading the request
        api("https://shop.example", max_retries=0).request("GET", "/orders")

    assert not isinstance(failed.value, AuthenticationError)
    [request] = through_proxy.connections()
    assert request.startswith(b"CONNECT shop.example:443")


def test_a_target_that_cannot_be_resolved_here_is_not_handed_to_the_proxy(fake_dns, through_proxy):
    with pytest.raises(Exception, match="does not resolve"):
        api("https://nowhere.invalid", max_retries=0).request("GET", "/orders")

    assert through_proxy.connections() == []
