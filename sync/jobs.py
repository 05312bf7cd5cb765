"""Work a person asks for now (sync now, send now, test connection): queued for the worker, run there,
its progress and its summary written on the `Job` row that the page polls.

One service for the admin and the merchant pages: they queue with `job_queue`, read with
`job_status`; the worker runs `job_run` (through `sync.tasks.job_run_task`). A summary always says
what was done and why the rest was not: never "nothing to do" after work was done or failed.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from integrations.connectors.canonical import Address
from integrations.connectors.errors import ConnectorError
from integrations.history import connection_change_record
from integrations.models import CartConnection, Connection, SyncOutcome
from integrations.services import ConnectionNotConfigured, connection_test, oauth_complete
from orders.models import HoldCode, Order, OrderStatus, SyncRun
from orders.services.delivery.claims import DeliveryOutcome
from orders.services.delivery.holds import orders_retry
from orders.services.delivery.trial_order import TestOrderLine, order_send_test
from sync.cycle import cart_connection_sync_orders
from sync.heartbeat import NO_WORKER_MESSAGE, worker_missing
from sync.models import Job
from sync.webhooks.subscriptions import webhooks_ensure_for

log = logging.getLogger(__name__)

PROGRESS_EVERY_SECONDS = 1.0


def job_queue(
    *,
    kind: str,
    connection: Connection | None = None,
    orders: list[Order] | None = None,
    user: object | None = None,
    params: dict | None = None,
    secret: str = "",
) -> Job:
    """Record the job and hand it to the worker once the request's transaction commits."""
    if connection is not None:
        merchant_id = connection.merchant_id
        side = {"cart_connection": connection} if isinstance(connection, CartConnection) else {"warehouse": connection}
    else:
        merchant_id, side = orders[0].merchant_id, {}
    job = Job.objects.create(
        kind=kind,
        merchant_id=merchant_id,
        order_ids=[o.pk for o in orders or []],
        params=params or {},
        secret=secret,
        requested_by=user if getattr(user, "is_authenticated", False) else None,
        **side,
    )
    if settings.Q_CLUSTER.get("sync"):  # tasks run inline (the test settings): now, the job row is visible here
        async_task("sync.tasks.job_run_task", job_id=job.pk, sync=True)
    else:
        transaction.on_commit(lambda: async_task("sync.tasks.job_run_task", job_id=job.pk, sync=False))
    return job


def job_active(*, connection: Connection) -> Job | None:
    """The connection's job still queued or running, if any (its buttons stay disabled meanwhile)."""
    field = "cart_connection" if isinstance(connection, CartConnection) else "warehouse"
    return (
        Job.objects.filter(**{field: connection}, created_at__gte=timezone.now() - timedelta(hours=1))
        .exclude(state=Job.State.FINISHED)
        .first()
    )


def job_run(*, job_id: int) -> str:
    """Run a queued job once (a second delivery of the task finds it taken). Never raises."""
    if not Job.objects.filter(pk=job_id, state=Job.State.QUEUED).update(
        state=Job.State.RUNNING, started_at=timezone.now(), updated_at=timezone.now()
    ):
        return f"job {job_id}: already taken or gone"
    job = Job.objects.select_related("merchant", "cart_connection", "warehouse", "requested_by").get(pk=job_id)
    try:
        level, summary = RUNNERS[job.kind](job)
    except Exception as exc:
        log.exception("job %s failed", job_id)
        level, summary = Job.Level.ERROR, f"Failed: internal error ({type(exc).__name__}: {exc})."
    # Also over the sweep's "the worker stopped" (a worker silent for longer than a task may run): what it did wins.
    Job.objects.filter(pk=job_id).update(
        state=Job.State.FINISHED,
        level=level,
        summary=summary,
        secret="",  # an authorization code is used once: not kept
        finished_at=timezone.now(),
        updated_at=timezone.now(),
    )
    return f"job {job_id}: {summary}"


def _progress_writer(job: Job) -> Callable[[str], None]:
    """A run's progress callback that writes onto the job (at most once a second) and links its run."""
    written_at: list[float] = []

    def write(text: str) -> None:
        now = time.monotonic()
        if written_at and now - written_at[0] < PROGRESS_EVERY_SECONDS:
            return
        written_at[:] = [now]
        if job.sync_run_id is None and job.cart_connection_id:
            job.sync_run_id = (
                SyncRun.objects.filter(cart_connection_id=job.cart_connection_id, started_at__gte=job.started_at)
                .values_list("pk", flat=True)
                .order_by("-pk")
                .first()
            )
        Job.objects.filter(pk=job.pk).update(
            progress=text[:500], sync_run_id=job.sync_run_id, updated_at=timezone.now()
        )

    return write


def _sync_orders(job: Job) -> tuple[str, str]:
    connection = job.cart_connection
    if connection is None or not connection.active or not connection.merchant.active:
        return Job.Level.ERROR, "Not run: this connection (or its merchant) is inactive."
    run = cart_connection_sync_orders(connection=connection, progress=_progress_writer(job))
    Job.objects.filter(pk=job.pk).update(sync_run=run)
    return run_summary(run=run)


def _send_orders(job: Job) -> tuple[str, str]:
    Job.objects.filter(pk=job.pk).update(
        progress=f"checking {len(job.order_ids)} order(s) against the warehouse's SKU list", updated_at=timezone.now()
    )
    counts = orders_retry(order_ids=job.order_ids, progress=_progress_writer(job))
    return send_summary(counts=counts, order_ids=job.order_ids)


def _test_connection(job: Job) -> tuple[str, str]:
    connection = job.connection
    result = connection_test(connection=connection)
    if result.ok:  # "connected" only after a passing test
        return Job.Level.SUCCESS, f"{connection.platform_label} connected. Test connection: OK — {result.message}"
    return Job.Level.ERROR, f"{connection.platform_label} is not connected. Test connection failed: {result.message}"


def _test_order(job: Job) -> tuple[str, str]:
    """A test order made and sent here, from what the page asked (`params`, see `trial_order_params`)."""
    cart, params = job.cart_connection, job.params
    if cart is None or not cart.active or not cart.merchant.active:
        return Job.Level.ERROR, "Not sent: this cart connection (or its merchant) is inactive."
    Job.objects.filter(pk=job.pk).update(progress="making the test order and sending it", updated_at=timezone.now())
    sent = order_send_test(
        cart_connection=cart,
        lines=[TestOrderLine(sku=line["sku"], quantity=int(line["quantity"])) for line in params.get("lines", [])],
        ship_method=params.get("ship_method", ""),
        ship_to=Address(**params.get("ship_to", {})),
        requested_by=params.get("requested_by", ""),
    )
    Job.objects.filter(pk=job.pk).update(order_ids=[sent.order.pk])
    text = f"Test order {sent.order.order_number}: {sent.message}"
    if sent.outcome == DeliveryOutcome.DELIVERED:
        return Job.Level.SUCCESS, text
    if sent.outcome == DeliveryOutcome.RETRY:
        return Job.Level.WARNING, text
    return Job.Level.ERROR, f"Test order {sent.order.order_number} was not delivered. {sent.message}"


def trial_order_params(*, lines: list[TestOrderLine], ship_method: str, ship_to: Address, requested_by: str) -> dict:
    """What a test-order job is asked with, as JSON (the job rebuilds the lines and ship-to from it)."""
    return {
        "lines": [{"sku": line.sku, "quantity": line.quantity} for line in lines],
        "ship_method": ship_method,
        "ship_to": dataclasses.asdict(ship_to),
        "requested_by": requested_by,
    }


def _grant(job: Job) -> tuple[str, str]:
    """An access grant's authorization code exchanged for tokens, stored encrypted on the connection."""
    connection = job.connection
    label = connection.platform_label
    try:
        oauth_complete(connection=connection, code=job.secret, redirect_uri=job.params.get("redirect_uri", ""))
    except (ConnectorError, ConnectionNotConfigured) as exc:
        return Job.Level.ERROR, f"Access was not granted: {exc}"
    if job.requested_by is not None:
        connection_change_record(
            connection=connection, user=job.requested_by, message=f"Access granted at {label}: new tokens stored"
        )
    hooks = webhooks_ensure_for(connection=connection) if isinstance(connection, CartConnection) else ""
    return Job.Level.SUCCESS, f"Access granted: {label} tokens stored (encrypted).{' ' + hooks if hooks else ''}"


RUNNERS: dict[str, Callable[[Job], tuple[str, str]]] = {
    Job.Kind.SYNC_ORDERS: _sync_orders,
    Job.Kind.SEND_ORDERS: _send_orders,
    Job.Kind.TEST_CONNECTION: _test_connection,
    Job.Kind.TEST_ORDER: _test_order,
    Job.Kind.GRANT: _grant,
}


def held_reasons(*, orders: QuerySet[Order]) -> str:
    """ "3 unknown SKU, 1 missing ship-to fields" for the held orders among `orders` (a queryset)."""
    labels = dict(HoldCode.choices)
    rows = (
        orders.filter(status=OrderStatus.ERROR)
        .values("hold_code")
        .annotate(n=Count("pk", distinct=True))
        .order_by("-n", "hold_code")
    )
    return ", ".join(f"{row['n']} {labels.get(row['hold_code'], row['hold_code'] or 'held')}" for row in rows)


def counts_text(*, counts: dict, held_why: str) -> str:
    """ "imported 6, held 4: 3 unknown SKU, 1 missing ship-to fields; delivered 2" from a run's counts."""
    parts = [f"imported {counts.get('imported', 0)}"]
    if counts.get("updated"):
        parts.append(f"updated {counts['updated']}")
    if counts.get("held"):
        parts.append(f"held {counts['held']}" + (f": {held_why}" if held_why else ""))
    for key, label in (("skipped", "skipped (not for the warehouse)"), ("canceled", "canceled at the cart")):
        if counts.get(key):
            parts.append(f"{label} {counts[key]}")
    text = ", ".join(parts) + f"; delivered {counts.get('delivered', 0)}"
    waiting = counts.get("retry", 0) + counts.get("not_sent", 0) + counts.get("claimed_by_another_run", 0)
    if counts.get("rejected"):
        text += f", refused by the warehouse {counts['rejected']}"
    if waiting:
        text += f", to be sent by a later run {waiting}"
    return text


def run_summary(*, run: SyncRun) -> tuple[str, str]:
    """The level and the sentence a person reads for an orders run, with its reasons."""
    if run.status == SyncOutcome.SKIPPED:
        return Job.Level.WARNING, "Not run: another sync of this connection is in progress. Its result shows here soon."
    held_why = held_reasons(orders=Order.objects.filter(events__sync_run=run))
    counts = run.counts or {}
    did = counts_text(counts=counts, held_why=held_why)
    worked = any(counts.get(k) for k in ("imported", "updated", "held", "delivered", "rejected", "canceled"))
    notes = (run.error or "").strip()
    if run.status == SyncOutcome.FAILED:
        return Job.Level.ERROR, f"Failed: {notes or 'see the sync run'}" + (f" Before that: {did}." if worked else "")
    if run.status in (SyncOutcome.THROTTLED, SyncOutcome.INTERRUPTED, SyncOutcome.NOT_SUPPORTED):
        return Job.Level.WARNING, f"{run.get_status_display().capitalize()}: {notes} ({did})."
    if not worked and not notes:
        return (
            Job.Level.SUCCESS,
            "Done: the cart has no new or changed orders since the last sync; none waits to be sent.",
        )
    level = Job.Level.SUCCESS if run.status == SyncOutcome.SUCCEEDED else Job.Level.WARNING
    return level, f"Done: {did}." + (f" {notes}" if notes else "")


def send_summary(*, counts: dict, order_ids: list[int]) -> tuple[str, str]:
    """What a send now did with its orders: sent, still held (why), not sent (why)."""
    orders = Order.objects.filter(pk__in=order_ids)
    parts = [f"delivered {counts.get('delivered', 0)} of {len(order_ids)}"]
    if counts.get("still_held"):
        parts.append(f"still held {counts['still_held']}: {held_reasons(orders=orders)}")
    not_sent = counts.get("not_delivered", 0)
    if not_sent:
        reasons = sorted({o.last_error for o in orders.exclude(status=OrderStatus.AT_WMS) if o.last_error})
        reason = "; ".join(r[:200] for r in reasons[:3]) or "see each order's history"
        parts.append(f"not sent {not_sent} ({reason})")
    if counts.get("rate_limited"):
        parts.append(f"{counts['rate_limited']} wait for the warehouse's rate limit")
    unchanged = len(order_ids) - counts.get("delivered", 0) - counts.get("still_held", 0) - not_sent
    if unchanged > 0:
        parts.append(f"{unchanged} had nothing to send (already at the warehouse, shipped or canceled)")
    level = Job.Level.SUCCESS if not (counts.get("still_held") or not_sent) else Job.Level.WARNING
    return level, "Send now: " + "; ".join(parts) + "."


def job_status(*, job: Job) -> dict:
    """What the page polling the job shows: its state, progress (the run's counts so far) and summary."""
    data = {
        "id": job.pk,
        "kind": job.get_kind_display(),
        "state": job.state,
        "finished": job.finished,
        "level": job.level,
        "summary": job.summary,
        "progress": "",
    }
    if job.state == Job.State.QUEUED:
        data["progress"] = "Queued: waiting for a worker to take it."
        if worker_missing():
            data["progress"] += " " + NO_WORKER_MESSAGE
    elif job.state == Job.State.RUNNING:
        run = SyncRun.objects.filter(pk=job.sync_run_id).first() if job.sync_run_id else None
        so_far = f"so far {counts_text(counts=run.counts or {}, held_why='')}" if run is not None else ""
        data["progress"] = "Running: " + "; ".join(filter(None, [job.progress, so_far])) + "…"
    return data
