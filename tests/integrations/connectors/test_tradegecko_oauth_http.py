"""The TradeGecko connector's access grant and token refresh, against the TradeGecko sandbox over loopback."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from integrations.connectors.errors import (
    AuthenticationError,
    PermanentError,
    ReauthorizationRequired,
    ThrottledError,
)
from integrations.connectors.tradegecko.connector import QuickBooksCommerceCart, TradeGeckoCart, TradeGeckoWarehouse
from integrations.outbound import SANDBOX_TOOLING
from sandbox.tradegecko import TradeGeckoSandbox
from tests.fixtures_tradegecko import oauth_connector_settings

REDIRECT = "https://orderbridge.example/oauth/callback"


def connector(sandbox: TradeGeckoSandbox, credentials: dict, stored: list | None = None, cls=TradeGeckoCart):
    return cls(
        base_url=sandbox.base_url,
        outbound=SANDBOX_TOOLING,
        credentials=credentials,
        settings=oauth_connector_settings(sandbox),
        on_credentials_changed=None if stored is None else stored.append,
    )


def grant(sandbox: TradeGeckoSandbox) -> dict:
    """The merchant's side of "Grant us API access": follow our authorize URL, trade the code."""
    cart = connector(sandbox, {})
    url = cart.authorization_url(client_id=sandbox.client_id, redirect_uri=REDIRECT, state="signed-state")
    answer = requests.get(url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302
    callback = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert callback["state"] == ["signed-state"]
    return cart.exchange_code(
        client_id=sandbox.client_id,
        client_secret=sandbox.client_secret,
        code=callback["code"][0],
        redirect_uri=REDIRECT,
    )


def test_the_grant_gives_tokens_that_expire_and_work(tradegecko_sandbox):
    tokens = grant(tradegecko_sandbox)

    assert set(tokens) == {"access_token", "refresh_token", "expires_at"}
    assert tokens["access_token"] and tokens["refresh_token"]
    assert 7000 < tokens["expires_at"] - time.time() <= 7200
    assert connector(tradegecko_sandbox, tokens).test_connection().startswith("credentials accepted: TradeGecko")


def test_a_used_code_is_refused_as_needing_a_new_grant(tradegecko_sandbox):
    cart = connector(tradegecko_sandbox, {})
    answer = requests.get(
        cart.authorization_url(client_id=tradegecko_sandbox.client_id, redirect_uri=REDIRECT, state="s"),
        allow_redirects=False,
        timeout=5,
    )
    code = parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0]
    keys = {"client_id": tradegecko_sandbox.client_id, "client_secret": tradegecko_sandbox.client_secret}
    cart.exchange_code(**keys, code=code, redirect_uri=REDIRECT)

    with pytest.raises(ReauthorizationRequired, match="grant access again"):
        cart.exchange_code(**keys, code=code, redirect_uri=REDIRECT)


def test_a_wrong_app_secret_names_the_settings_to_fix(tradegecko_sandbox):
    with pytest.raises(AuthenticationError, match="TRADEGECKO_OAUTH_CLIENT_SECRET") as exc:
        connector(tradegecko_sandbox, {}).exchange_code(
            client_id=tradegecko_sandbox.client_id, client_secret="wrong", code="x", redirect_uri=REDIRECT
        )
    assert not isinstance(exc.value, ReauthorizationRequired)


def test_an_expired_token_is_refreshed_before_the_call_and_the_new_tokens_handed_back(tradegecko_sandbox):
    tokens = {**grant(tradegecko_sandbox), "expires_at": int(time.time()) - 10}
    stored: list[dict] = []
    cart = connector(tradegecko_sandbox, dict(tokens), stored)

    cart.test_connection()

    assert len(stored) == 1
    assert stored[0]["access_token"] not in ("", tokens["access_token"])
    assert stored[0]["refresh_token"] not in ("", tokens["refresh_token"])  # it rotates
    assert stored[0]["expires_at"] > time.time() + 7000
    assert cart.credentials == stored[0]
    refresh = tradegecko_sandbox.requests_to("/oauth/token", "POST")[-1]
    assert refresh.json["grant_type"] == "refresh_token"
    assert refresh.json["refresh_token"] == tokens["refresh_token"]
    assert refresh.json["client_id"] == tradegecko_sandbox.client_id
    account = tradegecko_sandbox.requests_to("/accounts/current")
    assert [r.header("Authorization") for r in account] == [f"Bearer {stored[0]['access_token']}"]


def test_a_401_refreshes_once_and_retries_the_call(tradegecko_sandbox):
    tokens = grant(tradegecko_sandbox)  # expires_at says it is still good...
    tradegecko_sandbox.expire_tokens()  # ...but TradeGecko has expired it
    stored: list[dict] = []
    cart = connector(tradegecko_sandbox, dict(tokens), stored)

    assert cart.test_connection().startswith("credentials accepted")

    assert len(stored) == 1 and stored[0]["access_token"] != tokens["access_token"]
    calls = tradegecko_sandbox.requests_to("/accounts/current")
    assert [r.header("Authorization") for r in calls] == [
        f"Bearer {tokens['access_token']}",
        f"Bearer {stored[0]['access_token']}",
    ]
    assert "[redacted]" not in repr(stored)


def test_the_rotated_refresh_token_is_the_one_used_next_time(tradegecko_sandbox):
    stored: list[dict] = []
    cart = connector(tradegecko_sandbox, {**grant(tradegecko_sandbox), "expires_at": 1}, stored)
    cart.test_connection()
    tradegecko_sandbox.expire_tokens()

    again = connector(tradegecko_sandbox, stored[-1], stored)
    again.test_connection()

    assert len(stored) == 2
    assert tradegecko_sandbox.requests_to("/oauth/token")[-1].json["refresh_token"] == stored[0]["refresh_token"]


def test_a_revoked_grant_needs_a_new_grant(tradegecko_sandbox):
    tokens = grant(tradegecko_sandbox)
    tradegecko_sandbox.revoke_all()
    stored: list[dict] = []

    with pytest.raises(ReauthorizationRequired, match="grant access again") as exc:
        connector(tradegecko_sandbox, tokens, stored).test_connection()

    assert stored == []
    assert tokens["refresh_token"] not in str(exc.value)


def test_a_revoked_grant_found_at_expiry_needs_a_new_grant(tradegecko_sandbox):
    tokens = {**grant(tradegecko_sandbox), "expires_at": 1}
    tradegecko_sandbox.revoke_all()

    with pytest.raises(ReauthorizationRequired, match="grant access again"):
        connector(tradegecko_sandbox, tokens).test_connection()


def test_a_refused_privileged_token_needs_a_new_grant_or_token(tradegecko_sandbox):
    tradegecko_sandbox.revoke_all()

    with pytest.raises(ReauthorizationRequired, match="privileged access token"):
        connector(tradegecko_sandbox, {"access_token": tradegecko_sandbox.access_token}).test_connection()


def test_a_privileged_token_next_to_a_stale_grant_still_works(tradegecko_sandbox):
    """A pasted privileged token with an old refresh token left behind: the refused refresh is not final."""
    stale = grant(tradegecko_sandbox)
    connector(tradegecko_sandbox, {**stale, "expires_at": 1}).test_connection()  # rotates `stale` away
    credentials = {
        "access_token": tradegecko_sandbox.access_token,
        "refresh_token": stale["refresh_token"],
        "expires_at": 1,
    }

    assert connector(tradegecko_sandbox, credentials).test_connection().startswith("credentials accepted")


def test_both_names_and_both_roles_speak_the_same_api(tradegecko_sandbox):
    privileged = {"access_token": tradegecko_sandbox.access_token}
    quickbooks = connector(tradegecko_sandbox, privileged, cls=QuickBooksCommerceCart).test_connection()
    location = tradegecko_sandbox.add_location("Hoboken DC")
    warehouse = TradeGeckoWarehouse(
        base_url=tradegecko_sandbox.base_url,
        outbound=SANDBOX_TOOLING,
        credentials=privileged,
        settings={"stock_location_id": str(location)},
    ).test_connection()

    assert quickbooks.startswith("credentials accepted: QuickBooks Commerce account ")
    assert warehouse.startswith("credentials accepted: TradeGecko account ")
    assert f"Stock location ID {location} is “Hoboken DC”." in warehouse


def test_a_stock_location_of_another_account_is_named(tradegecko_sandbox):
    warehouse = TradeGeckoWarehouse(
        base_url=tradegecko_sandbox.base_url,
        outbound=SANDBOX_TOOLING,
        credentials={"access_token": tradegecko_sandbox.access_token},
        settings={"stock_location_id": "424242"},
    )

    with pytest.raises(PermanentError, match="stock location 424242 is not one of its locations") as exc:
        warehouse.test_connection()
    assert "Stock location ID" in str(exc.value)


def test_a_long_rate_limit_wait_becomes_a_deferred_run():
    sandbox = TradeGeckoSandbox(rate_limit=2, rate_window=300)
    sandbox.start()
    try:
        cart = connector(sandbox, {"access_token": sandbox.access_token})
        cart.get_json("/accounts/current")
        cart.get_json("/accounts/current")
        with pytest.raises(ThrottledError) as exc:
            cart.get_json("/accounts/current")
    finally:
        sandbox.stop()
    assert exc.value.retry_after > 200


def test_a_token_expiring_in_the_middle_of_a_listing_is_refreshed_and_the_listing_goes_on(tradegecko_sandbox):
    for n in range(3):
        tradegecko_sandbox.add_order(f"SO{n}", lines=[{"sku": "TEE-M", "quantity": 1}])
    stored: list[dict] = []
    cart = connector(tradegecko_sandbox, grant(tradegecko_sandbox), stored)
    cart.page_limit = 1
    now = datetime.now(UTC)
    pages = cart.iter_order_pages(
        modified_after=now - timedelta(hours=1), modified_before=now + timedelta(minutes=5), open_only=False
    )

    first = next(pages)
    tradegecko_sandbox.expire_tokens()
    rest = list(pages)

    assert sorted(o.order_number for p in [first, *rest] for o in p.orders) == ["SO0", "SO1", "SO2"]
    assert len(stored) == 1
