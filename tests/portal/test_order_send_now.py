"""The merchant's order page: Send now queues a job for the worker (nothing sent in the request) and
the page follows it through the merchant's own job status endpoint."""

from __future__ import annotations

from django.urls import reverse

from orders.models import OrderStatus
from sync.jobs import job_run
from sync.models import Job
from tests.send_now_helpers import held_orders, ready_order


def test_send_now_queues_a_job_the_order_page_follows(
    wired_client, wired, settings, django_capture_on_commit_callbacks
):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    order = ready_order(wired, "9101")
    calls = len(wired.bergen.requests)

    with django_capture_on_commit_callbacks(execute=False):
        response = wired_client.post(reverse("portal:order_send", args=[order.pk]))

    assert len(wired.bergen.requests) == calls and wired.bergen.orders == []
    job = Job.objects.get(kind=Job.Kind.SEND_ORDERS)
    assert job.order_ids == [order.pk] and job.state == Job.State.QUEUED
    assert response["Location"] == reverse("portal:order_detail", args=[order.pk]) + f"?job={job.pk}#job"
    page = wired_client.get(response["Location"]).content.decode()
    status_url = reverse("portal:job_status", args=[job.pk])
    assert f'data-job-status-url="{status_url}"' in page
    assert "data-job-button disabled" in page
    assert order.events.get(code="send_queued").user.username == "wired-shopkeeper"

    job_run(job_id=job.pk)

    status = wired_client.get(status_url).json()
    assert status["finished"] and status["summary"] == "Send now: delivered 1 of 1."
    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WMS


def test_an_order_page_does_not_follow_a_job_of_another_order(wired_client, wired):
    order, other = held_orders(wired, {"9102": "TEE-BLK", "9103": "TEE-BLK"})
    job = Job.objects.create(kind=Job.Kind.SEND_ORDERS, merchant=wired.merchant, order_ids=[other.pk])

    page = wired_client.get(reverse("portal:order_detail", args=[order.pk]) + f"?job={job.pk}").content.decode()

    assert "data-job-status-url" not in page
