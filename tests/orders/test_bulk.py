"""The bulk helpers under the import, the delivery and the inventory: `rows_insert` stores what
`bulk_create` would (keys set, timestamps stamped, unique rules enforced) in as few statements as the
database allows; `rows_update` rewrites each row under its own condition."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db import connection as db

from orders.models import Order, OrderLine, OrderStatus
from orders.services import bulk
from orders.services.bulk import EncodedJSON, rows_insert, rows_update
from tests.factories import CartConnectionFactory, OrderFactory, unsaved_orders

pytestmark = pytest.mark.django_db


def test_rows_insert_stores_every_row_sets_its_key_and_stamps_its_times():
    connection = CartConnectionFactory()
    orders = unsaved_orders(connection, 3)

    rows_insert(Order, orders)

    assert all(o.pk and not o._state.adding for o in orders)
    stored = {o.pk: o for o in Order.objects.filter(cart_connection=connection)}
    assert set(stored) == {o.pk for o in orders}
    for order in orders:
        again = stored[order.pk]
        assert again.cart_order_id == order.cart_order_id
        assert again.cart_payload == order.cart_payload and again.bill_to == {"cust_name": "Ada"}
        assert again.status == OrderStatus.NEW and again.created_at is not None and again.updated_at is not None
    line = OrderLine(order=orders[0], line_no=1, cart_sku="A", quantity=2, price=Decimal("9.99"))
    rows_insert(OrderLine, [line])
    assert OrderLine.objects.get(pk=line.pk).price == Decimal("9.99")


def test_rows_insert_splits_what_one_statement_cannot_carry(monkeypatch, django_assert_num_queries):
    if db.vendor == "postgresql":
        pytest.skip("PostgreSQL copies the rows in one statement: nothing to split")
    connection = CartConnectionFactory()
    fields = len([f for f in Order._meta.concrete_fields if not f.primary_key])
    monkeypatch.setattr(bulk, "_max_params", lambda _connection: fields * 2)  # two rows a statement
    orders = unsaved_orders(connection, 5)

    with django_assert_num_queries(3):
        rows_insert(Order, orders)

    assert sorted(o.pk for o in orders) == sorted(
        Order.objects.filter(cart_connection=connection).values_list("pk", flat=True)
    )


def test_rows_insert_on_postgresql_takes_the_keys_then_copies_the_rows_whatever_their_number(
    django_assert_num_queries,
):
    if db.vendor != "postgresql":
        pytest.skip("COPY is PostgreSQL's")
    connection = CartConnectionFactory()
    orders = unsaved_orders(connection, 120)
    orders[7].customer_email = "tab\there, newline\nand a backslash \\"  # what COPY's text format escapes
    orders[8].cart_payload = {"note": "tab\t \\N \u00e9", "none": None}

    rows_insert(Order, unsaved_orders(CartConnectionFactory(), 1))  # (looks the key sequence up, once)

    with django_assert_num_queries(2) as captured:
        rows_insert(Order, orders)

    keys, copy = (q["sql"] for q in captured.captured_queries)
    assert "nextval" in keys and "COPY" in copy
    stored = dict(Order.objects.filter(cart_connection=connection).values_list("pk", "cart_order_id"))
    assert {o.pk: o.cart_order_id for o in orders} == stored  # each object got its own row's key
    assert [o.pk for o in orders] == sorted(o.pk for o in orders)  # keys in the objects' order
    again = Order.objects.get(pk=orders[7].pk)
    assert again.customer_email == orders[7].customer_email
    assert Order.objects.get(pk=orders[8].pk).cart_payload == orders[8].cart_payload
    # The table's own sequence moved past them: a plain insert after them takes a fresh key.
    later = OrderFactory(cart_connection=connection, merchant=connection.merchant)
    assert later.pk > max(o.pk for o in orders)


def test_rows_insert_refuses_a_duplicate_as_bulk_create_does():
    connection = CartConnectionFactory()
    rows_insert(Order, unsaved_orders(connection, 1))

    with pytest.raises(IntegrityError), transaction.atomic():
        rows_insert(Order, unsaved_orders(connection, 1))
    assert Order.objects.filter(cart_connection=connection).count() == 1


def test_rows_update_rewrites_only_the_rows_whose_condition_still_holds():
    mine, taken = OrderFactory(claimed_by="token-a"), OrderFactory(claimed_by="token-b")

    changed = rows_update(
        Order,
        ["warehouse_order_id", "claimed_by"],
        [("W-1", "", mine.pk, "token-a"), ("W-2", "", taken.pk, "token-a")],
        where=("pk", "claimed_by"),
    )

    mine.refresh_from_db()
    taken.refresh_from_db()
    assert changed == 1
    assert (mine.warehouse_order_id, mine.claimed_by) == ("W-1", "")
    assert (taken.warehouse_order_id, taken.claimed_by) == ("", "token-b")
    assert rows_update(Order, ["warehouse_order_id"], []) == 0


def test_values_of_another_type_than_the_column_are_prepared_as_django_would():
    connection = CartConnectionFactory()
    order = unsaved_orders(connection, 1)[0]
    order.order_number = 1234  # an int for a text column
    order.delivery_attempts = True  # a bool for an integer column

    rows_insert(Order, [order])
    rows_update(Order, ["cust_po_no"], [(5678, order.pk)])

    again = Order.objects.get(pk=order.pk)
    assert (again.order_number, again.cust_po_no, again.delivery_attempts) == ("1234", "5678", 1)


def test_a_json_object_that_comes_with_its_text_is_stored_as_that_text():
    connection = CartConnectionFactory()
    order, plain = unsaved_orders(connection, 2)
    # The text is what is stored (the object is not encoded again): here they differ on purpose.
    order.cart_payload = EncodedJSON({"id": 1}, json.dumps({"id": 1, "from": "the text"}))
    plain.cart_payload = EncodedJSON({"id": 2})  # no text: encoded as any object

    rows_insert(Order, [order, plain])
    rows_update(Order, ["bill_to"], [(EncodedJSON({"cust_name": "Ada"}, '{"cust_name": "Bea"}'), order.pk)])

    again = Order.objects.get(pk=order.pk)
    assert again.cart_payload == {"id": 1, "from": "the text"} and again.bill_to == {"cust_name": "Bea"}
    assert Order.objects.get(pk=plain.pk).cart_payload == {"id": 2}
