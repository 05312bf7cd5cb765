"""The task queue in the database (django-q2's ORM broker, `Q_CLUSTER["broker_class"]` when no
`REDIS_URL` is set), with fewer statements per task.

django-q2's own ORM broker runs Django's `close_old_connections` at every call: the queue reader's every
poll and claim, the monitor's every acknowledgement, the scheduler's every enqueue. With
`CONN_HEALTH_CHECKS` on, each is a `SELECT 1` before the statement it precedes. Here a process checks its
connection at most once every `CONNECTION_CHECK_SECONDS`; a connection that broke meanwhile fails the
next statement, and django-q2 restarts the reader (or logs the monitor's error) as it does for any
database error.

On PostgreSQL a task is claimed by one statement, oldest first, skipping rows another cluster is
claiming (`FOR UPDATE SKIP LOCKED`), instead of a read and then an UPDATE per task; other databases
(SQLite: one writer at a time) keep django-q2's read-then-claim.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from django import db
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_q.brokers.orm import ORM
from django_q.conf import Conf
from django_q.models import OrmQ

CONNECTION_CHECK_SECONDS = 5.0


class DatabaseBroker(ORM):
    _checked_at = float("-inf")  # this process's last connection check (monotonic)

    def get_connection(self, list_key: str | None = None) -> QuerySet[OrmQ]:
        now = time.monotonic()
        if transaction.get_autocommit(using=Conf.ORM) and now - self._checked_at >= CONNECTION_CHECK_SECONDS:
            db.close_old_connections()
            self._checked_at = now
        return OrmQ.objects.using(Conf.ORM)

    def dequeue(self) -> list[tuple[int, Any]] | None:
        if db.connections[Conf.ORM].vendor != "postgresql":
            return super().dequeue()
        self.get_connection()
        claimed = _claim(self.list_key, Conf.BULK, timezone.now(), timedelta(seconds=Conf.RETRY))
        if claimed:
            return claimed
        time.sleep(Conf.POLL)  # an empty queue: wait before asking again, as django-q2's own reader does
        return None


# The names are the model's own, quoted; every value is a parameter.
_CLAIM = (
    "UPDATE {table} SET {lock} = %s WHERE id IN ("
    "SELECT id FROM {table} WHERE {key} = %s AND {lock} < %s ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED"
    ") RETURNING id, payload"
)


def _claim(key: str, count: int, now: datetime, hold: timedelta) -> list[tuple[int, Any]]:
    """Up to `count` tasks of queue `key` that no reader holds, oldest first, held for `hold` (after which
    another reader may take a task whose worker never acknowledged it)."""
    quote = db.connections[Conf.ORM].ops.quote_name
    sql = _CLAIM.format(table=quote(OrmQ._meta.db_table), lock=quote("lock"), key=quote("key"))
    with db.connections[Conf.ORM].cursor() as cursor:
        cursor.execute(sql, [now + hold, key, now, count])
        return sorted(cursor.fetchall())
