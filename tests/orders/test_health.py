"""Failures are classified and the retry state lives on the connection row: needs a person (blocked until
someone acts), temporary (backoff, then given up), throttled (deferred, no attempt counted)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from integrations.models import CartConnection, SyncOutcome
from integrations.services import connection_test
from orders.models import Order, Problem, SyncRun
from orders.services.records.health import backoff
from orders.services.records.problems import connection_problem
from orders.tasks import sync_orders_task, sync_shipments_task
from tests.admin_helpers import form_values
from tests.orders.helpers import ORDERS_PATH, cooldowns_end, seed, sync


@pytest.fixture(autouse=True)
def _no_http_retries(settings):
    """One HTTP attempt per run, so one injected fault fails one run."""
    settings.HTTP_MAX_RETRIES = 0


def open_problems(cart: CartConnection) -> dict[str, Problem]:
    return {p.reason_code: p for p in Problem.objects.filter(cart_connection=cart, status=Problem.Status.OPEN)}


def between(value, low, high) -> bool:
    return low <= value <= high


def test_a_401_from_the_cart_needs_a_person_and_blocks_scheduled_runs(wired):
    seed(wired.squarespace, "1001")
    wired.squarespace.fail_next(status=401, path_contains=ORDERS_PATH)

    run = sync(wired.cart)

    assert (run.status, run.failure_kind) == (SyncOutcome.FAILED, "needs_person")
    assert "401" in run.error
    cart = wired.cart
    assert cart.blocked_reason.startswith("Stopped until a person acts (needs a person")
    assert "401" in cart.blocked_reason
    assert cart.consecutive_failures == 1
    assert "needs_person" in open_problems(cart)

    said = sync_orders_task(cart.pk)

    assert "waiting for a person" in said and "401" in said
    assert SyncRun.objects.filter(cart_connection=cart).count() == 1, "the scheduled task started no run"

    assert connection_test(connection=cart).ok
    cart.refresh_from_db()
    assert (cart.blocked_reason, cart.consecutive_failures, cart.next_attempt_at) == ("", 0, None)

    said = sync_orders_task(cart.pk)

    assert said.endswith(": succeeded")
    assert Order.objects.filter(cart_connection=cart).count() == 1
    assert open_problems(cart) == {}, "the success resolved the connection's problem"


def test_saving_the_connection_in_the_admin_unblocks_it(wired, admin_client):
    wired.squarespace.fail_next(status=401, path_contains=ORDERS_PATH)
    sync(wired.cart)
    assert wired.cart.blocked_reason
    url = reverse("admin:integrations_cartconnection_change", args=[wired.cart.pk])
    data = form_values(admin_client.get(url).content.decode(), "cartconnection_form")

    response = admin_client.post(url, data)

    assert response.status_code == 302
    wired.cart.refresh_from_db()
    assert wired.cart.blocked_reason == ""
    assert sync_orders_task(wired.cart.pk).endswith(": succeeded")


@pytest.mark.parametrize("fault", ["500", "timeout"])
def test_a_temporary_failure_backs_off_1_2_4_minutes_and_the_schedule_waits(wired, settings, fault):
    settings.HTTP_TIMEOUT_SECONDS = 0.3
    for attempt, minutes in enumerate([1, 2, 4], start=1):
        if fault == "500":
            wired.squarespace.fail_next(status=500, path_contains=ORDERS_PATH)
        else:
            wired.squarespace.fail_next(mode="timeout", delay=1.0, path_contains=ORDERS_PATH)
        before = timezone.now()

        run = sync(wired.cart)

        after = timezone.now()
        assert (run.status, run.failure_kind) == (SyncOutcome.FAILED, "temporary")
        cart = wired.cart
        assert cart.consecutive_failures == attempt
        assert between(cart.next_attempt_at, before + timedelta(minutes=minutes), after + timedelta(minutes=minutes))
        assert cart.blocked_reason == ""
        assert cart.unhealthy is (attempt >= settings.UNHEALTHY_AFTER_FAILURES)

    said = sync_orders_task(wired.cart.pk)
    assert "deferred until" in said
    assert SyncRun.objects.filter(cart_connection=wired.cart).count() == 3
    assert "failing" in open_problems(wired.cart), "unhealthy after 3 failures in a row raises a problem"

    CartConnection.objects.filter(pk=wired.cart.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
    assert sync_orders_task(wired.cart.pk).endswith(": succeeded")

    wired.cart.refresh_from_db()
    cart = wired.cart
    assert (cart.consecutive_failures, cart.failing_since, cart.next_attempt_at) == (0, None, None)
    assert (cart.unhealthy, cart.blocked_reason) == (False, "")
    assert cart.last_success_at is not None
    assert open_problems(cart) == {}
    assert Problem.objects.get(cart_connection=cart, reason_code="failing").status == Problem.Status.RESOLVED


def test_backoff_doubles_up_to_an_hour():
    assert [backoff(n).total_seconds() / 60 for n in range(1, 10)] == [1, 2, 4, 8, 16, 32, 60, 60, 60]


def test_unhealthy_only_after_the_configured_failures_in_a_row(wired, settings):
    settings.UNHEALTHY_AFTER_FAILURES = 2
    wired.squarespace.fail_next(status=503, path_contains=ORDERS_PATH)
    sync(wired.cart)
    assert wired.cart.unhealthy is False

    wired.squarespace.fail_next(status=503, path_contains=ORDERS_PATH)
    sync(wired.cart)

    assert wired.cart.unhealthy is True
    assert wired.cart.consecutive_failures == 2


def test_after_retrying_for_the_give_up_period_it_gives_up_with_a_problem(wired, settings):
    CartConnection.objects.filter(pk=wired.cart.pk).update(
        consecutive_failures=12,
        failing_since=timezone.now() - timedelta(hours=settings.RETRY_GIVE_UP_HOURS, minutes=1),
    )
    wired.cart.refresh_from_db()
    wired.squarespace.fail_next(status=500, path_contains=ORDERS_PATH)

    run = sync(wired.cart)

    assert run.failure_kind == "temporary"
    assert wired.cart.blocked_reason.startswith(f"Gave up retrying after {settings.RETRY_GIVE_UP_HOURS} hours")
    assert wired.cart.consecutive_failures == 13
    problem = open_problems(wired.cart)["gave_up"]
    assert "Gave up retrying" in problem.message
    assert "waiting for a person" in sync_orders_task(wired.cart.pk)


def test_failing_for_less_than_the_give_up_period_keeps_retrying(wired, settings):
    CartConnection.objects.filter(pk=wired.cart.pk).update(
        consecutive_failures=12,
        failing_since=timezone.now() - timedelta(hours=settings.RETRY_GIVE_UP_HOURS - 1),
    )
    wired.cart.refresh_from_db()
    wired.squarespace.fail_next(status=500, path_contains=ORDERS_PATH)

    sync(wired.cart)

    assert wired.cart.blocked_reason == ""
    assert "gave_up" not in open_problems(wired.cart)
    assert wired.cart.next_attempt_at - timezone.now() <= timedelta(minutes=60), "at most hourly"


def test_a_429_with_a_long_retry_after_defers_the_run_without_counting_a_failure(wired):
    wired.squarespace.fail_next(status=429, headers={"Retry-After": "900"}, path_contains=ORDERS_PATH)
    before = timezone.now()

    run = sync(wired.cart)

    after = timezone.now()
    assert (run.status, run.failure_kind) == (SyncOutcome.THROTTLED, "throttled")
    cart = wired.cart
    assert cart.consecutive_failures == 0 and cart.failing_since is None and cart.unhealthy is False
    assert between(cart.next_attempt_at, before + timedelta(seconds=900), after + timedelta(seconds=900))
    assert open_problems(cart) == {}
    assert "deferred until" in sync_orders_task(cart.pk)
    requests = len(wired.squarespace.requests)
    # A run a person starts does not wait for the connection's next attempt, but sends nothing inside
    # the platform's cooldown.
    assert sync_orders_task(cart.pk, False).endswith(": throttled")
    assert len(wired.squarespace.requests) == requests
    cooldowns_end()
    assert sync_orders_task(cart.pk, False).endswith(": succeeded")


def test_a_success_resets_the_retry_state_and_resolves_the_connections_problems(wired):
    CartConnection.objects.filter(pk=wired.cart.pk).update(
        consecutive_failures=5,
        failing_since=timezone.now() - timedelta(hours=2),
        next_attempt_at=timezone.now() - timedelta(seconds=1),
        unhealthy=True,
    )
    wired.cart.refresh_from_db()
    connection_problem(connection=wired.cart, reason_code="failing", message="failed 5 times in a row")
    connection_problem(
        connection=wired.cart, reason_code="heartbeat", message="no successful orders sync for 3.0 hours"
    )

    assert sync_orders_task(wired.cart.pk).endswith(": succeeded")

    wired.cart.refresh_from_db()
    cart = wired.cart
    assert (cart.consecutive_failures, cart.failing_since, cart.next_attempt_at) == (0, None, None)
    assert cart.unhealthy is False
    assert open_problems(cart) == {}
    assert Problem.objects.filter(cart_connection=cart, status=Problem.Status.RESOLVED).count() == 2


def test_a_warehouse_that_needs_a_person_is_not_called_by_scheduled_runs(wired):
    wired.bergen.fail_next(10, status=401, path_contains="/AuthServer/api/Token")
    sync_shipments_task(wired.cart.pk)
    wired.wms.refresh_from_db()
    assert wired.wms.blocked_reason, "the warehouse's own run blocked it"
    calls = len(wired.bergen.requests)

    sync_shipments_task(wired.cart.pk)

    assert len(wired.bergen.requests) == calls, "a scheduled run left the blocked warehouse alone"
