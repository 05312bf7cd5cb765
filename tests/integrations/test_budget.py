"""The shared rate budget: one bucket per platform account, taken by conditional UPDATE (or a Redis
script), orders before tracking before inventory, taught by a 429, never spent below empty."""

from __future__ import annotations

import time
import uuid

import pytest

from integrations.budget import AccountBudget, Bucket, DatabaseBudgets
from integrations.budget_redis import redis_budgets
from integrations.connectors.errors import ThrottledError
from integrations.connectors.limits import RateLimit
from integrations.cooldowns import AccountCooldown, cooldown_record
from integrations.models import PlatformBudget

# 100 a minute: refills 1.5 a second, holds 100 - 1.5 * 61 = 8.5
LIMIT = RateLimit(requests=100, seconds=60, source="test")


def granted_in_a_row(store, key: str, bucket: Bucket, now: float) -> int:
    total = 0
    while (taken := store.take(key, bucket, 1, now)).granted:
        total += taken.granted
    return total


@pytest.fixture
def redis_store():
    store = redis_budgets(url="redis://127.0.0.1:6379/0", prefix=f"test-budget-{uuid.uuid4().hex}:")
    yield store
    for key in store.client.scan_iter(match=store.prefix + "*"):
        store.client.delete(key)


@pytest.fixture(params=["database", "redis"])
def store(request, db):
    return DatabaseBudgets() if request.param == "database" else request.getfixturevalue("redis_store")


def test_the_bucket_holds_what_keeps_any_window_under_the_documented_limit(settings):
    bucket = Bucket.of(LIMIT)
    # what a full bucket and a window's refill (plus the local hold) send together stays under the limit
    assert bucket.capacity + bucket.per_second * (LIMIT.seconds + settings.BUDGET_LOCAL_SECONDS) <= LIMIT.requests
    assert bucket.per_second == pytest.approx(0.9 * 100 / 60)


def test_a_full_bucket_grants_its_capacity_then_nothing_until_it_refills(store):
    bucket, now = Bucket.of(LIMIT), 1_000_000.0
    assert granted_in_a_row(store, "acct", bucket, now) == int(bucket.capacity)
    empty = store.take("acct", bucket, 1, now)
    assert empty.granted == 0 and empty.wait > 0
    assert store.take("acct", bucket, 1, now + empty.wait + 0.01).granted == 1


def test_orders_spend_the_whole_bucket_tracking_and_inventory_only_above_their_reserves(store, settings):
    orders, tracking, inventory = (Bucket.of(LIMIT, kind) for kind in ("orders", "shipments", "inventory"))
    now = 2_000_000.0
    assert granted_in_a_row(store, "inv", inventory, now) < granted_in_a_row(store, "trk", tracking, now)
    assert granted_in_a_row(store, "trk2", tracking, now) < granted_in_a_row(store, "ord", orders, now)
    # once inventory stopped at its reserve, orders still find tokens; inventory does not
    granted_in_a_row(store, "shared", inventory, now)
    assert store.take("shared", inventory, 1, now).granted == 0
    assert store.take("shared", orders, 1, now).granted == 1


def test_a_429_empties_the_bucket_until_the_wait_ends_and_lowers_the_rate(store):
    bucket, now = Bucket.of(LIMIT), 3_000_000.0
    store.take("acct", bucket, 1, now)
    store.teach("acct", bucket, 60, now)
    assert store.take("acct", bucket, 1, now + 59).granted == 0
    assert store.take("acct", bucket, 1, now + 60).granted == 0  # right after the wait it is still empty
    # ten seconds later it has refilled, but only to what 80 % of the rate holds
    refilled = granted_in_a_row(store, "acct", bucket, now + 70)
    assert 0 < refilled < int(bucket.capacity)


def test_rate_headers_saying_few_requests_remain_lower_the_bucket_until_the_window_resets(store):
    bucket, now = Bucket.of(LIMIT), 4_000_000.0
    store.take("acct", bucket, 1, now)
    store.observe("acct", bucket, 2, 30, now)
    assert granted_in_a_row(store, "acct", bucket, now) == 2
    assert store.take("acct", bucket, 1, now + 29).granted == 0  # what remained lasts until the reset
    assert store.take("acct", bucket, 1, now + 31).granted == 1
    store.observe("acct", bucket, 0, 30, now)
    assert store.take("acct", bucket, 1, now + 29).granted == 0


def test_a_lower_kind_facing_a_spent_bucket_stops_as_throttled_without_waiting_long(db, settings):
    settings.HTTP_MAX_THROTTLE_WAIT_SECONDS = 0.5
    slow = RateLimit(requests=6, seconds=60, source="test")  # refills one token every 11 s
    orders = AccountBudget("acct-throttle", slow, kind="orders", store=DatabaseBudgets())
    inventory = AccountBudget("acct-throttle", slow, kind="inventory", store=DatabaseBudgets())
    orders.spend()
    with pytest.raises(ThrottledError) as raised:
        inventory.spend()
    assert raised.value.retry_after is None  # the budget is ours: no platform cooldown is recorded from it
    assert "nothing was sent" in str(raised.value)


def test_a_take_is_one_statement_and_held_tokens_need_none(db, django_assert_max_num_queries, settings):
    budget = AccountBudget("acct-cheap", LIMIT, store=DatabaseBudgets())
    budget.spend()  # creates the row
    PlatformBudget.objects.filter(key="acct-cheap").update(tokens=8, refreshed_at=time.time())
    with django_assert_max_num_queries(1):
        for _ in range(settings.BUDGET_LOCAL_TOKENS):
            budget.spend()


def test_a_request_covered_by_held_tokens_costs_no_statement_not_even_for_the_cooldown(
    db, django_assert_num_queries, settings
):
    key = "acct-one-statement"
    budget = AccountBudget(key, LIMIT, store=DatabaseBudgets(), cooldown=AccountCooldown(key))
    budget.spend()  # creates the row
    PlatformBudget.objects.filter(key=key).update(tokens=8, refreshed_at=time.time())
    with django_assert_num_queries(1):  # one take for BUDGET_LOCAL_TOKENS requests, the cooldown in it
        for _ in range(settings.BUDGET_LOCAL_TOKENS):
            budget.spend()


def test_a_cooldown_another_process_stored_stops_the_take_and_says_until_when(db):
    key = "acct-cooling"
    budget = AccountBudget(key, LIMIT, store=DatabaseBudgets(), cooldown=AccountCooldown(key), platform="Bergen")
    cooldown_record(key, seconds=600, reason="429")  # as another worker would have
    with pytest.raises(ThrottledError) as raised:
        budget.spend()
    assert raised.value.retry_after == pytest.approx(600, abs=5)  # the platform's wait: the run is deferred to it
    assert "Bergen asked us to wait" in str(raised.value)
    assert PlatformBudget.objects.get(key=key).tokens == pytest.approx(Bucket.of(LIMIT).capacity)  # nothing taken
