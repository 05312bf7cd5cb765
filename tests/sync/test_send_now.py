"""Send now and Retry for orders go through the worker: the request checks what needs no platform,
queues a send-now job (one per merchant) and calls no platform (the sandboxes' recorded requests say
so); the order pages follow the job; the sweep closes the jobs a worker will not finish."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import OrderStatus, Problem, SKUAlias
from sync.jobs import job_run
from sync.models import Job, WorkerHeartbeat
from sync.sweep import job_lost_limit, job_silence_limit, jobs_close_abandoned, sweep
from tests.admin_helpers import messages_of
from tests.factories import JobFactory, WorkerHeartbeatFactory
from tests.send_now_helpers import held_orders, ready_order


@pytest.fixture
def worker_apart(settings, django_capture_on_commit_callbacks):
    """Tasks go to a worker (none runs here): a queued job stays queued until the test runs it."""
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    with django_capture_on_commit_callbacks(execute=False):
        yield


def _calls(wired) -> int:
    return len(wired.bergen.requests) + len(wired.squarespace.requests)


def test_the_lists_retry_rechecks_here_queues_the_sending_and_calls_no_platform(admin_client, wired, worker_apart):
    fixed, still = held_orders(wired, {"2101": "TEE-BLK", "2102": "NOT-THERE"})
    SKUAlias.objects.create(merchant=wired.merchant, cart_sku="TEE-BLK", warehouse_sku="SKU-2")
    calls = _calls(wired)

    response = admin_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "retry_orders", "_selected_action": [fixed.pk, still.pk]},
        follow=True,
    )

    assert _calls(wired) == calls, "the request called a platform"
    [(level, text)] = messages_of(response)
    text = html.unescape(text)
    assert level == "warning"
    assert text.startswith("1 released, 1 still held as checked here; 2 queued for the worker")
    assert "#2101 waits to be sent." in text and "#2102 still held: The warehouse does not know SKU 'NOT-THERE'" in text
    job = Job.objects.get()
    assert f'href="/admin/sync/job/{job.pk}/change/">Follow job {job.pk} (2 order(s)).' in text
    assert (job.kind, job.state, sorted(job.order_ids)) == (
        Job.Kind.SEND_ORDERS,
        Job.State.QUEUED,
        sorted([fixed.pk, still.pk]),
    )

    job_run(job_id=job.pk)  # what the worker does

    job.refresh_from_db()
    fixed.refresh_from_db()
    assert fixed.status == OrderStatus.AT_WMS and len(wired.bergen.orders) == 1
    assert job.summary == "Send now: delivered 1 of 2; still held 1: 1 unknown SKU."


def test_the_problems_retry_queues_its_orders_for_the_worker(admin_client, wired, worker_apart):
    [held] = held_orders(wired, {"2103": "TEE-BLK"})
    SKUAlias.objects.create(merchant=wired.merchant, cart_sku="TEE-BLK", warehouse_sku="SKU-1")
    calls = _calls(wired)

    response = admin_client.post(
        reverse("admin:orders_problem_changelist"),
        {"action": "retry_problems", "_selected_action": list(Problem.objects.values_list("pk", flat=True))},
        follow=True,
    )

    assert _calls(wired) == calls and wired.bergen.orders == []
    [(level, text)] = messages_of(response)
    assert text.startswith("1 released, 0 still held as checked here; 1 queued to send in the worker")
    assert Job.objects.get().order_ids == [held.pk]


def test_the_admin_order_pages_send_now_queues_a_job_the_page_follows(admin_client, wired, worker_apart):
    order = ready_order(wired, "2104")
    Job.objects.all().delete()
    calls = _calls(wired)

    response = admin_client.post(reverse("admin:orders_order_hold", args=[order.pk, "send"]))

    assert _calls(wired) == calls, "the request called a platform"
    job = Job.objects.get()
    page = reverse("admin:orders_order_change", args=[order.pk])
    assert response["Location"] == f"{page}?job={job.pk}#hold-panel"
    content = admin_client.get(response["Location"]).content.decode()
    status_url = reverse("admin:sync_job_status", args=[job.pk])
    assert f'data-job-status-url="{status_url}"' in content
    assert 'id="send-now" data-job-button disabled' in content
    assert admin_client.get(status_url).json()["progress"].startswith("Queued: waiting for a worker")

    job_run(job_id=job.pk)

    status = admin_client.get(status_url).json()
    assert status["finished"] and (status["level"], status["summary"]) == ("success", "Send now: delivered 1 of 1.")
    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WMS


def test_a_second_send_now_follows_the_first_instead_of_queuing_another(admin_client, wired, worker_apart):
    order = ready_order(wired, "2105")
    url = reverse("admin:orders_order_hold", args=[order.pk, "send"])

    admin_client.post(url)
    response = admin_client.post(url, follow=True)

    assert Job.objects.filter(kind=Job.Kind.SEND_ORDERS).count() == 1
    *_, (level, text) = messages_of(response)  # the first answer was not shown yet
    assert text == "Order #2105: a send now is already waiting for a worker; it shows below."


def test_the_sweep_finishes_a_running_job_whose_worker_went_silent(db):
    now = timezone.now()
    dead = JobFactory(state=Job.State.RUNNING, started_at=now - timedelta(hours=1))
    alive = JobFactory(state=Job.State.RUNNING, started_at=now - timedelta(hours=1))
    Job.objects.filter(pk=dead.pk).update(updated_at=now - job_silence_limit() - timedelta(seconds=5))
    Job.objects.filter(pk=alive.pk).update(updated_at=now - job_silence_limit() + timedelta(seconds=30))

    result = sweep()

    assert "1 abandoned job(s) closed" in result
    dead.refresh_from_db()
    alive.refresh_from_db()
    assert (dead.state, dead.level) == (Job.State.FINISHED, Job.Level.ERROR)
    assert "the worker stopped while running it" in dead.summary and dead.summary.endswith("run it again.")
    assert alive.state == Job.State.RUNNING


def test_a_queued_job_is_closed_only_when_a_worker_ran_all_along(db):
    now = timezone.now()
    old = JobFactory()
    Job.objects.filter(pk=old.pk).update(created_at=now - job_lost_limit() - timedelta(minutes=1))

    assert jobs_close_abandoned(now=now) == 0, "no worker runs: the job waits (the pages say so)"

    WorkerHeartbeatFactory(last_seen=now)
    WorkerHeartbeat.objects.update(started_at=now - job_lost_limit() - timedelta(minutes=2))
    fresh = JobFactory()

    assert jobs_close_abandoned(now=now) == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.level == Job.Level.ERROR and "its task was lost" in old.summary
    assert fresh.state == Job.State.QUEUED
