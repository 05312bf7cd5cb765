"""Fairness on the shared workers: a merchant's backlog does not keep another merchant's first order
waiting for more than one batch.

Merchant A has a backlog at its cart, merchant B one new order; both carts' orders runs are queued (A's
first), as the scheduler queues them. One worker takes the queue's tasks oldest first. The warehouse is
one Bergen account with a customer per merchant, so its store lists every order in the order it arrived.
"""

from __future__ import annotations

import pydoc
from datetime import date, timedelta

import pytest
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ
from django_q.signing import SignedPackage
from django_q.tasks import async_task

from orders.models import Order, OrderStatus, SyncRun
from orders.services.delivery import batch, deliver
from sandbox.bergen import BergenSandbox
from sandbox.squarespace import SquarespaceSandbox
from sandbox.wiring import (
    ANY_RATE_PER_MINUTE,
    SandboxMerchant,
    bergen_account,
    merchant_wire_sandboxes,
    squarespace_account,
)

BATCH = 3
BACKLOG = 12


def _wire(slug: str, cart: SquarespaceSandbox, warehouse: BergenSandbox, customer: str):
    warehouse.add_customer(customer)
    warehouse.add_item("SKU-1", on_hand=1000, customer=customer)
    return merchant_wire_sandboxes(
        merchant=SandboxMerchant(slug, slug.title(), f"{slug}@example.com", "Shop", "Bergen"),
        cart=squarespace_account(cart.base_url, api_key=cart.api_key),
        warehouse=bergen_account(warehouse.base_url, username="u", password="p", customer=customer),
        earliest_order_date=date.today() - timedelta(days=3),
        ship_codes={"Standard": "UPS:Ground"},
        requests_per_minute=ANY_RATE_PER_MINUTE,  # these sandboxes have no rate limit: the budget never waits
    )


def _place(cart: SquarespaceSandbox, numbers: range) -> None:
    placed = timezone.now() - timedelta(hours=1)
    for number in numbers:
        cart.add_order(
            order_number=str(number),
            created_on=placed,
            lines=[{"sku": "SKU-1", "quantity": 1, "price": "1.00", "name": "One"}],
        )


def _work_the_queue(limit: int = 50) -> int:
    """One worker: run the queued tasks oldest first until the queue is empty; return how many ran."""
    ran = 0
    while (queued := OrmQ.objects.order_by("pk").first()) is not None:
        assert ran < limit, "the queue never emptied"
        task = SignedPackage.loads(queued.payload)
        queued.delete()
        pydoc.locate(task["func"])(*task["args"], **task["kwargs"])
        ran += 1
    return ran


@pytest.mark.django_db(transaction=True)
def test_a_backlog_delays_another_merchants_first_order_by_at_most_one_batch(monkeypatch, settings):
    monkeypatch.setattr(Conf, "SYNC", False)  # tasks go to the queue, as in production
    monkeypatch.setattr(batch, "DELIVERY_BATCH_SIZE", BATCH)
    monkeypatch.setattr(deliver, "DELIVERY_BATCH_SIZE", BATCH)
    settings.DELIVERY_BATCHES_PER_TURN = 1
    cart_a, cart_b = SquarespaceSandbox("key-a"), SquarespaceSandbox("key-b")
    warehouse = BergenSandbox("u", "p", customer="A-CO")
    for sandbox in (cart_a, cart_b, warehouse):
        sandbox.start()
    try:
        connection_a = _wire("merchant-a", cart_a, warehouse, "A-CO")
        connection_b = _wire("merchant-b", cart_b, warehouse, "B-CO")
        _place(cart_a, range(1000, 1000 + BACKLOG))
        _place(cart_b, range(2000, 2001))
        async_task("orders.tasks.sync_orders_task", connection_a.pk, True)
        async_task("orders.tasks.sync_orders_task", connection_b.pk, True)
        ran = _work_the_queue()
    finally:
        for sandbox in (cart_a, cart_b, warehouse):
            sandbox.stop()

    arrived = [order["referenceNum"] for order in warehouse.orders]
    first_of_b = arrived.index("2000")
    assert first_of_b <= BATCH, f"B's first order arrived after {first_of_b} of A's orders: {arrived}"
    assert sorted(arrived) == sorted([str(n) for n in range(1000, 1000 + BACKLOG)] + ["2000"])
    assert warehouse.duplicate_count() == 0
    assert not Order.objects.exclude(status=OrderStatus.AT_WMS).exists()
    # A's backlog took one turn per batch, each queued behind the work already waiting.
    assert ran == 1 + BACKLOG // BATCH
    deferred = SyncRun.objects.filter(cart_connection=connection_a, kind=SyncRun.Kind.ORDERS).order_by("pk")
    assert [run.counts.get("deferred", 0) for run in deferred] == [9, 6, 3, 0]
