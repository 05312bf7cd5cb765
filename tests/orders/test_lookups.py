"""Orders found by cart ids and references taken, by one probe of the unique index per key on
PostgreSQL whatever the table's statistics say (the plan of a plain `IN` list read every order of
the connection on a table never analyzed)."""

from __future__ import annotations

import json

import pytest
from django.db import connection as db

from orders.models import Order
from orders.services import lookups
from orders.services.bulk import rows_insert
from orders.services.lookups import cust_refs_taken, orders_by_cart_id
from tests.factories import CartConnectionFactory, OrderFactory, WMSConnectionFactory, unsaved_orders

pytestmark = pytest.mark.django_db


def test_orders_are_found_by_cart_id_within_their_own_cart_connection():
    mine = CartConnectionFactory()
    other = CartConnectionFactory(merchant=mine.merchant, warehouse=mine.warehouse)
    a = OrderFactory(cart_connection=mine, cart_order_id="A")
    OrderFactory(cart_connection=other, cart_order_id="B")

    found = orders_by_cart_id(mine.pk, ["A", "B", "A", "missing"])

    assert list(found) == ["A"] and found["A"].pk == a.pk
    assert found["A"].cart_payload == a.cart_payload and found["A"].status == a.status  # the whole row
    assert orders_by_cart_id(mine.pk, []) == {}


def test_references_taken_ignore_case_and_other_warehouse_accounts():
    order = OrderFactory(cust_ref="AbC-1")
    OrderFactory(
        cust_ref="xyz-2",
        cart_connection__merchant=order.merchant,
        warehouse=WMSConnectionFactory(merchant=order.merchant),
    )

    assert cust_refs_taken(order.warehouse_account, {"abc-1", "xyz-2", "free"}) == {"abc-1"}
    assert cust_refs_taken(order.warehouse_account, set()) == set()


def scans_of_orders(sql: str, params: list) -> list[tuple[str, str | None]]:
    """(node type, index name) of every scan of the orders table in the plan PostgreSQL picks."""
    with db.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        (plan,) = cursor.fetchone()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found, todo = [], [plan[0]["Plan"]]
    while todo:
        node = todo.pop()
        if node.get("Relation Name") == Order._meta.db_table:
            found.append((node["Node Type"], node.get("Index Name")))
        todo += node.get("Plans", [])
    return found


def test_on_postgresql_each_key_is_one_index_probe_on_a_table_never_analyzed():
    if db.vendor != "postgresql":
        pytest.skip("the probes are PostgreSQL's; SQLite's planner takes the unique index for the plain query")
    connection = CartConnectionFactory()
    orders = unsaved_orders(connection, 20_000, prefix="many")
    for n, order in enumerate(orders):
        order.cust_ref, order.warehouse_account = f"R{n}", "bergen:wms.example:demo"
    # No ANALYZE: the planner has no statistics for these rows (at this size, a plain IN list on this
    # table was planned as a read of every order of the connection, on PostgreSQL 15).
    rows_insert(Order, orders)
    ids = [f"many-{n}" for n in range(0, 20_000, 400)]
    refs = [f"r{n}" for n in range(0, 20_000, 400)] * 3

    by_id = scans_of_orders(lookups._ORDERS_BY_CART_ID, [ids, connection.pk])
    by_ref = scans_of_orders(lookups._TAKEN_CUST_REFS, [refs, "bergen:wms.example:demo"])

    assert by_id == [("Index Scan", "unique_order_per_cart")]
    assert by_ref == [("Index Scan", "unique_cust_ref_per_account")]
    assert len(orders_by_cart_id(connection.pk, ids)) == 50
    assert len(cust_refs_taken("bergen:wms.example:demo", refs)) == 50
