"""The backoff of failed deliveries and refused tracking pushes comes from settings (a minute, doubled
after each failure, at most an hour by default), so that a run that must go faster, the chaos harness
among them, shortens it there instead of rewriting the orders' retry times."""

from __future__ import annotations

from datetime import timedelta

from orders.models import OrderStatus
from orders.services.delivery.claims import retry_delay
from orders.services.tracking.outcomes import push_retry_delay
from tests.orders.helpers import order_for, order_posts, seed, sync


def test_by_default_a_retry_waits_a_minute_doubled_after_each_failure_at_most_an_hour():
    for delay in (retry_delay, push_retry_delay):
        assert [delay(attempts) for attempts in (0, 1, 2, 3, 7, 10_000)] == [
            timedelta(minutes=1),
            timedelta(minutes=1),
            timedelta(minutes=2),
            timedelta(minutes=4),
            timedelta(hours=1),
            timedelta(hours=1),
        ]


def test_the_base_and_the_cap_of_each_backoff_are_settings(settings):
    settings.DELIVERY_RETRY_BASE_SECONDS, settings.DELIVERY_RETRY_CAP_SECONDS = 0.5, 1.5
    settings.TRACKING_PUSH_RETRY_BASE_SECONDS, settings.TRACKING_PUSH_RETRY_CAP_SECONDS = 2, 5

    assert [retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [0.5, 1.0, 1.5, 1.5]
    assert [push_retry_delay(n).total_seconds() for n in (1, 2, 3, 4)] == [2, 4, 5, 5]


def test_a_delivery_that_failed_is_retried_by_the_same_run_when_the_backoff_is_zero(wired, settings):
    settings.DELIVERY_RETRY_BASE_SECONDS = 0
    cart_order = seed(wired.squarespace, "1001")
    wired.bergen.fail_next(1, status=500, path_contains="/orders", method="POST")

    run = sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert run.counts["retry"] == 1 and run.counts["delivered"] == 1
    assert order.status == OrderStatus.AT_WMS
    assert len(order_posts(wired.bergen)) == 2  # the refused send and the retry
    assert wired.bergen.duplicate_count() == 0
