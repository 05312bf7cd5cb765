"""Choosing the warehouse reference (`cust_ref`) of a new order, one order or a batch in memory.

The candidates and the reservation of one reference live in `orders.services.translation.references`; here the
import picks among them. The unique constraint on (reference, account) guards whatever is chosen.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from integrations.accounts import connection_account_key
from integrations.models import WMSConnection
from orders.models import Order
from orders.services.lookups import cust_refs_taken
from orders.services.translation.references import order_reference_reserve, reference_candidates

PREFETCHED_CANDIDATES = 3


def order_assign_cust_ref(*, order: Order) -> None:
    """Give the order its warehouse reference: unique in the warehouse's account (ignoring case, as
    warehouses compare references), within the warehouse's limits, saved before any send."""
    if (
        order_reference_reserve(order=order, candidates=reference_candidates(order=order, warehouse=order.warehouse))
        is not None
    ):
        return
    stored = Order.objects.values_list("cust_ref", "warehouse_account").get(pk=order.pk)
    if stored[0]:  # given one a moment ago by another run
        order.cust_ref, order.warehouse_account = stored
        return
    raise RuntimeError(f"no free cust_ref for order {order.pk}")


def cust_refs_choose(*, orders: list[Order], warehouse: WMSConnection) -> None:
    """Give each order its reference in memory: the first candidate free in the warehouse's account
    (ignoring case) and in this batch. One query for the usual candidates; the unique constraint on
    (reference, account) still guards."""
    account = connection_account_key(warehouse)
    generators, first = {}, {}
    for order in orders:
        generator = reference_candidates(order=order, warehouse=warehouse)
        generators[id(order)] = generator
        first[id(order)] = [next(generator) for _ in range(PREFETCHED_CANDIDATES)]
    wanted = {c.lower() for candidates in first.values() for c in candidates}
    taken = cust_refs_taken(account, wanted)
    for order in orders:
        for candidate in _candidates(first[id(order)], generators[id(order)]):
            key = candidate.lower()
            if key in taken:
                continue
            if key not in wanted and cust_refs_taken(account, {key}):
                taken.add(key)
                continue
            order.cust_ref, order.warehouse_account = candidate, account
            taken.add(key)
            break


def _candidates(prefetched: list[str], rest: Iterable[str]) -> Iterator[str]:
    yield from prefetched
    yield from rest
