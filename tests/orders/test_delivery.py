"""Delivery exactly once, against the Bergen sandbox: claims, lost replies, retries, throttling (duplicate
reference answers: test_reference_check)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.services import warehouse_connector_for
from orders.models import Order, OrderEvent, OrderStatus
from orders.services.delivery.claims import DeliveryOutcome
from orders.services.delivery.deliver import order_deliver
from sandbox.squarespace import SquarespaceSandbox
from tests.orders.helpers import ago, cooldowns_end, order_for, order_posts, seed, status_changes, sync

SKIPPED = DeliveryOutcome.SKIPPED


def lose_the_next_reply(bergen, mode: str) -> None:
    """The warehouse stores the next order, then the reply never arrives (500 after processing, or a drop)."""
    bergen.fail_next(1, status=500, mode=mode, path_contains="/orders", method="POST")


def test_a_sync_delivers_each_valid_order_once_and_a_second_sync_sends_nothing(wired):
    cart_orders = [seed(wired.squarespace, str(1001 + i), created_on=ago(minutes=5, seconds=-i)) for i in range(3)]

    first = sync(wired.cart)
    second = sync(wired.cart)

    assert first.status == "succeeded", first.error
    assert first.counts["delivered"] == 3
    assert second.counts.get("delivered", 0) == 0
    assert len(order_posts(wired.bergen)) == 3
    assert wired.bergen.duplicate_count() == 0
    by_reference = wired.bergen.orders_by_reference()
    for cart_order in cart_orders:
        order = order_for(wired.cart, cart_order)
        assert order.status == OrderStatus.AT_WMS
        assert order.delivery_uncertain is False
        assert order.delivered_at is not None
        assert len(by_reference[order.cust_ref]) == 1
        assert order.warehouse_order_id == str(by_reference[order.cust_ref][0]["readOnly"]["orderId"])


@pytest.mark.parametrize("mode", ["after", "after_drop"])
def test_an_order_accepted_but_whose_reply_is_lost_stays_new_and_uncertain_with_history(wired, mode):
    cart_order = seed(wired.squarespace, "1001")
    lose_the_next_reply(wired.bergen, mode)

    run = sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert len(wired.bergen.orders) == 1  # the warehouse has it
    assert order.status == OrderStatus.NEW
    assert order.delivery_uncertain is True
    assert order.next_attempt_at is not None and order.next_attempt_at > timezone.now()
    assert run.counts["retry"] == 1
    event = OrderEvent.objects.filter(order=order, code="delivery_failed").get()
    assert "asked for it before any resend" in event.message


def test_the_next_attempt_after_a_lost_reply_finds_the_order_by_cust_ref_without_a_second_post(wired):
    cart_order = seed(wired.squarespace, "1001")
    lose_the_next_reply(wired.bergen, "after")
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    Order.objects.filter(pk=order.pk).update(next_attempt_at=ago(seconds=1))

    run = sync(wired.cart)

    order.refresh_from_db()
    assert run.counts["delivered"] == 1
    assert order.status == OrderStatus.AT_WMS
    assert order.delivery_uncertain is False
    assert len(order_posts(wired.bergen)) == 1
    assert wired.bergen.duplicate_count() == 0
    lookups = [r for r in wired.bergen.requests_to("/orders", "GET") if r.param("rql")]
    assert lookups and order.cust_ref in lookups[-1].param("rql")
    assert order.warehouse_order_id == str(wired.bergen.orders[0]["readOnly"]["orderId"])
    last = OrderEvent.objects.filter(order=order, code="delivered").last()
    assert (last.from_status, last.to_status) == (OrderStatus.NEW, OrderStatus.AT_WMS)
    assert "not sent again" in last.message


def test_order_deliver_called_directly_after_a_lost_reply_asks_the_warehouse_first(wired):
    cart_order = seed(wired.squarespace, "1001")
    lose_the_next_reply(wired.bergen, "after_drop")
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)

    order_deliver(order_id=order.pk, connector=warehouse_connector_for(connection=wired.wms))

    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WMS
    assert len(order_posts(wired.bergen)) == 1
    assert wired.bergen.duplicate_count() == 0


def test_a_500_on_submit_is_retried_later_with_history(wired):
    cart_order = seed(wired.squarespace, "1001")
    wired.bergen.fail_next(1, status=500, path_contains="/orders", method="POST")

    run = sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.NEW
    assert order.next_attempt_at is not None and order.next_attempt_at > timezone.now()
    assert "500" in order.last_error
    assert run.counts["retry"] == 1
    assert run.status == "partial"
    event = OrderEvent.objects.filter(order=order, code="delivery_failed").get()
    assert "Delivery attempt 1 failed" in event.message and "Retrying after" in event.message

    too_soon = sync(wired.cart)
    assert too_soon.counts.get("delivered", 0) == 0
    assert len(order_posts(wired.bergen)) == 1

    Order.objects.filter(pk=order.pk).update(next_attempt_at=ago(seconds=1))
    sync(wired.cart)

    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WMS
    assert order.delivery_attempts == 2
    assert len(wired.bergen.orders) == 1


def test_a_long_rate_limit_from_the_warehouse_makes_the_run_throttled_and_leaves_the_order_new(wired):
    cart_order = seed(wired.squarespace, "1001")
    wired.bergen.fail_next(1, status=429, headers={"Retry-After": "120"}, path_contains="/orders", method="POST")

    run = sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert run.status == "throttled"
    assert "Warehouse:" in run.error and "rate limiting" in run.error
    assert wired.cart.last_sync_status == "throttled"
    assert order.status == OrderStatus.NEW
    assert order.delivery_uncertain is False
    assert order.claimed_by == "" and order.claimed_until is None
    assert wired.bergen.orders == []

    cooldowns_end()
    sync(wired.cart)

    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WMS
    assert len(wired.bergen.orders) == 1


def test_an_order_claimed_by_another_worker_is_not_sent(wired):
    cart_order = seed(wired.squarespace, "1001")
    wired.bergen.fail_next(1, status=429, headers={"Retry-After": "120"}, path_contains="/orders", method="POST")
    sync(wired.cart)  # imported, not sent
    order = order_for(wired.cart, cart_order)
    Order.objects.filter(pk=order.pk).update(
        claimed_by="other-worker", claimed_until=timezone.now() + timedelta(minutes=5)
    )

    run = sync(wired.cart)
    outcome = order_deliver(order_id=order.pk, connector=warehouse_connector_for(connection=wired.wms))

    order.refresh_from_db()
    assert run.counts.get("delivered", 0) == 0
    assert outcome == SKIPPED
    assert order.status == OrderStatus.NEW
    assert order.claimed_by == "other-worker"
    assert wired.bergen.orders == []


def test_an_expired_claim_is_taken_over(wired, settings):
    cart_order = seed(wired.squarespace, "1001")
    wired.bergen.fail_next(1, status=429, headers={"Retry-After": "120"}, path_contains="/orders", method="POST")
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    Order.objects.filter(pk=order.pk).update(claimed_by="dead-worker", claimed_until=ago(seconds=1))
    cooldowns_end()

    sync(wired.cart)

    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WMS
    assert order.claimed_by == ""
    assert len(wired.bergen.orders) == 1


def test_an_order_left_uncertain_by_a_dead_worker_is_found_at_the_warehouse_not_sent_again(wired):
    cart_order = seed(wired.squarespace, "1001")
    wired.bergen.fail_next(1, status=429, headers={"Retry-After": "120"}, path_contains="/orders", method="POST")
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    cooldowns_end()
    # The dead worker's send reached the warehouse: it answers this exact payload.
    connector = warehouse_connector_for(connection=wired.wms)
    connector.call("POST", "/orders", json_body=order.warehouse_payload)
    Order.objects.filter(pk=order.pk).update(
        delivery_uncertain=True, claimed_by="dead-worker", claimed_until=ago(seconds=1)
    )
    posts_before = len(order_posts(wired.bergen))

    sync(wired.cart)

    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WMS
    assert len(order_posts(wired.bergen)) == posts_before
    assert wired.bergen.duplicate_count() == 0


# --- statuses and history ----------------------------------------------------------------------------------


def test_a_delivered_order_has_one_history_row_per_status_change(wired):
    cart_order = seed(wired.squarespace, "1001")

    sync(wired.cart)
    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert status_changes(order) == [("", OrderStatus.NEW), (OrderStatus.NEW, OrderStatus.AT_WMS)]
    assert all(e.message for e in OrderEvent.objects.filter(order=order))


def test_a_held_order_has_one_history_row_per_status_change(wired):
    cart_order = seed(wired.squarespace, "1001", lines=[{"sku": "NOT-STOCKED", "quantity": 1}])

    sync(wired.cart)
    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert status_changes(order) == [("", OrderStatus.NEW), (OrderStatus.NEW, OrderStatus.ERROR)]
    held = OrderEvent.objects.get(order=order, to_status=OrderStatus.ERROR)
    assert held.message.startswith("Held: ") and "NOT-STOCKED" in held.message


def test_statuses_are_cartrovers():
    assert {OrderStatus.NEW, OrderStatus.ERROR, OrderStatus.AT_WMS, OrderStatus.CANCELED} <= set(OrderStatus.values)
    assert (OrderStatus.NEW.value, OrderStatus.ERROR.value, OrderStatus.AT_WMS.value, OrderStatus.CANCELED.value) == (
        "new",
        "error",
        "at_wms",
        "canceled",
    )


def test_a_rate_limit_while_pages_are_still_read_stops_the_sends_not_the_import(wired, settings):
    settings.DELIVERY_CONCURRENCY = 1
    with SquarespaceSandbox(page_size=2, rate_limit_per_minute=None) as cart:
        wired.cart.api_base_url = cart.base_url
        wired.cart.save()
        seeded = [seed(cart, str(2001 + i), created_on=ago(minutes=5, seconds=-i)) for i in range(6)]
        wired.bergen.fail_next(1, status=429, headers={"Retry-After": "120"}, path_contains="/orders", method="POST")

        run = sync(wired.cart)

        orders = [order_for(wired.cart, cart_order) for cart_order in seeded]
        assert run.counts["imported"] == 6 and run.counts["pages"] == 3  # every page read and stored
        assert run.status == "throttled" and "rate limit" in run.error
        assert all(o.status == OrderStatus.NEW and not o.claimed_by and not o.delivery_uncertain for o in orders)
        assert wired.bergen.orders == []

        cooldowns_end()
        again = sync(wired.cart)

        assert again.counts["delivered"] == 6
        assert {o.cust_ref for o in orders} == {sent["referenceNum"] for sent in wired.bergen.orders}
