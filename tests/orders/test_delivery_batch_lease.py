"""A delivery batch starts no send that could land after its claim expires."""

from orders.models import OrderStatus
from tests.orders.helpers import order_for, order_posts, seed, sync


def test_a_batch_whose_claim_would_expire_before_a_send_lands_sends_nothing(wired, settings):
    cart_order = seed(wired.squarespace, "1001")
    settings.HTTP_TIMEOUT_SECONDS = 3.0
    settings.DELIVERY_CLAIM_LEASE_SECONDS = 2  # shorter than one send may take

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert order_posts(wired.bergen) == []
    assert order.status == OrderStatus.NEW
    assert not order.delivery_uncertain and not order.claimed_by

    settings.DELIVERY_CLAIM_LEASE_SECONDS = 300
    sync(wired.cart)

    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WMS
    assert len(order_posts(wired.bergen)) == 1
