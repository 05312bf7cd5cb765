"""Fixtures that start a TradeGecko sandbox on a free loopback port around one test, and our OAuth app
pointed at it.

Function scope, like the other sandboxes: every test gets an empty account, fresh tokens, no pending faults
and no rate-limit window. The rate limit is off here; a test that wants it builds its own sandbox.
Our OAuth app's endpoints are settings, never a connection's address: a test that runs the grant or a
refresh against a sandbox points them at it (`oauth_app_settings`, `oauth_connector_settings`).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from integrations.services import OAuthApp
from sandbox.tradegecko import TradeGeckoSandbox


def oauth_app_settings(sandbox: TradeGeckoSandbox, **overrides: str) -> dict[str, str]:
    """One platform's entry of `settings.OAUTH_CLIENTS`: our app as the sandbox knows it, at its endpoints."""
    return {
        "client_id": sandbox.client_id,
        "client_secret": sandbox.client_secret,
        "authorize_url": f"{sandbox.base_url}/oauth/authorize",
        "token_url": f"{sandbox.base_url}/oauth/token",
        **overrides,
    }


def oauth_connector_settings(sandbox: TradeGeckoSandbox, **overrides: str) -> dict[str, str]:
    """What `integrations.services` gives a TradeGecko connector for our app, pointed at the sandbox."""
    return OAuthApp(**oauth_app_settings(sandbox, **overrides)).connector_settings()


@pytest.fixture
def tradegecko_sandbox() -> Iterator[TradeGeckoSandbox]:
    """A TradeGecko sandbox with default client credentials, the privileged token and no rate limit."""
    sandbox = TradeGeckoSandbox(rate_limit=None)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()
