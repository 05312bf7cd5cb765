"""Fixtures that start a TradeGecko sandbox on a free loopback port around one test.

Function scope, like the other sandboxes: every test gets an empty account, fresh tokens, no pending faults
and no rate-limit window. The rate limit is off here; a test that wants it builds its own sandbox.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.tradegecko import TradeGeckoSandbox


@pytest.fixture
def tradegecko_sandbox() -> Iterator[TradeGeckoSandbox]:
    """A TradeGecko sandbox with default client credentials, the privileged token and no rate limit."""
    sandbox = TradeGeckoSandbox(rate_limit=None)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()
