"""Merchant pages: Sync now and Test connection queue jobs, the job's status is the merchant's own
(another's answers 404), and pages that queue work say when no worker is running."""

from __future__ import annotations

import pytest
from django.urls import reverse

from sync.models import Job
from tests.factories import CartConnectionFactory, JobFactory, WorkerHeartbeatFactory
from tests.portal.conftest import client_of, merchant_user

pytestmark = pytest.mark.django_db


def test_the_banner_shows_on_pages_that_queue_work_when_no_worker_was_seen(mine, client):
    page = client.get(reverse("portal:connection_list")).content.decode()

    assert 'id="worker-banner"' in page and "No worker is running: queued work waits." in page


def test_no_banner_while_a_worker_beats(mine, client):
    WorkerHeartbeatFactory()

    assert "No worker is running" not in client.get(reverse("portal:connection_list")).content.decode()


def test_no_banner_on_a_page_that_queues_nothing(mine, client):
    assert "No worker is running" not in client.get(reverse("portal:password_change")).content.decode()


def test_the_job_status_is_the_merchants_own(mine, client):
    own = JobFactory(cart_connection=mine.cart, summary="Done: imported 1; delivered 1.", state=Job.State.FINISHED)
    theirs = JobFactory(cart_connection=CartConnectionFactory())

    answer = client.get(reverse("portal:job_status", args=[own.pk]))

    assert answer.status_code == 200
    assert answer.json()["summary"] == "Done: imported 1; delivered 1." and answer.json()["finished"] is True
    assert client.get(reverse("portal:job_status", args=[theirs.pk])).status_code == 404


def test_sync_now_queues_a_job_and_the_page_follows_it(wired):
    client = client_of(merchant_user(wired.merchant))

    response = client.post(reverse("portal:connection_sync", args=[wired.cart.pk]))

    job = Job.objects.get()
    assert (job.kind, job.cart_connection, job.requested_by.username) == (
        Job.Kind.SYNC_ORDERS,
        wired.cart,
        "shopkeeper",
    )
    assert (
        response["Location"] == reverse("portal:connection_edit", args=["cart", wired.cart.pk]) + f"?job={job.pk}#job"
    )
    page = client.get(response["Location"]).content.decode()
    assert 'data-job-status-url="' + reverse("portal:job_status", args=[job.pk]) in page
    assert job.summary in page  # ran inline here (the test settings): its summary is the page's message


def test_another_merchants_cart_cannot_be_synced(mine, client):
    other = CartConnectionFactory()

    assert client.post(reverse("portal:connection_sync", args=[other.pk])).status_code == 404
    assert not Job.objects.exists()


def test_buttons_are_disabled_while_the_connections_job_runs(mine, client):
    JobFactory(cart_connection=mine.cart, state=Job.State.RUNNING)

    page = client.get(reverse("portal:connection_edit", args=["cart", mine.cart.pk])).content.decode()

    assert "data-job-button disabled>Sync now" in page
