"""Rows found by a list of unique keys, at a cost that does not depend on table statistics: the
intake's fast path on PostgreSQL.

PostgreSQL plans `a = %s AND b IN (...)` from the table's statistics. On a table never analyzed (a
first import runs before autovacuum's first pass, and autovacuum may be off) it takes `a = %s` alone
for selective and reads every row under it, so each page's lookup grows with the table: with 30,000
orders never analyzed, a page of 50 cart ids takes 23 ms that way against 6 ms here, 50 references
5 ms against 1.4 ms. Here each key is one probe of the unique index (a LATERAL subquery with LIMIT 1
cannot be planned as anything else), whatever the statistics say. Other databases take the plain
query.

No private API: it relies on PostgreSQL planning each LATERAL probe on the unique indexes
`unique_order_per_cart` and `unique_cust_ref_per_account` (pinned by `tests/orders/test_lookups.py`)
and on finding the rows the plain query finds (`tests/orders/test_lookup_probes_pins.py`).
"""

from __future__ import annotations

from collections.abc import Collection

from django.db import connections
from django.db.models.functions import Lower

from orders.models import Order

_TABLE = Order._meta.db_table
# (Identifiers from the model's meta; every value is a parameter.)
_ORDERS_BY_CART_ID = f"""
    SELECT o.* FROM unnest(%s::text[]) AS wanted(cart_order_id)
    CROSS JOIN LATERAL (
        SELECT * FROM {_TABLE}
        WHERE cart_connection_id = %s AND cart_order_id = wanted.cart_order_id LIMIT 1
    ) AS o
"""  # noqa: S608

_TAKEN_CUST_REFS = f"""
    SELECT LOWER(o.cust_ref) FROM unnest(%s::text[]) AS wanted(ref)
    CROSS JOIN LATERAL (
        SELECT cust_ref FROM {_TABLE}
        WHERE LOWER(cust_ref) = wanted.ref AND warehouse_account = %s AND cust_ref IS NOT NULL LIMIT 1
    ) AS o
"""  # noqa: S608


def _by_probes() -> bool:
    return connections[Order.objects.db].vendor == "postgresql"


def orders_by_cart_id(cart_connection_id: int, cart_order_ids: Collection[str]) -> dict[str, Order]:
    """The stored orders of this cart connection among `cart_order_ids`, by cart order id."""
    if not cart_order_ids:
        return {}
    if _by_probes():
        found = Order.objects.raw(_ORDERS_BY_CART_ID, [list(dict.fromkeys(cart_order_ids)), cart_connection_id])
    else:
        found = Order.objects.filter(cart_connection_id=cart_connection_id, cart_order_id__in=cart_order_ids)
    return {order.cart_order_id: order for order in found}


def cust_refs_taken(account: str, refs_lower: Collection[str]) -> set[str]:
    """Which of `refs_lower` (lower case) an order going to this warehouse account (its
    `warehouse_account`) already has, ignoring case."""
    if not refs_lower:
        return set()
    if _by_probes():
        with connections[Order.objects.db].cursor() as cursor:
            cursor.execute(_TAKEN_CUST_REFS, [list(refs_lower), account])
            return {ref for (ref,) in cursor.fetchall()}
    return set(
        Order.objects.filter(warehouse_account=account, cust_ref__isnull=False)  # lets SQLite use the partial index
        .order_by()
        .annotate(ref=Lower("cust_ref"))
        .filter(ref__in=refs_lower)
        .values_list("ref", flat=True)
    )
