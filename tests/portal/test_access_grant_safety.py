"""Our OAuth app's secret goes only to the token URL from settings.

Two TradeGecko sandboxes over loopback: `platform` is where settings point our app; `elsewhere` is
the connection's own API address (a host a person typed), which would gladly accept our client id
and secret. Everything `elsewhere` receives is searched for the secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.urls import reverse

from integrations.connectors.tradegecko_api import OAUTH_AUTHORIZE_URL
from integrations.models import CartConnection
from integrations.services import connection_test, oauth_authorization_url
from sandbox.server import RecordedRequest
from sandbox.tradegecko import TradeGeckoSandbox
from tests.factories import CartConnectionFactory
from tests.fixtures_tradegecko import oauth_app_settings

OUR_SECRET = "our-app-secret-7f3a9c2e51"


@pytest.fixture
def platform() -> Iterator[TradeGeckoSandbox]:
    with TradeGeckoSandbox(client_secret=OUR_SECRET, rate_limit=None) as sandbox:
        yield sandbox


@pytest.fixture
def elsewhere(platform) -> Iterator[TradeGeckoSandbox]:
    """Another server, one that knows our app as well as the platform does (the worst case)."""
    with TradeGeckoSandbox(client_id=platform.client_id, client_secret=OUR_SECRET, rate_limit=None) as sandbox:
        yield sandbox


@pytest.fixture
def our_app(settings, platform):
    settings.OAUTH_CLIENTS = {"tradegecko": oauth_app_settings(platform)}
    return platform


def gecko(mine, elsewhere, **kwargs) -> CartConnection:
    connection = CartConnectionFactory(
        merchant=mine.merchant, platform="tradegecko", api_base_url=elsewhere.base_url, **kwargs
    )
    connection.set_credentials({})
    connection.save()
    return connection


def authorize(start) -> str:
    """Follow our redirect to the authorize page as the merchant's browser would; return the callback."""
    assert start.status_code == 302, start.content
    answer = requests.get(start["Location"], allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    parts = urlsplit(answer.headers["Location"])
    return f"{parts.path}?{parts.query}"


def carries(request: RecordedRequest, secret: str) -> bool:
    seen = [request.path, str(request.query), request.body.decode("utf-8", "replace"), *request.headers.values()]
    return any(secret in text for text in seen)


def start_grant(client, connection: CartConnection):
    return client.post(reverse("portal:connection_grant", args=["cart", connection.pk]))


# --- the client secret goes to the token URL from settings, never to a connection's address ----------------


def test_the_grant_and_every_refresh_send_our_secret_to_the_platform_never_to_the_connections_address(
    client, mine, our_app, elsewhere
):
    connection = gecko(mine, elsewhere)

    start = start_grant(client, connection)
    assert start["Location"].startswith(f"{our_app.base_url}/oauth/authorize?")
    client.get(authorize(start))
    connection.refresh_from_db()
    assert connection.get_credentials()["refresh_token"]
    connection.update_credentials({"expires_at": 1})  # due: the next call refreshes first
    connection.save()
    connection_test(connection=CartConnection.objects.get(pk=connection.pk))

    token_requests = our_app.requests_to("/oauth/token", "POST")
    assert [r.json["grant_type"] for r in token_requests][:2] == ["authorization_code", "refresh_token"]
    assert all(r.json["client_secret"] == OUR_SECRET for r in token_requests)
    assert elsewhere.requests_to("/accounts/current"), "the connection's own calls went to its address"
    assert [r.path for r in elsewhere.requests if carries(r, OUR_SECRET)] == []
    assert elsewhere.requests_to("/oauth") == []


def test_a_connections_settings_cannot_point_our_app_elsewhere(client, mine, our_app, elsewhere):
    connection = gecko(
        mine,
        elsewhere,
        settings={
            "_oauth_token_url": f"{elsewhere.base_url}/oauth/token",
            "_oauth_authorize_url": f"{elsewhere.base_url}/oauth/authorize",
        },
    )

    start = start_grant(client, connection)
    client.get(authorize(start))

    assert start["Location"].startswith(f"{our_app.base_url}/oauth/authorize?")
    assert len(our_app.requests_to("/oauth/token", "POST")) == 1
    assert [r.path for r in elsewhere.requests if carries(r, OUR_SECRET)] == []
    connection.refresh_from_db()
    assert connection.get_credentials()["access_token"]


@pytest.mark.parametrize("platform_key", ["tradegecko", "quickbooks_commerce"])
def test_without_settings_the_grant_goes_to_the_documented_authorize_page(mine, settings, elsewhere, platform_key):
    settings.OAUTH_CLIENTS = {platform_key: {"client_id": "our-app", "client_secret": OUR_SECRET}}
    connection = CartConnectionFactory(merchant=mine.merchant, platform=platform_key, api_base_url=elsewhere.base_url)

    url = oauth_authorization_url(connection=connection, redirect_uri="https://orderbridge.example/cb", state="s")

    assert url.startswith(f"{OAUTH_AUTHORIZE_URL}?")
    assert OAUTH_AUTHORIZE_URL == "https://api.tradegecko.com/oauth/authorize"
    assert parse_qs(urlsplit(url).query)["client_id"] == ["our-app"]
