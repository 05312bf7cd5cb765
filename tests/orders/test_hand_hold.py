"""Holding one order by hand: never sent while held (by a sync, a retry, a re-check or a change at
the cart), only a person's Release lifts it, and both are recorded with the person."""

from __future__ import annotations

from orders.models import HoldCode, OrderEvent, OrderStatus, Problem
from orders.services.delivery.holds import held_orders_recheck, orders_retry
from orders.services.hand_hold import hand_hold_options, order_hold_by_hand, order_release_by_hand
from orders.services.holds_fix import order_hold_retry, order_send_check
from tests.factories import UserFactory
from tests.orders.helpers import order_for, order_posts, seed, sync
from tests.orders.test_hold_window import hold_windows_end, windowed


def held_in_window(wired, settings, user):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    windowed(wired)
    cart_order = seed(wired.squarespace, "1001")
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    result = order_hold_by_hand(order=order, reason="customer asked to wait for a second item", user=user)
    assert result.done, result.message
    return cart_order, order


def test_a_hand_hold_is_recorded_with_the_person_and_raises_a_problem(wired, settings):
    ann = UserFactory(username="ann")
    _, order = held_in_window(wired, settings, ann)

    order.refresh_from_db()
    assert (order.status, order.hold_code) == (OrderStatus.ERROR, HoldCode.HELD_BY_HAND)
    assert "customer asked to wait" in order.hold_reason and "ann" in order.hold_reason
    event = OrderEvent.objects.get(order=order, code=HoldCode.HELD_BY_HAND)
    assert (event.user, event.from_status, event.to_status) == (ann, OrderStatus.NEW, OrderStatus.ERROR)
    assert Problem.objects.get(order=order, status=Problem.Status.OPEN).reason_code == HoldCode.HELD_BY_HAND


def test_a_hand_held_order_is_never_sent_by_sync_retry_recheck_or_cart_change(wired, settings):
    cart_order, order = held_in_window(wired, settings, UserFactory())
    hold_windows_end()

    sync(wired.cart)
    orders_retry(order_ids=[order.pk])
    held_orders_recheck(orders=[order], why="test")
    assert not order_hold_retry(order=order, user=None).done
    assert not order_send_check(order=order, user=None).done
    lines = [dict(cart_order["lineItems"][0], quantity=3)]
    wired.squarespace.update_order(cart_order["id"], lineItems=lines)
    run = sync(wired.cart)

    order.refresh_from_db()
    assert run.counts["updated"] == 1  # the cart's change is applied, the hold stays
    assert list(order.lines.values_list("quantity", flat=True)) == [3]
    assert (order.status, order.hold_code) == (OrderStatus.ERROR, HoldCode.HELD_BY_HAND)
    assert order_posts(wired.bergen) == []


def test_release_lifts_the_hand_hold_with_the_person_and_the_order_is_sent_once(wired, settings):
    _, order = held_in_window(wired, settings, UserFactory(username="ann"))
    bob = UserFactory(username="bob")

    result = order_release_by_hand(order=order, user=bob)

    assert result.done, result.message
    order.refresh_from_db()
    assert (order.status, order.hold_code, order.hold_until) == (OrderStatus.NEW, "", None)  # the window too
    assert OrderEvent.objects.get(order=order, code="hand_hold_released").user == bob
    assert not Problem.objects.filter(order=order, status=Problem.Status.OPEN).exists()
    sync(wired.cart)
    sync(wired.cart)
    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WMS
    assert len(order_posts(wired.bergen)) == 1


def test_a_cart_cancellation_of_a_hand_held_order_cancels_it(wired, settings):
    cart_order, order = held_in_window(wired, settings, UserFactory())

    wired.squarespace.update_order(cart_order["id"], fulfillmentStatus="CANCELED")
    sync(wired.cart)

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert order_release_by_hand(order=order, user=None).done is False
    assert order_posts(wired.bergen) == []


def test_a_hold_needs_a_reason(wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    cart_order = seed(wired.squarespace, "1001", lines=[{"sku": "NOT-STOCKED", "quantity": 1}])
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)

    result = order_hold_by_hand(order=order, reason="   ", user=None)

    assert not result.done and "give a reason" in result.message
    order.refresh_from_db()
    assert order.hold_code == HoldCode.UNKNOWN_SKU


def test_orders_at_the_warehouse_or_being_sent_cannot_be_held_and_the_answer_says_why(wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    cart_order = seed(wired.squarespace, "1001")
    sync(wired.cart)
    sent = order_for(wired.cart, cart_order)
    assert sent.status == OrderStatus.AT_WMS

    at_warehouse = order_hold_by_hand(order=sent, reason="wait", user=None)
    assert not at_warehouse.done and "ask the warehouse" in at_warehouse.message.lower()
    assert not hand_hold_options(order=sent).can_hold

    windowed(wired)
    other = seed(wired.squarespace, "1002")
    sync(wired.cart)
    uncertain = order_for(wired.cart, other)
    uncertain.delivery_uncertain = True
    uncertain.save(update_fields=["delivery_uncertain"])
    in_flight = order_hold_by_hand(order=uncertain, reason="wait", user=None)
    assert not in_flight.done and "being sent" in in_flight.message
    uncertain.refresh_from_db()
    assert uncertain.status == OrderStatus.NEW
