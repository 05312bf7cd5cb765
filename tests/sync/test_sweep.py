"""The every-minute sweep: due retries started (inline with `sync: True`), heartbeat and stuck-order
problems; and the pruning of old sync runs."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.models import CartConnection, SyncOutcome
from orders.models import Order, OrderStatus, Problem, SyncRun
from orders.services.records.history import order_set_status
from orders.tasks import prune_task, sweep_task
from sync.sweep import stuck_orders_check, sweep, sync_runs_prune
from tests.factories import CartConnectionFactory, OrderFactory
from tests.orders.helpers import ago, order_for, order_posts, seed, sync


def problems(reason_code: str) -> list[Problem]:
    return list(Problem.objects.filter(reason_code=reason_code, status=Problem.Status.OPEN))


def test_a_connection_without_a_recent_success_gets_a_heartbeat_problem(db):
    late = CartConnectionFactory(alert_after_minutes=60)
    CartConnection.objects.filter(pk=late.pk).update(last_success_at=ago(minutes=61))
    fine = CartConnectionFactory(alert_after_minutes=60)
    CartConnection.objects.filter(pk=fine.pk).update(last_success_at=ago(minutes=59))
    never = CartConnectionFactory(alert_after_minutes=60)
    CartConnection.objects.filter(pk=never.pk).update(created_at=ago(hours=3))

    result = sweep()

    assert "2 heartbeat problem(s)" in result
    assert {p.cart_connection_id for p in problems("heartbeat")} == {late.pk, never.pk}
    [late_problem] = [p for p in problems("heartbeat") if p.cart_connection_id == late.pk]
    assert "no successful orders sync for 1.0 hours" in late_problem.message

    sweep()

    late_problem.refresh_from_db()
    assert late_problem.count == 2, "seen again by the next sweep: counted, not a second row"
    assert len(problems("heartbeat")) == 2


def test_a_successful_run_clears_the_heartbeat_problem(wired):
    CartConnection.objects.filter(pk=wired.cart.pk).update(created_at=ago(hours=5))
    sweep()
    assert problems("heartbeat")

    sync(wired.cart)

    assert problems("heartbeat") == []


def test_orders_at_the_warehouse_longer_than_the_threshold_are_stuck_problems(db):
    cart = CartConnectionFactory(stuck_after_hours=48)
    stuck = OrderFactory(cart_connection=cart, status=OrderStatus.AT_WMS, delivered_at=ago(hours=49))
    OrderFactory(cart_connection=cart, status=OrderStatus.AT_WMS, delivered_at=ago(hours=47))
    OrderFactory(cart_connection=cart, status=OrderStatus.SHIPPED, delivered_at=ago(hours=100))

    result = sweep()

    assert "1 stuck order(s)" in result
    [problem] = problems("stuck")
    assert problem.order == stuck
    assert problem.key == f"order:{stuck.pk}:stuck"
    assert f"Order #{stuck.order_number}" in problem.message and "48 hours" in problem.message


def test_each_cart_connection_has_its_own_stuck_threshold(db):
    patient, hasty = CartConnectionFactory(stuck_after_hours=72), CartConnectionFactory(stuck_after_hours=12)
    OrderFactory(cart_connection=patient, status=OrderStatus.AT_WMS, delivered_at=ago(hours=49))
    late = OrderFactory(cart_connection=hasty, status=OrderStatus.AT_WMS, delivered_at=ago(hours=13))

    assert "1 stuck order(s)" in sweep()
    assert [p.order for p in problems("stuck")] == [late]
    assert "12 hours" in problems("stuck")[0].message


def test_the_stuck_check_reads_the_orders_once_per_threshold_in_use_not_once_per_connection(db):
    carts = [CartConnectionFactory(stuck_after_hours=hours) for hours in (24, 24, 24, 24, 72, 72, 72)]
    late = [OrderFactory(cart_connection=cart, status=OrderStatus.AT_WMS, delivered_at=ago(hours=50)) for cart in carts]

    with CaptureQueriesContext(connection) as queries:
        assert stuck_orders_check(now=timezone.now()) == 4

    at_warehouse = f'"orders_order"."status" = \'{OrderStatus.AT_WMS}\''
    order_reads = [q for q in queries.captured_queries if at_warehouse in q["sql"]]
    assert len(order_reads) == 2, "one read per threshold (24 h, 72 h), whatever the number of connections"
    assert {p.order for p in problems("stuck")} == set(late[:4])


def test_a_stuck_order_that_ships_has_its_problem_resolved(wired):
    cart_order = seed(wired.squarespace, "1001")
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    Order.objects.filter(pk=order.pk).update(delivered_at=ago(hours=wired.cart.stuck_after_hours + 1))
    sweep()
    assert problems("stuck")

    order.refresh_from_db()
    order_set_status(order=order, status=OrderStatus.SHIPPED, message="Shipped.")

    assert problems("stuck") == []


def test_the_sweep_delivers_an_order_whose_retry_is_due(wired):
    cart_order = seed(wired.squarespace, "1001")
    wired.bergen.fail_next(1, status=500, path_contains="/orders", method="POST")
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.NEW and order.next_attempt_at > timezone.now()

    assert "0 due run(s) started" in sweep()
    order.refresh_from_db()
    assert order.status == OrderStatus.NEW, "not due yet"

    Order.objects.filter(pk=order.pk).update(next_attempt_at=ago(seconds=1))
    result = sweep_task()

    assert "1 due run(s) started" in result
    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WMS
    assert len(order_posts(wired.bergen)) == 2
    assert len(wired.bergen.orders) == 1


def test_the_sweep_retries_a_failing_connection_when_due_but_not_a_blocked_one(wired):
    seed(wired.squarespace, "1001")
    CartConnection.objects.filter(pk=wired.cart.pk).update(
        consecutive_failures=2, failing_since=ago(minutes=5), next_attempt_at=ago(seconds=1)
    )

    sweep()

    wired.cart.refresh_from_db()
    assert wired.cart.consecutive_failures == 0
    assert Order.objects.count() == 1

    seed(wired.squarespace, "1002")
    CartConnection.objects.filter(pk=wired.cart.pk).update(
        consecutive_failures=2, next_attempt_at=ago(seconds=1), blocked_reason="Stopped until a person acts: 401"
    )
    runs = SyncRun.objects.count()

    sweep()

    assert SyncRun.objects.count() == runs
    assert Order.objects.count() == 1


def test_pruning_deletes_runs_and_closed_problems_older_than_the_retention(wired, settings):
    settings.SYNC_RUN_RETENTION_DAYS = 30
    old_run, new_run = (sync(wired.cart) for _ in range(2))
    SyncRun.objects.filter(pk=old_run.pk).update(started_at=timezone.now() - timedelta(days=31))
    SyncRun.objects.filter(pk=new_run.pk).update(started_at=timezone.now() - timedelta(days=29))
    common = {"merchant": wired.merchant, "reason_code": "heartbeat", "message": "m"}
    old_closed = Problem.objects.create(key="a", status=Problem.Status.RESOLVED, last_seen_at=ago(days=31), **common)
    old_open = Problem.objects.create(key="b", last_seen_at=ago(days=31), **common)
    new_closed = Problem.objects.create(key="c", status=Problem.Status.IGNORED, last_seen_at=ago(days=1), **common)

    result = prune_task()

    assert result == (
        "pruned 1 sync run(s) and 1 closed problem(s) older than 30 days; 0 handled webhook notification(s) pruned"
    )
    assert list(SyncRun.objects.values_list("pk", flat=True)) == [new_run.pk]
    assert set(Problem.objects.values_list("pk", flat=True)) == {old_open.pk, new_closed.pk}
    assert not Problem.objects.filter(pk=old_closed.pk).exists()
    assert sync_runs_prune() == "pruned 0 sync run(s) and 0 closed problem(s) older than 30 days"
    assert SyncRun.objects.get().status == SyncOutcome.SUCCEEDED
