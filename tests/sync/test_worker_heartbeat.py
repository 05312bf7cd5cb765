"""The workers' heartbeat in the database: written by the worker, read by the pages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.tasks import async_task

from sync.heartbeat import heartbeat_beat, worker_missing, workers_seen
from sync.models import WorkerHeartbeat
from tests.factories import WorkerHeartbeatFactory

pytestmark = pytest.mark.django_db


def test_no_heartbeat_means_no_worker():
    assert worker_missing() is True


def test_a_beat_shows_this_process_alive_once():
    heartbeat_beat(force=True)
    heartbeat_beat(force=True)

    [beat] = WorkerHeartbeat.objects.all()
    assert beat.cluster == "orderbridge"
    assert worker_missing() is False


def test_a_worker_not_seen_for_the_setting_is_missing(settings):
    settings.WORKER_MISSING_AFTER_MINUTES = 3
    WorkerHeartbeatFactory(last_seen=timezone.now() - timedelta(minutes=4))
    assert worker_missing() is True

    settings.WORKER_MISSING_AFTER_MINUTES = 5
    assert worker_missing() is False


def test_a_task_taken_by_a_worker_beats(settings):
    async_task("sync.tasks.heartbeat_task", sync=True)

    assert list(workers_seen().values_list("cluster", flat=True)) == ["orderbridge"]


def test_beats_older_than_a_day_are_dropped():
    WorkerHeartbeatFactory(last_seen=timezone.now() - timedelta(days=2))

    heartbeat_beat(force=True)

    assert WorkerHeartbeat.objects.count() == 1


def test_the_staff_dashboard_shows_the_heartbeat_or_the_banner(admin_client):
    page = admin_client.get("/admin/").content.decode()
    assert 'id="worker-banner"' in page and "No worker has been seen in the last day" in page

    WorkerHeartbeatFactory(host="box-7", pid=4321)
    page = admin_client.get("/admin/").content.decode()
    assert 'id="worker-banner"' not in page and "box-7 · pid 4321" in page
