"""Sends run concurrently while the warehouse is slow to answer, one after another while it is
fast: threads only pay off when they overlap waiting (in one process they contend for the GIL)."""

from __future__ import annotations

import threading
import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from integrations.services import warehouse_connector_for
from orders.models import Order, OrderStatus
from orders.services.delivery import batch as delivery_batch
from orders.services.delivery.claims import DELIVERY_BATCH_SIZE
from orders.services.delivery.deliver import pending_orders_deliver
from orders.services.delivery.sending import SendPace
from orders.services.records import history
from tests.factories import OrderFactory, OrderLineFactory


class TimedWarehouse:
    """The real connector, answering `latency` seconds later, noting which thread sent each order."""

    def __init__(self, connector, latency: float) -> None:
        self.connector, self.latency = connector, latency
        self.threads: list[str] = []
        self.lock = threading.Lock()

    def submit_order(self, order):
        with self.lock:
            self.threads.append(threading.current_thread().name)
        time.sleep(self.latency)
        return self.connector.submit_order(order)

    def __getattr__(self, name):
        return getattr(self.connector, name)


def new_orders(wired, count: int) -> None:
    for n in range(count):
        order = OrderFactory(cart_connection=wired.cart, cust_ref=f"PACE-{count}-{n}", status=OrderStatus.NEW)
        OrderLineFactory(order=order, cart_sku="SKU-1", warehouse_sku="SKU-1", quantity=1)


@pytest.mark.parametrize(("ms", "slow"), [(0.1, False), (5, False), (19.9, False), (20, True), (250, True)])
def test_the_pace_is_concurrent_from_the_threshold_up(settings, ms, slow):
    settings.DELIVERY_CONCURRENCY, settings.DELIVERY_CONCURRENT_ABOVE_MS = 4, 20
    pace = SendPace()
    assert pace.workers == 4  # the first batch: concurrent

    pace.record(seconds=ms / 1000 * 10, sends=10, workers=1)  # ten sends one after another

    assert pace.workers == (4 if slow else 1)
    pace.record(seconds=ms / 1000 * 10 / 4, sends=10, workers=4)  # the same answers, four at a time
    assert pace.workers == (4 if slow else 1)


def test_a_fast_warehouse_gets_one_send_after_another_after_the_first_batch(wired, settings):
    # "Fast": far below the threshold however busy the test machine is (a timing-free outcome).
    settings.DELIVERY_CONCURRENCY, settings.DELIVERY_CONCURRENT_ABOVE_MS = 4, 10_000
    new_orders(wired, 2 * DELIVERY_BATCH_SIZE)
    warehouse = TimedWarehouse(warehouse_connector_for(connection=wired.wms), latency=0)

    counts = pending_orders_deliver(cart_connection_id=wired.cart.pk, connector=warehouse, run=None)

    assert counts["delivered"] == 2 * DELIVERY_BATCH_SIZE
    first, second = warehouse.threads[:DELIVERY_BATCH_SIZE], warehouse.threads[DELIVERY_BATCH_SIZE:]
    assert len({name for name in first if name.startswith("deliver")}) == 4
    assert len(set(second)) == 1 and second[0].startswith("send")  # the one background sender, alone


def test_a_slow_warehouse_keeps_its_sends_overlapping(wired, settings):
    settings.DELIVERY_CONCURRENCY, settings.DELIVERY_CONCURRENT_ABOVE_MS = 4, 20
    new_orders(wired, 2 * DELIVERY_BATCH_SIZE)
    warehouse = TimedWarehouse(warehouse_connector_for(connection=wired.wms), latency=0.03)

    counts = pending_orders_deliver(cart_connection_id=wired.cart.pk, connector=warehouse, run=None)

    assert counts["delivered"] == 2 * DELIVERY_BATCH_SIZE
    second = warehouse.threads[DELIVERY_BATCH_SIZE:]
    assert len({name for name in second if name.startswith("deliver")}) == 4


def test_the_queries_of_a_delivery_do_not_grow_with_its_orders(wired, settings):
    """Nothing is read order by order (a deferred field, a warehouse, lines): one batch of 5 and one
    of 40 cost the same queries."""
    settings.DELIVERY_CONCURRENCY = 1
    counted = []
    for count in (5, 40):
        new_orders(wired, count)
        with CaptureQueriesContext(connection) as queries:
            counts = pending_orders_deliver(
                cart_connection_id=wired.cart.pk, connector=warehouse_connector_for(connection=wired.wms), run=None
            )
        assert counts["delivered"] == count
        counted.append(len(queries))
    assert counted[0] == counted[1]


def test_an_error_of_ours_while_feeding_stops_the_claims_records_what_was_sent_and_is_raised_at_the_end(
    wired, settings, monkeypatch
):
    settings.DELIVERY_CONCURRENCY = 1
    new_orders(wired, 2 * DELIVERY_BATCH_SIZE)
    ids = list(Order.objects.filter(cart_connection=wired.cart).order_by("pk").values_list("pk", flat=True))
    claim = delivery_batch._claim
    calls = []

    def claim_then_break(order_ids, *args):
        calls.append(order_ids)
        if len(calls) > 1:
            raise RuntimeError("the database went away")
        return claim(order_ids, *args)

    monkeypatch.setattr(delivery_batch, "_claim", claim_then_break)
    with delivery_batch.BatchDeliverer(warehouse_connector_for(connection=wired.wms), None) as deliverer:
        deliverer.deliver(ids[:DELIVERY_BATCH_SIZE])
        deliverer.deliver(ids[DELIVERY_BATCH_SIZE:])  # does not raise: the import feeding it carries on
        deliverer.deliver(ids[DELIVERY_BATCH_SIZE:])
        with pytest.raises(RuntimeError, match="went away"):
            deliverer.finish()

    assert len(calls) == 2  # nothing claimed after the failure
    first = Order.objects.filter(pk__in=ids[:DELIVERY_BATCH_SIZE])
    assert set(first.values_list("status", flat=True)) == {OrderStatus.AT_WMS}  # sent, and recorded
    assert deliverer.counts["delivered"] == DELIVERY_BATCH_SIZE
    assert set(Order.objects.filter(pk__in=ids[DELIVERY_BATCH_SIZE:]).values_list("status", flat=True)) == {
        OrderStatus.NEW
    }


def test_a_delivered_status_is_never_committed_without_its_history(wired, settings, monkeypatch):
    settings.DELIVERY_CONCURRENCY = 1
    new_orders(wired, 3)

    def history_fails(model, objs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(history, "rows_insert", history_fails)
    with pytest.raises(RuntimeError, match="went away"):
        pending_orders_deliver(
            cart_connection_id=wired.cart.pk, connector=warehouse_connector_for(connection=wired.wms), run=None
        )

    # Sent, but not recorded: still claimed and uncertain, so the next attempt asks the warehouse first.
    for order in Order.objects.filter(cart_connection=wired.cart):
        assert (order.status, order.delivery_uncertain) == (OrderStatus.NEW, True)
        assert not order.events.filter(code="delivered").exists()
