"""A send the warehouse took but answered unreadably, whose lookup then failed, is asked about before
anything is sent again: at a warehouse that stores a repeated reference (chaos_sync
--accept-duplicate-references), sending it again would hold the order twice. Found by chaos_sync."""

from __future__ import annotations

from orders.models import OrderEvent, OrderStatus
from tests.orders.helpers import order_for, order_posts, seed, sync


def test_an_unreadable_answer_and_a_failed_lookup_leave_the_order_to_be_asked_for_not_sent_again(wired, settings):
    settings.HTTP_MAX_RETRIES = 1
    settings.HTTP_BACKOFF_SECONDS = 0
    settings.DELIVERY_RETRY_BASE_SECONDS = 0  # the retry comes in the same run
    wired.bergen.accept_duplicate_references = True
    cart_order = seed(wired.squarespace, "1001")
    body = "<html><body>upstream sent an invalid response</body></html>"
    wired.bergen.fail_next(1, mode="after", status=200, body=body, path_contains="/orders", method="POST")
    wired.bergen.fail_next(2, status=503, path_contains="/orders", method="GET")  # the lookup and its retry

    run = sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert run.counts["retry"] == 1 and run.counts["delivered"] == 1
    assert order.status == OrderStatus.AT_WMS
    assert len(order_posts(wired.bergen)) == 1
    assert len(wired.bergen.orders) == 1 and wired.bergen.duplicate_count() == 0
    assert order.warehouse_order_id == str(wired.bergen.orders[0]["readOnly"]["orderId"])
    failed = OrderEvent.objects.get(order=order, code="delivery_failed")
    assert "The warehouse will be asked for it before any resend" in failed.message
    assert OrderEvent.objects.filter(order=order, code="delivered", message__contains="Found at the warehouse").exists()
