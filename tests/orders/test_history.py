"""The history writer in bulk (`order_events_write`) keeps the issues list as `order_event` does, one
order at a time: a hold raises the order's problem, any other status resolves its open problems."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import HoldCode, OrderStatus, Problem
from orders.services.records.history import EventRow, order_events_write
from orders.services.records.problems import order_held_problem
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


def test_a_bulk_write_resolves_the_problems_of_orders_changing_status_and_raises_those_of_holds():
    was_held, now_held, unchanged = OrderFactory.create_batch(3)
    was_held.hold_code, was_held.hold_reason = HoldCode.UNKNOWN_SKU, "no alias"
    order_held_problem(order=was_held)
    now_held.status, now_held.hold_code, now_held.hold_reason = OrderStatus.ERROR, HoldCode.UNKNOWN_SKU, "no alias"

    order_events_write(
        events=[
            EventRow(was_held, "Delivered.", "delivered", OrderStatus.NEW, OrderStatus.AT_WMS),
            EventRow(now_held, "Imported.", "imported", "", OrderStatus.NEW),
            EventRow(now_held, "Held: no alias", HoldCode.UNKNOWN_SKU, OrderStatus.NEW, OrderStatus.ERROR),
            EventRow(unchanged, "A note.", "note"),
        ],
        run=None,
    )

    assert [e.code for e in was_held.events.all()] == ["delivered"]
    assert [e.code for e in now_held.events.all()] == ["imported", HoldCode.UNKNOWN_SKU]
    assert unchanged.events.get().message == "A note."
    assert Problem.objects.get(order=was_held).status == Problem.Status.RESOLVED
    assert Problem.objects.get(order=now_held).status == Problem.Status.OPEN  # its last change was the hold
    assert not Problem.objects.filter(order=unchanged).exists()


def test_new_orders_written_with_their_history_send_no_resolving_update():
    orders = OrderFactory.create_batch(3)
    events = [EventRow(o, "Imported.", "imported", "", OrderStatus.NEW) for o in orders]

    with CaptureQueriesContext(connection) as queries:
        order_events_write(events=events, run=None, new_orders=True)

    assert sum(o.events.count() for o in orders) == 3
    assert not [q for q in queries.captured_queries if Problem._meta.db_table in q["sql"]]
