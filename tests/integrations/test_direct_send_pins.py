"""What the direct send (`integrations.transport`) relies on in requests and urllib3, pinned: each test
fails if an upgrade changes it."""

from __future__ import annotations

import json
import socket

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool

from integrations.connectors.errors import TemporaryError
from integrations.http import ApiClient
from integrations.outbound import SANDBOX_TOOLING
from integrations.transport import DirectSender

# What `HTTPAdapter.build_response` gives a response; the direct send sets the same ones (a new one
# would be missing from its responses).
RESPONSE_ATTRIBUTES = [
    "_content",
    "status_code",
    "headers",
    "url",
    "history",
    "encoding",
    "reason",
    "cookies",
    "elapsed",
    "request",
]


class Unreadable:
    """A raw stream that must not be read."""

    def read(self, *args, **kwargs):
        raise AssertionError("the raw stream was read")

    stream = read


def test_a_response_with_its_content_set_never_reads_its_raw_stream():
    response = requests.Response()
    response.status_code, response.encoding, response.raw = 200, "utf-8", Unreadable()
    body = json.dumps({"id": "é"}).encode()

    response._content, response._content_consumed = body, True

    assert response.content is body and response.text == '{"id": "\\u00e9"}' and response.json() == {"id": "é"}
    assert b"".join(response.iter_content(4)) == body  # a streamed read gives the same bytes again
    assert requests.Response.__attrs__ == RESPONSE_ATTRIBUTES


def test_the_adapter_gives_the_pool_and_tls_checks_its_own_send_uses():
    adapter = HTTPAdapter()
    request = requests.Request("GET", "https://api.example.com/x").prepare()

    pool = adapter.get_connection_with_tls_context(request, True)
    adapter.cert_verify(pool, request.url, True, None)

    assert isinstance(pool, HTTPConnectionPool) and (pool.host, pool.port) == ("api.example.com", 443)
    assert pool is adapter.get_connection_with_tls_context(request, True)  # one pool per origin
    assert pool.cert_reqs == "CERT_REQUIRED" and (pool.ca_certs or pool.ca_cert_dir)


def test_a_preloaded_urllib3_answer_is_read_in_full_and_its_connection_given_back(squarespace_sandbox):
    host, port = squarespace_sandbox.base_url.split("//")[1].split("/")[0].split(":")
    pool = HTTPConnectionPool(host, int(port), maxsize=1)

    raw = pool.urlopen(
        "GET",
        "/1.0/commerce/orders",
        headers={"Authorization": f"Bearer {squarespace_sandbox.api_key}"},
        redirect=False,
        assert_same_host=False,
        preload_content=True,
        decode_content=True,
        retries=False,
    )

    assert "result" in json.loads(raw.data) and raw.read() == b""
    assert pool.pool.qsize() == 1  # the connection is back in the pool, ready for the next request


def client(base_url: str) -> ApiClient:
    return ApiClient(base_url, platform="Squarespace Commerce", rate_key="pin", outbound=SANDBOX_TOOLING, max_retries=0)


@pytest.fixture
def refused_url() -> str:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("through", ["direct", "session"])
def test_a_refused_connection_is_the_same_error_both_ways(refused_url, through, monkeypatch):
    api = client(refused_url)
    if through == "session":
        monkeypatch.setattr(DirectSender, "can_send", lambda self, url, data: False)
    else:
        assert DirectSender(api.session).can_send(api.url("/x"), None)

    with pytest.raises(TemporaryError, match="connection refused") as caught:
        api.get_json("/x")
    assert caught.value.maybe_delivered is False


@pytest.fixture
def silent_url():
    """A server that takes connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    listener.close()


@pytest.mark.parametrize("through", ["direct", "session"])
def test_an_answer_that_never_comes_is_the_same_timeout_both_ways(silent_url, through, monkeypatch):
    api = ApiClient(silent_url, platform="Squarespace Commerce", rate_key="pin", outbound=SANDBOX_TOOLING, timeout=0.2)
    if through == "session":
        monkeypatch.setattr(DirectSender, "can_send", lambda self, url, data: False)

    with pytest.raises(TemporaryError, match="timed out after 0.2 s") as caught:
        api.request("POST", "/x", json_body={})
    assert caught.value.maybe_delivered is True
