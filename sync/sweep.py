"""What the scheduled sweep does every minute: close the runs and the jobs whose worker died, start the
runs whose retries are due, raise the heartbeat and stuck-order problems; and the daily pruning of old
sync runs."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from integrations.models import CartConnection
from orders.models import Order, OrderStatus, Problem, Shipment, SyncRun
from orders.services.records.problems import connection_problem, problem_raise
from orders.services.records.sync_runs import sync_runs_close_interrupted
from sync.heartbeat import missing_after
from sync.models import Job, WebhookNotification, WorkerHeartbeat

# Beyond django-q2's task timeout a task is killed, so a running job silent for longer (plus this
# margin for the last write) has no worker left; a queued one the broker would have handed out again.
JOB_MARGIN = timedelta(minutes=2)


def _due_carts(now) -> dict[str, set[int]]:
    """Cart connections with work whose retry time has come, per task."""
    active = Q(cart_connection__active=True, cart_connection__blocked_reason="")
    deliveries = Order.objects.filter(active, status=OrderStatus.NEW, next_attempt_at__lte=now)
    tracking = Shipment.objects.filter(
        push_status__in=(Shipment.PushStatus.FAILED, Shipment.PushStatus.UNVERIFIED),
        next_push_at__lte=now,
        order__cart_connection__active=True,
        order__cart_connection__blocked_reason="",
    )
    retries = CartConnection.objects.filter(active=True, blocked_reason="", consecutive_failures__gt=0).filter(
        next_attempt_at__lte=now
    )
    return {
        "orders.tasks.sync_orders_task": set(deliveries.values_list("cart_connection_id", flat=True))
        | set(retries.values_list("pk", flat=True)),
        "orders.tasks.sync_shipments_task": set(tracking.values_list("order__cart_connection_id", flat=True)),
    }


def heartbeat_check(*, now: datetime) -> int:
    """A connection whose orders sync has not succeeded for longer than its threshold, whatever the
    reason (worker down, cluster stuck, platform failing), gets a problem."""
    raised = 0
    for connection in CartConnection.objects.filter(active=True, merchant__active=True):
        since = connection.last_success_at or connection.created_at
        if now - since > timedelta(minutes=connection.alert_after_minutes):
            hours = (now - since).total_seconds() / 3600
            connection_problem(
                connection=connection,
                reason_code="heartbeat",
                message=f"no successful orders sync for {hours:.1f} hours "
                f"(threshold {connection.alert_after_minutes} min): "
                "check the workers (qcluster) and the connection's last sync message.",
            )
            raised += 1
    return raised


def stuck_orders_check(*, now: datetime) -> int:
    """Raise (or refresh) a problem for each order at the warehouse longer than its cart connection's
    threshold. Selected in the database, one query per threshold in use (connections share a few), and
    read light: it runs every minute, over every order ever delivered and not yet shipped."""
    raised = 0
    thresholds = CartConnection.objects.order_by().values_list("stuck_after_hours", flat=True).distinct()
    for hours in sorted(thresholds):
        stuck = Order.objects.filter(
            cart_connection__stuck_after_hours=hours,
            status=OrderStatus.AT_WMS,
            delivered_at__lt=now - timedelta(hours=hours),
        ).only("pk", "order_number", "delivered_at", "merchant_id", "warehouse_id", "cart_connection_id")
        for order in stuck.iterator():
            problem_raise(
                key=f"order:{order.pk}:stuck",
                merchant_id=order.merchant_id,
                reason_code="stuck",
                message=(
                    f"Order #{order.order_number} reached the warehouse {order.delivered_at:%Y-%m-%d %H:%M} UTC "
                    f"and has not shipped after {hours} hours: ask the warehouse."
                ),
                cart_connection_id=order.cart_connection_id,
                warehouse_id=order.warehouse_id,
                order_id=order.pk,
            )
            raised += 1
    return raised


def job_silence_limit() -> timedelta:
    """How long a running job may go without a sign of life: the task timeout, plus the margin."""
    return timedelta(seconds=settings.Q_CLUSTER.get("timeout") or 600) + JOB_MARGIN


def job_lost_limit() -> timedelta:
    """How long a job may stay queued while a worker runs: the broker hands out again a task whose
    worker died after `retry` seconds, and a task runs at most `timeout` seconds, plus the margin."""
    broker = settings.Q_CLUSTER.get("retry") or 0
    return timedelta(seconds=broker) + job_silence_limit()


def jobs_close_abandoned(*, now: datetime) -> int:
    """Finish, with level error and what to do, each job a worker will not finish: running with no
    sign of life for longer than a task may run (its worker stopped; the sync run it started is
    closed by the interrupted-run rule), or still queued long after a worker has been up the whole
    time (its task was lost). A queued job waits as long as no worker runs: the pages say so."""
    silent = now - job_silence_limit()
    running = Job.objects.filter(state=Job.State.RUNNING, updated_at__lt=silent)
    closed = running.update(
        state=Job.State.FINISHED,
        level=Job.Level.ERROR,
        finished_at=now,
        updated_at=now,
        summary=f"Not finished: the worker stopped while running it (no sign of it since {silent:%Y-%m-%d %H:%M} "
        "UTC, longer than a task may run). What it did before is in the history; run it again.",
    )
    since = now - job_lost_limit()
    if WorkerHeartbeat.objects.filter(started_at__lte=since, last_seen__gte=now - missing_after()).exists():
        closed += Job.objects.filter(state=Job.State.QUEUED, created_at__lt=since).update(
            state=Job.State.FINISHED,
            level=Job.Level.ERROR,
            finished_at=now,
            updated_at=now,
            summary="Not run: no worker took it although one has been running since it was queued (its task was "
            "lost). Run it again.",
        )
    return closed


def sweep() -> str:
    interrupted = sync_runs_close_interrupted()  # first: a dead worker's run is not left running
    now = timezone.now()
    abandoned = jobs_close_abandoned(now=now)
    started = 0
    for func, connection_ids in _due_carts(now).items():
        for connection_id in sorted(connection_ids):
            async_task(func, connection_id, False, group="orderbridge-sweep")
            started += 1
    # Notifications that waited (another orders run held the lock, or a run failed): drained again.
    waiting = WebhookNotification.objects.filter(handled_at__isnull=True, received_at__lte=now - timedelta(minutes=1))
    for connection_id in sorted(set(waiting.values_list("cart_connection_id", flat=True))):
        async_task("sync.tasks.webhook_inbox_drain_task", connection_id=connection_id, group="orderbridge-sweep")
        started += 1
    heartbeats = heartbeat_check(now=now)
    stuck = stuck_orders_check(now=now)
    return (
        f"{interrupted} interrupted run(s) closed, {abandoned} abandoned job(s) closed, {started} due run(s) "
        f"started, {heartbeats} heartbeat problem(s), "
        f"{stuck} stuck order(s)"
    )


def sync_runs_prune() -> str:
    cutoff = timezone.now() - timedelta(days=settings.SYNC_RUN_RETENTION_DAYS)
    runs = SyncRun.objects.filter(started_at__lt=cutoff).delete()[0]
    problems = Problem.objects.exclude(status=Problem.Status.OPEN).filter(last_seen_at__lt=cutoff).delete()[0]
    return (
        f"pruned {runs} sync run(s) and {problems} closed problem(s) older than {settings.SYNC_RUN_RETENTION_DAYS} days"
    )
