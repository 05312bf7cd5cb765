"""The rate budget keeps an orders run under the Squarespace sandbox's limit: with a low limit, a run of
many pages finishes without one 429 (the sandbox's own state: it never entered its cooldown), where the
same run without the budget is refused."""

from __future__ import annotations

import time

import pytest
from django.db import connection

from integrations.accounts import connection_account_key
from integrations.budget import DatabaseBudgets, spending_for
from integrations.connectors.limits import RateLimit
from integrations.connectors.squarespace.connector import SquarespaceCart
from integrations.cooldowns import cooldown_until
from integrations.models import PlatformBudget, SyncOutcome
from integrations.services import cart_connector_for
from tests.orders.helpers import ORDERS_PATH, seed, sync


@pytest.fixture
def low_limit(wired, settings, monkeypatch):
    """10 requests per 2 s at the sandbox, and the connector told so (the connection keeps to the
    connector's limit: no rate of the sandbox's own); one order a page."""
    type(wired.cart).objects.filter(pk=wired.cart.pk).update(sandbox_requests_per_minute=None)
    wired.cart.sandbox_requests_per_minute = None
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


def test_a_429_from_the_platform_empties_the_accounts_bucket_and_lowers_its_rate(wired, settings):
    seed(wired.squarespace, "1001")
    wired.squarespace.fail_next(status=429, headers={"Retry-After": "900"}, path_contains=ORDERS_PATH)

    assert sync(wired.cart).status == SyncOutcome.THROTTLED

    budget = PlatformBudget.objects.get(key=connection_account_key(wired.cart))
    assert budget.tokens == 0 and budget.rate_factor == pytest.approx(0.8)
    # empty for a run's wait; the rest of the platform's is the stored cooldown's, which every take keeps to
    assert budget.refreshed_at == pytest.approx(time.time() + settings.HTTP_MAX_THROTTLE_WAIT_SECONDS, abs=5)
    assert cooldown_until(connection_account_key(wired.cart)) is not None


def test_a_run_builds_its_connectors_spending_as_its_kind(wired, settings):
    with spending_for("inventory"):
        inside = cart_connector_for(connection=wired.cart)
    outside = cart_connector_for(connection=wired.cart)

    assert (inside.budget.kind, outside.budget.kind) == ("inventory", "orders")
    assert inside.budget.bucket.reserve == settings.BUDGET_RESERVES["inventory"] > 0


def test_an_orders_run_takes_no_token_inside_a_transaction(wired, monkeypatch):
    """A take inside a transaction would keep the account's budget row locked until it commits, and
    every other worker's take for the account waiting: the warehouse's SKU list a new order needs is
    read before the page's transaction. (The takes are watched, not replaced.)"""
    inside: list[bool] = []
    take = DatabaseBudgets.take

    def watched(self, key, bucket, want, now):
        inside.append(any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks))
        return take(self, key, bucket, want, now)

    monkeypatch.setattr(DatabaseBudgets, "take", watched)
    seed(wired.squarespace, "1001")

    assert sync(wired.cart).status == SyncOutcome.SUCCEEDED
    assert len(wired.bergen.orders) == 1
    assert inside and not any(inside)
