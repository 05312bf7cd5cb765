"""`delivery_work_waiting`: the one read an idle orders run makes instead of each delivery step's own.
True for each kind of work a step would find, for this connection only; False for what no step takes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import OrderStatus
from orders.models_changes import OrderChange
from orders.selectors import delivery_work_waiting
from tests.factories import CartConnectionFactory, OrderChangeFactory, OrderFactory

NOW = timezone.now()
PAST, FUTURE = NOW - timedelta(minutes=1), NOW + timedelta(minutes=1)


def waiting(cart) -> bool:
    return delivery_work_waiting(cart_connection_id=cart.pk, now=NOW)


@pytest.fixture
def cart(db):
    return CartConnectionFactory()


def test_an_idle_connection_has_nothing_waiting(cart):
    OrderFactory(cart_connection=cart, status=OrderStatus.SHIPPED, warehouse_verified_at=PAST)
    assert waiting(cart) is False


def test_a_new_order_is_work(cart):
    OrderFactory(cart_connection=cart, status=OrderStatus.NEW)
    assert waiting(cart) is True


def test_another_connections_work_is_not_this_ones(cart):
    other = CartConnectionFactory()
    OrderFactory(cart_connection=other, status=OrderStatus.NEW)
    OrderChangeFactory(order=OrderFactory(cart_connection=other, status=OrderStatus.AT_WMS))
    assert waiting(cart) is False and waiting(other) is True


@pytest.mark.parametrize(
    ("status", "verified_at", "verify_next_at", "expected"),
    [
        (OrderStatus.AT_WMS, None, PAST, True),  # its read-back is due
        (OrderStatus.AT_WMS, None, FUTURE, False),  # not yet
        (OrderStatus.AT_WMS, None, None, False),  # none planned
        (OrderStatus.AT_WMS, PAST, PAST, False),  # read back already
        (OrderStatus.CANCELED, None, PAST, False),  # canceled: nothing to read back
    ],
)
def test_a_delivered_order_is_work_while_its_read_back_is_due(cart, status, verified_at, verify_next_at, expected):
    OrderFactory(
        cart_connection=cart,
        status=status,
        warehouse_verified_at=verified_at,
        warehouse_verify_next_at=verify_next_at,
        delivered_at=PAST,
    )
    assert waiting(cart) is expected


def test_a_change_is_work_while_it_waits_to_be_passed_on(cart):
    order = OrderFactory(cart_connection=cart, status=OrderStatus.AT_WMS, warehouse_verified_at=PAST)
    change = OrderChangeFactory(order=order)
    assert change.status in OrderChange.OPEN
    assert waiting(cart) is True

    OrderChange.objects.filter(pk=change.pk).update(status=OrderChange.Status.APPLIED)
    assert waiting(cart) is False
