"""Our OAuth app's secret goes only to the token URL from settings, and a grant's `state` works once,
for the user who started it and the connection it was started for.

Two TradeGecko sandboxes over loopback: `platform` is where settings point our app; `elsewhere` is
the connection's own API address (a host a person typed), which would gladly accept our client id
and secret. Everything `elsewhere` receives is searched for the secret.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.core import signing
from django.urls import reverse

from integrations.connectors.tradegecko.api import OAUTH_AUTHORIZE_URL
from integrations.grants import STATE_SALT
from integrations.models import CartConnection, OAuthGrantState
from integrations.services import connection_test, oauth_authorization_url
from sandbox.server import RecordedRequest
from sandbox.tradegecko import TradeGeckoSandbox
from tests.factories import CartConnectionFactory
from tests.fixtures_tradegecko import oauth_app_settings
from tests.portal.conftest import client_of, merchant_user

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
        merchant=mine.merchant, platform="tradegecko", api_base_url=elsewhere.base_url, sandbox_tooling=True, **kwargs
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


# --- the state works once, for its user and its connection --------------------------------------------------


def test_a_replayed_callback_is_refused_and_asks_the_platform_nothing(client, mine, our_app, elsewhere):
    connection = gecko(mine, elsewhere)
    callback = authorize(start_grant(client, connection))
    client.get(callback)
    connection.refresh_from_db()
    granted = connection.get_credentials()

    replay = client.get(callback)

    assert replay.status_code == 400
    assert "already used" in replay.content.decode()
    assert len(our_app.requests_to("/oauth/token", "POST")) == 1
    connection.refresh_from_db()
    assert connection.get_credentials() == granted


def test_a_state_used_by_another_user_is_refused_and_dies(client, mine, our_app, elsewhere):
    connection = gecko(mine, elsewhere)
    callback = authorize(start_grant(client, connection))
    colleague = client_of(merchant_user(mine.merchant, "colleague"))

    stolen = colleague.get(callback)
    afterwards = client.get(callback)

    assert stolen.status_code == 400
    assert "started by someone else" in stolen.content.decode()
    assert afterwards.status_code == 400 and "already used" in afterwards.content.decode()
    assert our_app.requests_to("/oauth/token") == []
    connection.refresh_from_db()
    assert connection.get_credentials() == {}


def test_a_state_moved_to_another_connection_is_refused_even_with_a_valid_signature(client, mine, our_app, elsewhere):
    """The row, not the signed state, says which connection a grant is for: a state re-signed (a leaked
    key) for the merchant's other connection stores tokens on neither."""
    first, second = gecko(mine, elsewhere), gecko(mine, elsewhere)
    callback = authorize(start_grant(client, first))
    query = parse_qs(urlsplit(callback).query)
    payload = signing.loads(query["state"][0], salt=STATE_SALT)
    moved = signing.dumps({**payload, "pk": second.pk}, salt=STATE_SALT)

    response = client.get(reverse("oauth_callback"), {"state": moved, "code": query["code"][0]})

    assert response.status_code == 400
    assert "issued for another connection" in response.content.decode()
    assert our_app.requests_to("/oauth/token") == []
    for connection in (first, second):
        connection.refresh_from_db()
        assert connection.get_credentials() == {}


def test_each_start_issues_its_own_state_and_only_the_used_one_is_consumed(client, mine, our_app, elsewhere):
    connection = gecko(mine, elsewhere)
    first = authorize(start_grant(client, connection))
    second = authorize(start_grant(client, connection))

    assert parse_qs(urlsplit(first).query)["state"] != parse_qs(urlsplit(second).query)["state"]
    assert client.get(second).status_code == 302
    assert OAuthGrantState.objects.filter(cart_connection=connection).count() == 1
    assert client.get(first).status_code == 302  # the other tab's grant still finishes, once
    assert client.get(first).status_code == 400
    assert OAuthGrantState.objects.filter(cart_connection=connection).count() == 0


def test_the_platforms_refusal_in_the_callback_is_shown_as_a_short_clean_summary(client, mine, our_app, elsewhere):
    connection = gecko(mine, elsewhere)
    callback = authorize(start_grant(client, connection))
    state = parse_qs(urlsplit(callback).query)["state"][0]
    description = "Denied. <script>alert(1)</script> see https://evil.example/login " + "x" * 400

    response = client.get(
        reverse("oauth_callback"),
        {"state": state, "error": "access_denied", "error_description": description},
        follow=True,
    )

    page = response.content.decode()
    assert "did not grant access: access_denied" in page
    assert "evil.example" not in page and "<script>alert" not in page and "xxxxxxxxxx" not in page
