"""What the bulk writer (`orders.services.bulk`) relies on in Django, psycopg and sqlite3, pinned: each
test fails if an upgrade changes it, and the fast path must store the rows the plain way stores."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection as db
from django.db import models
from django.db.backends.utils import CursorDebugWrapper, CursorWrapper
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from inventory.models import CartInventoryLevel, StockLevel
from orders.models import Order, OrderEvent, OrderLine, OrderStatus
from orders.services import bulk
from orders.services.bulk import rows_insert, rows_update
from tests.factories import CartConnectionFactory, OrderFactory, unsaved_orders

pytestmark = pytest.mark.django_db

SAMPLES = {str: ["", "text é"], int: [0, -3, 2**40], bool: [True, False], type(None): [None]}


def stored(model: type[models.Model], pks: list[int], skip: set[str]) -> list[dict]:
    """The stored rows, without the fields that differ by construction (keys, ids, times)."""
    rows = model.objects.filter(pk__in=pks).order_by("pk").values()
    return [{k: v for k, v in row.items() if k not in skip} for row in rows]


def test_rows_insert_stores_what_bulk_create_stores():
    connection = CartConnectionFactory()
    fast, plain = unsaved_orders(connection, 3, prefix="fast"), unsaved_orders(connection, 3, prefix="plain")
    for n, (a, b) in enumerate(zip(fast, plain, strict=True)):
        for order in (a, b):
            order.order_number, order.delivery_attempts = 1000 + n, bool(n)  # values Django must convert
            order.next_attempt_at = datetime(2026, 5, 1, 12, n, tzinfo=UTC)

    rows_insert(Order, fast)
    Order.objects.bulk_create(plain)

    assert all(not o._state.adding and o._state.db == db.alias for o in fast + plain)
    skip = {"id", "cart_order_id", "created_at", "updated_at"}
    assert stored(Order, [o.pk for o in fast], skip) == stored(Order, [o.pk for o in plain], skip)
    events = [
        OrderEvent(order=o, to_status=OrderStatus.NEW, code="imported", message="stored é") for o in (fast[0], plain[0])
    ]
    rows_insert(OrderEvent, events[:1])
    OrderEvent.objects.bulk_create(events[1:])
    (a,), (b,) = (stored(OrderEvent, [e.pk], {"id", "order_id", "created_at"}) for e in events)
    assert a == b


def test_rows_update_stores_what_an_orm_update_stores():
    fast, plain = OrderFactory(claimed_by="t"), OrderFactory(claimed_by="t")
    values = [OrderStatus.AT_WMS, datetime(2026, 5, 1, tzinfo=UTC), 7, "W-1", ""]
    fields = ["status", "next_attempt_at", "delivery_attempts", "warehouse_order_id", "claimed_by"]

    assert rows_update(Order, fields, [(*values, fast.pk, "t")], where=("pk", "claimed_by")) == 1
    assert Order.objects.filter(pk=plain.pk, claimed_by="t").update(**dict(zip(fields, values, strict=True))) == 1

    (a,), (b,) = (Order.objects.filter(pk=o.pk).values(*fields) for o in (fast, plain))
    assert a == b


def test_the_values_the_preparers_pass_as_they_are_are_what_get_db_prep_save_returns():
    """The preparers skip `get_db_prep_save` for values it returns unchanged: they must stay unchanged."""
    written = [Order, OrderLine, OrderEvent, StockLevel, CartInventoryLevel]  # what the fast path writes
    fields = [f for model in written for f in model._meta.concrete_fields if type(f) in bulk.STORED_AS_IS]
    assert {type(f) for f in fields} == set(bulk.STORED_AS_IS)  # each shortcut is exercised here
    for field in fields:
        for kind in bulk.STORED_AS_IS[type(field)]:
            for value in SAMPLES[kind]:
                prepared = field.get_db_prep_save(value, db)
                # (PostgreSQL: Django types an int as psycopg's Int4/Int8, an int of the same value)
                assert prepared == value and isinstance(prepared, type(value)), (field, value)
    if db.vendor == "postgresql":  # the shortcuts taken on PostgreSQL only
        aware = timezone.now()
        assert Order._meta.get_field("next_attempt_at").get_db_prep_save(aware, db) is aware
        price, field = Decimal("12.34"), OrderLine._meta.get_field("price")
        assert type(field) is models.DecimalField and field.get_db_prep_save(price, db) is price


def test_pre_save_stamps_the_object_as_django_saves_it():
    order = unsaved_orders(CartConnectionFactory(), 1)[0]
    for name in ("created_at", "updated_at"):
        field = Order._meta.get_field(name)
        stamp = field.pre_save(order, add=True)
        assert getattr(order, name) == stamp and stamp.tzinfo is not None


def test_the_copy_runs_inside_the_execute_wrappers_and_is_logged_once():
    """`_execute_with_wrappers(sql, params, many, executor)` calls `executor(sql, params, many, context)`
    inside every execute wrapper, with the connection and Django's cursor (the driver's as `.cursor`)
    in `context`; `debug_sql` logs the call as one query."""
    if db.vendor != "postgresql":
        pytest.skip("the COPY is PostgreSQL's (SQLite's inserts are plain executes)")
    import psycopg

    assert callable(CursorWrapper._execute_with_wrappers) and callable(CursorDebugWrapper.debug_sql)
    seen = []

    def wrapper(execute, sql, params, many, context):
        driver = getattr(context["cursor"], "cursor", None)
        seen.append((sql.split()[0], many, context["connection"].alias == db.alias, isinstance(driver, psycopg.Cursor)))
        return execute(sql, params, many, context)

    connection = CartConnectionFactory()
    rows_insert(Order, unsaved_orders(connection, 1, prefix="first"))  # (looks the key sequence up)
    with db.execute_wrapper(wrapper), CaptureQueriesContext(db) as captured:
        rows_insert(Order, unsaved_orders(connection, 3))

    assert seen == [("SELECT", False, True, True), ("COPY", True, True, True)]
    keys, copy = (q["sql"] for q in captured.captured_queries)  # one query each
    assert "nextval" in keys and "COPY" in copy
    assert Order.objects.filter(cart_connection=connection).count() == 4


def test_sqlite_reports_its_compiled_parameter_limit():
    if db.vendor != "sqlite":
        pytest.skip("SQLite's")
    db.ensure_connection()
    assert db.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) >= 999


def test_executemany_counts_the_rows_changed_by_every_statement():
    """`rows_update` returns the cursor's `rowcount` after `executemany`: the sum over the rows."""
    a, b = OrderFactory(claimed_by="t"), OrderFactory(claimed_by="u")
    with db.cursor() as cursor:
        cursor.executemany(
            "UPDATE orders_order SET cust_po_no = %s WHERE id = %s AND claimed_by = %s",
            [("X", a.pk, "t"), ("X", b.pk, "t"), ("Y", a.pk, "t")],
        )
        assert cursor.rowcount == 2  # not the last statement's count


def test_psycopg_copy_writes_rows_as_they_are_with_json_from_its_text():
    if db.vendor != "postgresql":
        pytest.skip("psycopg's")
    from psycopg.types.json import Jsonb

    with db.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE pin_copy (t text, j jsonb)")
        with cursor.cursor.copy("COPY pin_copy (t, j) FROM STDIN") as copy:
            copy.write_row(("tab\t, newline\n, \\N", Jsonb({"a": 1}, dumps=lambda _value: '{"b": 2}')))
            copy.write_row((None, None))
        cursor.execute("SELECT t, j::text FROM pin_copy ORDER BY t NULLS LAST")
        assert cursor.fetchall() == [("tab\t, newline\n, \\N", '{"b": 2}'), (None, None)]
