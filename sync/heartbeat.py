"""The workers' heartbeat, kept in the database so that the web process sees whether any worker runs.

A worker beats when its process starts (django-q2's `post_spawn`), before each task (`pre_execute`)
and, while idle, through the one-minute scheduled beat (`sync.tasks.heartbeat_task`, which also
counts as a task). Signals alone would leave an idle worker unseen; the schedule alone would make
a fresh worker wait up to a minute to be seen. Beats of one process are written at most every
`MIN_INTERVAL_SECONDS` (a busy worker runs many tasks a minute).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db.models import QuerySet
from django.utils import timezone

from sync.models import WorkerHeartbeat

log = logging.getLogger(__name__)

MIN_INTERVAL_SECONDS = 10.0
KEEP = timedelta(days=1)
_last_beat: dict[int, float] = {}  # pid -> monotonic time of its last written beat


def heartbeat_beat(*, force: bool = False) -> None:
    """Record that this worker process is alive now. Never raises: a beat must not fail a task."""
    pid = os.getpid()
    now = time.monotonic()
    if not force and now - _last_beat.get(pid, -MIN_INTERVAL_SECONDS) < MIN_INTERVAL_SECONDS:
        return
    try:
        WorkerHeartbeat.objects.update_or_create(
            host=socket.gethostname(),
            pid=pid,
            defaults={"cluster": settings.Q_CLUSTER.get("name", ""), "last_seen": timezone.now()},
        )
        WorkerHeartbeat.objects.filter(last_seen__lt=timezone.now() - KEEP).delete()
    except DatabaseError:
        log.warning("worker heartbeat not recorded", exc_info=True)
        return
    _last_beat[pid] = now


def missing_after() -> timedelta:
    return timedelta(minutes=settings.WORKER_MISSING_AFTER_MINUTES)


def workers_seen() -> QuerySet[WorkerHeartbeat]:
    """The worker processes seen in the last day, the most recent first."""
    return WorkerHeartbeat.objects.filter(last_seen__gte=timezone.now() - KEEP).order_by("-last_seen", "host", "pid")


def worker_missing() -> bool:
    """Whether no worker has been seen for WORKER_MISSING_AFTER_MINUTES: queued work then waits."""
    return not WorkerHeartbeat.objects.filter(last_seen__gte=timezone.now() - missing_after()).exists()


NO_WORKER_MESSAGE = (
    "No worker is running: queued work waits. Start one with `python manage.py qcluster` (or `make run`)."
)
