"""The rate budget keeps an orders run under the Squarespace sandbox's limit: with a low limit and
pacing off, a run of many pages finishes without one 429 (the sandbox's own state: it never entered
its cooldown), where the same run without the budget is refused."""

from __future__ import annotations

import pytest

from integrations.connectors.limits import RateLimit
from integrations.connectors.squarespace.connector import SquarespaceCart
from integrations.models import SyncOutcome
from tests.orders.helpers import ORDERS_PATH, seed, sync


@pytest.fixture
def low_limit(wired, settings, monkeypatch):
    """10 requests per 2 s at the sandbox, and the connector told so; one order a page."""
    settings.HTTP_PACING_ENABLED = False
    monkeypatch.setattr(SquarespaceCart, "rate_limit", RateLimit(requests=10, seconds=2, source="test"))
    wired.squarespace.rate_limit_per_minute, wired.squarespace.rate_window_seconds = 10, 2
    wired.squarespace.page_size = 1
    for number in range(1001, 1031):
        seed(wired.squarespace, str(number))
    return wired


def test_a_run_of_many_pages_keeps_under_a_low_limit_with_no_429(low_limit):
    run = sync(low_limit.cart)

    assert run.status == SyncOutcome.SUCCEEDED, run.error
    assert len(low_limit.squarespace.requests_to(ORDERS_PATH)) >= 30
    assert low_limit.squarespace._cooldown_until == 0.0  # the sandbox never refused us


def test_without_the_budget_the_same_run_is_refused(low_limit, settings):
    settings.BUDGET_ENABLED = False

    sync(low_limit.cart)

    assert low_limit.squarespace._cooldown_until > 0.0
