"""The database task queue (`sync.broker`): each task handed out once, oldest first, again only after its
hold ran out; the connection checked at most once every few seconds. On both databases (PostgreSQL
claims with one statement; SQLite keeps django-q2's read-then-claim). Two real clusters sharing one
queue are `test_qcluster_workers`."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.models import OrmQ

from sync import broker as broker_module
from sync.broker import CONNECTION_CHECK_SECONDS, DatabaseBroker


@pytest.fixture
def broker(db, monkeypatch) -> DatabaseBroker:
    monkeypatch.setattr(Conf, "POLL", 0)
    monkeypatch.setattr(Conf, "BULK", 1)
    return DatabaseBroker(list_key="test-queue")


def test_the_cluster_uses_it_on_the_database_queue(db):
    assert settings.Q_CLUSTER["broker_class"] == "sync.broker.DatabaseBroker"
    assert isinstance(get_broker(), DatabaseBroker)


def test_tasks_are_handed_out_once_each_oldest_first(broker):
    ids = [broker.enqueue(f"payload-{n}") for n in range(3)]
    OrmQ.objects.create(key="another-queue", payload="not ours", lock=timezone.now())

    handed = [broker.dequeue() for _ in range(4)]

    assert handed == [[(ids[0], "payload-0")], [(ids[1], "payload-1")], [(ids[2], "payload-2")], None]
    assert all(
        lock > timezone.now() + timedelta(seconds=Conf.RETRY - 60)
        for lock in OrmQ.objects.values_list("lock", flat=True).filter(key="test-queue")
    )


def test_a_task_never_acknowledged_is_handed_out_again_after_its_hold(broker):
    task_id = broker.enqueue("payload")
    assert broker.dequeue() == [(task_id, "payload")]
    assert broker.dequeue() is None, "held by the reader that took it"

    OrmQ.objects.filter(pk=task_id).update(lock=timezone.now() - timedelta(seconds=1))
    assert broker.dequeue() == [(task_id, "payload")]

    broker.acknowledge(task_id)
    assert not OrmQ.objects.filter(pk=task_id).exists()


def test_several_tasks_at_once_when_the_cluster_takes_them_in_bulk(broker, monkeypatch):
    monkeypatch.setattr(Conf, "BULK", 2)
    ids = [broker.enqueue(f"payload-{n}") for n in range(3)]

    assert [task_id for task_id, _ in broker.dequeue()] == ids[:2]
    assert [task_id for task_id, _ in broker.dequeue()] == ids[2:]


def test_the_connection_is_checked_at_most_once_every_few_seconds(broker, monkeypatch):
    checks = []
    monkeypatch.setattr(broker_module.db, "close_old_connections", lambda: checks.append(1))
    monkeypatch.setattr(broker_module.transaction, "get_autocommit", lambda using: True)  # as outside a test
    clock = [1000.0]
    monkeypatch.setattr(broker_module.time, "monotonic", lambda: clock[0])
    broker._checked_at = float("-inf")
    for _ in range(5):
        broker.enqueue("payload")
        broker.dequeue()
    assert len(checks) == 1

    clock[0] += CONNECTION_CHECK_SECONDS
    broker.dequeue()
    assert len(checks) == 2


def test_a_claim_on_postgresql_is_one_statement(broker):
    if connection.vendor != "postgresql":
        pytest.skip("SQLite keeps django-q2's read, then claim")
    broker.enqueue("payload")
    broker._checked_at = float("inf")  # checked a moment ago
    with CaptureQueriesContext(connection) as statements:
        assert broker.dequeue()
    assert len(statements) == 1 and "SKIP LOCKED" in statements[0]["sql"]
