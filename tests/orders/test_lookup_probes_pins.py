"""The index probes of `orders.services.lookups` find what the plain ORM query finds, for the same
data, on every database (on SQLite the plain query is the one used)."""

from __future__ import annotations

import pytest
from django.db.models.functions import Lower

from orders.models import Order
from orders.services.lookups import cust_refs_taken, orders_by_cart_id
from tests.factories import CartConnectionFactory, OrderFactory, WMSConnectionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def stored():
    """Two cart connections of one merchant with orders whose ids and references overlap."""
    mine = CartConnectionFactory()
    other = CartConnectionFactory(merchant=mine.merchant, warehouse=WMSConnectionFactory(merchant=mine.merchant))
    for n, ref in enumerate(["Ref-1", "REF-2", None, "ref-3"]):
        OrderFactory(cart_connection=mine, cart_order_id=f"C{n}", cust_ref=ref)
        OrderFactory(cart_connection=other, cart_order_id=f"C{n}", cust_ref=ref and ref + "x")
    return mine, other


def test_orders_by_cart_id_finds_the_rows_of_the_orm_query(stored):
    mine, _ = stored
    wanted = ["C0", "C2", "C2", "C9", "c1"]

    found = orders_by_cart_id(mine.pk, wanted)

    plain = Order.objects.filter(cart_connection_id=mine.pk, cart_order_id__in=wanted)
    assert {k: (o.pk, o.cust_ref, o.status, o.cart_payload) for k, o in found.items()} == {
        o.cart_order_id: (o.pk, o.cust_ref, o.status, o.cart_payload) for o in plain
    }
    assert sorted(found) == ["C0", "C2"]


def test_cust_refs_taken_finds_the_references_of_the_orm_query(stored):
    mine, _ = stored
    account = Order.objects.filter(cart_connection=mine).values_list("warehouse_account", flat=True)[0]
    wanted = {"ref-1", "ref-2", "ref-3", "ref-1x", "free"}

    taken = cust_refs_taken(account, wanted)

    plain = set(
        Order.objects.filter(warehouse_account=account, cust_ref__isnull=False)
        .annotate(ref=Lower("cust_ref"))
        .filter(ref__in=wanted)
        .values_list("ref", flat=True)
    )
    assert taken == plain == {"ref-1", "ref-2", "ref-3"}
