"""A cart connection's hold window: a new order waits that long after it was placed before it is
sent, on both delivery paths (the hand-over at import and the pending deliveries); a change at the
cart meanwhile is what the warehouse gets, a cancellation meanwhile means it is never sent. Checked
against what the warehouse sandbox received, not only our rows."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from integrations.forms import CartConnectionForm
from integrations.models import HOLD_MINUTES_MAX, CartConnection
from integrations.services import warehouse_connector_for
from orders.models import Order, OrderEvent, OrderStatus
from orders.selectors import deliverable_orders
from orders.services.delivery.claims import DeliveryOutcome
from orders.services.delivery.deliver import order_deliver, pending_orders_deliver
from orders.services.delivery.holds import orders_retry
from orders.services.hand_hold import order_release_by_hand
from orders.services.holds_fix import order_send_check
from tests.factories import UserFactory
from tests.orders.helpers import ago, order_for, order_posts, seed, sync
from tests.orders.test_claimed_on_import import RecordingDelivery, import_into


def hold_windows_end() -> None:
    """Every hold window ends, as time would end it."""
    Order.objects.filter(hold_until__isnull=False).update(hold_until=timezone.now() - timedelta(seconds=1))


def windowed(wired, minutes: int = 60):
    wired.cart.hold_minutes = minutes
    wired.cart.save()
    return wired


def test_an_order_in_its_window_is_neither_handed_over_at_import_nor_deliverable(wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 30
    windowed(wired)
    cart_order = seed(wired.squarespace, "1001", created_on=ago(minutes=5))
    delivery = RecordingDelivery()

    import_into(wired, delivery)

    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.NEW
    assert delivery.claimed == [] and delivery.ids == []  # not handed to the delivery
    placed = order.ordered_at
    assert order.hold_until == placed + timedelta(minutes=60, seconds=30)  # from when it was placed, plus the lag
    assert list(deliverable_orders(cart_connection_id=wired.cart.pk)) == []


def test_nothing_reaches_the_warehouse_during_the_window_and_one_send_after_it(wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    windowed(wired)
    cart_order = seed(wired.squarespace, "1001")

    run = sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    assert order_posts(wired.bergen) == []
    assert run.counts["in_hold_window"] == 1
    assert "wait in the connection's hold window" in run.error
    assert "hold window" in wired.cart.last_sync_message

    connector = warehouse_connector_for(connection=wired.wms)
    pending_orders_deliver(cart_connection_id=wired.cart.pk, connector=connector, run=None)
    assert order_deliver(order_id=order.pk, connector=connector) == DeliveryOutcome.SKIPPED
    orders_retry(order_ids=[order.pk])  # a retry does not cut the window short
    sync(wired.cart)
    assert order_posts(wired.bergen) == []
    order.refresh_from_db()
    assert (order.status, order.delivery_attempts) == (OrderStatus.NEW, 0)

    hold_windows_end()
    run = sync(wired.cart)
    sync(wired.cart)

    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WMS
    assert len(order_posts(wired.bergen)) == 1
    assert "in_hold_window" not in run.counts


def test_an_order_placed_before_the_window_is_sent_at_once(wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    windowed(wired, minutes=30)
    cart_order = seed(wired.squarespace, "1001", created_on=ago(minutes=45))

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert (order.status, order.hold_until) == (OrderStatus.AT_WMS, None)
    assert len(order_posts(wired.bergen)) == 1


def test_an_edit_during_the_window_reaches_the_warehouse_in_its_edited_form(wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    windowed(wired)
    cart_order = seed(wired.squarespace, "1001")
    sync(wired.cart)

    lines = [dict(cart_order["lineItems"][0], quantity=5)]
    address = dict(cart_order["shippingAddress"], city="Hoboken")
    wired.squarespace.update_order(cart_order["id"], lineItems=lines, shippingAddress=address)
    run = sync(wired.cart)
    assert run.counts["updated"] == 1
    assert order_posts(wired.bergen) == []

    hold_windows_end()
    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.AT_WMS
    [post] = order_posts(wired.bergen)
    assert post.json["orderItems"][0]["qty"] == 5
    assert post.json["shipTo"]["city"] == "Hoboken"


def test_a_cancellation_during_the_window_means_the_order_is_never_sent(wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    windowed(wired)
    cart_order = seed(wired.squarespace, "1001")
    sync(wired.cart)

    wired.squarespace.update_order(cart_order["id"], fulfillmentStatus="CANCELED")
    run = sync(wired.cart)
    hold_windows_end()
    sync(wired.cart)
    orders_retry(order_ids=[order_for(wired.cart, cart_order).pk])

    order = order_for(wired.cart, cart_order)
    assert run.counts["canceled"] == 1
    assert order.status == OrderStatus.CANCELED
    assert order_posts(wired.bergen) == []
    assert wired.bergen.orders == []


def test_release_early_ends_the_window_with_the_person_and_the_next_send_goes(wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    windowed(wired)
    cart_order = seed(wired.squarespace, "1001")
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    ann = UserFactory(username="ann")

    result = order_release_by_hand(order=order, user=ann)

    assert result.done, result.message
    order.refresh_from_db()
    assert order.hold_until is None
    event = OrderEvent.objects.get(order=order, code="hold_window_released")
    assert event.user == ann and "by ann" in event.message
    sync(wired.cart)
    assert len(order_posts(wired.bergen)) == 1


def test_send_now_on_an_order_in_its_window_releases_it_and_says_who(wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    windowed(wired)
    cart_order = seed(wired.squarespace, "1001")
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    bob = UserFactory(username="bob")

    assert order_send_check(order=order, user=bob).done

    order.refresh_from_db()
    assert order.hold_until is None
    assert OrderEvent.objects.get(order=order, code="hold_window_released").user == bob


def test_a_window_past_a_week_is_refused_on_the_form_with_the_limit(wired):
    data = CartConnectionForm(instance=wired.cart).initial | {"hold_minutes": 2**31 - 1}
    form = CartConnectionForm(data=data, instance=wired.cart)

    assert not form.is_valid()
    assert str(HOLD_MINUTES_MAX) in " ".join(form.errors["hold_minutes"])


def test_a_huge_window_stored_around_the_form_still_imports_held_for_at_most_a_week(wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    CartConnection.objects.filter(pk=wired.cart.pk).update(hold_minutes=2**31 - 1)
    wired.cart.refresh_from_db()
    cart_order = seed(wired.squarespace, "1001", created_on=ago(minutes=1))

    run = sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert run.counts["in_hold_window"] == 1
    assert order.hold_until == order.ordered_at + timedelta(minutes=HOLD_MINUTES_MAX)
    assert order_posts(wired.bergen) == []
