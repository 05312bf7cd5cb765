"""Sync now, send now and test connection as jobs for the worker: queued after the commit, run once,
their summary with reasons (never "nothing to do" after work), their status as the page polls it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import SyncOutcome
from orders.models import OrderStatus
from sync.heartbeat import NO_WORKER_MESSAGE
from sync.jobs import counts_text, job_queue, job_run, job_status, run_summary
from sync.models import Job
from tests.factories import JobFactory, OrderFactory, SyncRunFactory, WorkerHeartbeatFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mixed(wired):
    """Two orders that go, one for an SKU the warehouse does not know."""
    placed = timezone.now() - timedelta(hours=2)
    for number, sku in (("5001", "SKU-1"), ("5002", "SKU-2"), ("5003", "NOT-AT-WAREHOUSE")):
        wired.squarespace.add_order(
            order_number=number, created_on=placed, lines=[{"sku": sku, "quantity": 1, "price": "5.00", "name": "W"}]
        )
    return wired


def test_sync_now_runs_the_cart_sync_and_says_what_it_did_with_reasons(mixed):
    job = job_queue(kind=Job.Kind.SYNC_ORDERS, connection=mixed.cart)  # the test settings run it inline

    job.refresh_from_db()
    assert job.state == Job.State.FINISHED
    assert job.sync_run is not None and job.sync_run.status == SyncOutcome.PARTIAL
    assert job.level == Job.Level.WARNING
    assert job.summary.startswith("Done: imported 3, held 1: 1 unknown SKU; delivered 2")


def test_a_job_runs_once_however_often_its_task_is_delivered(wired):
    job = JobFactory(kind=Job.Kind.TEST_CONNECTION, cart_connection=wired.cart)

    first, second = job_run(job_id=job.pk), job_run(job_id=job.pk)

    job.refresh_from_db()
    assert "connected. Test connection: OK" in job.summary
    assert "already taken" in second and "already taken" not in first


def test_a_failed_test_says_why(wired):
    wired.cart.set_credentials({"api_key": "wrong"})
    wired.cart.save()

    job = job_queue(kind=Job.Kind.TEST_CONNECTION, connection=wired.cart)

    job.refresh_from_db()
    assert job.level == Job.Level.ERROR
    assert "is not connected. Test connection failed: " in job.summary
    assert not job.summary.endswith("Test connection failed: ")


def test_send_now_sends_what_is_ready_and_names_why_the_rest_stays(wired):
    ready = OrderFactory(cart_connection=wired.cart, warehouse=wired.wms, status=OrderStatus.NEW)
    job = job_queue(kind=Job.Kind.SEND_ORDERS, orders=[ready])

    job.refresh_from_db()
    assert job.summary.startswith("Send now: "), job.summary
    assert "of 1" in job.summary


def test_with_tasks_in_a_worker_the_job_is_handed_over_only_after_the_commit(
    wired, settings, django_capture_on_commit_callbacks
):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        job = job_queue(kind=Job.Kind.SYNC_ORDERS, connection=wired.cart)

    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.state == Job.State.QUEUED


def test_a_queued_job_says_it_waits_and_that_no_worker_runs():
    job = JobFactory()

    status = job_status(job=job)

    assert status["finished"] is False
    assert "waiting for a worker" in status["progress"] and NO_WORKER_MESSAGE in status["progress"]
    WorkerHeartbeatFactory()
    assert NO_WORKER_MESSAGE not in job_status(job=job)["progress"]


def test_a_running_job_shows_the_runs_counts_so_far():
    run = SyncRunFactory(status=SyncOutcome.RUNNING, counts={"imported": 40, "held": 2, "delivered": 12})
    job = JobFactory(state=Job.State.RUNNING, cart_connection=run.cart_connection, sync_run=run, progress="page 3")

    progress = job_status(job=job)["progress"]

    assert progress.startswith("Running: page 3; so far imported 40, held 2; delivered 12")


def test_counts_read_as_a_sentence_with_the_held_reasons():
    text = counts_text(counts={"imported": 6, "held": 4, "delivered": 2}, held_why="3 unknown SKU, 1 missing address")

    assert text == "imported 6, held 4: 3 unknown SKU, 1 missing address; delivered 2"


def test_a_failed_run_is_never_nothing_to_do():
    run = SyncRunFactory(status=SyncOutcome.FAILED, counts={"imported": 0}, error="Cart: refused our API key (401)")

    level, text = run_summary(run=run)

    assert level == Job.Level.ERROR
    assert text == "Failed: Cart: refused our API key (401)"
    assert "nothing" not in text


def test_a_run_with_no_work_says_what_it_checked():
    run = SyncRunFactory(status=SyncOutcome.SUCCEEDED, counts={"imported": 0, "delivered": 0}, error="")

    assert run_summary(run=run) == (
        Job.Level.SUCCESS,
        "Done: the cart has no new or changed orders since the last sync; none waits to be sent.",
    )
