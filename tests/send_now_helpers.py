"""Orders for the send-now tests: held ones imported by a real sync, and one released and waiting."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from orders.models import Order, OrderStatus, SKUAlias
from orders.services.holds_fix import order_hold_retry
from sync.cycle import cart_connection_sync_orders


def held_orders(wired, skus: dict[str, str]) -> list[Order]:
    """Orders {number: cart SKU} put at the cart and imported by one real sync, each held for its SKU."""
    for number, sku in skus.items():
        wired.squarespace.add_order(
            order_number=number,
            created_on=timezone.now() - timedelta(hours=1),
            lines=[{"sku": sku, "quantity": 1, "price": "10.00", "name": "Item"}],
        )
    cart_connection_sync_orders(connection=wired.cart)
    orders = [Order.objects.get(cart_connection=wired.cart, order_number=number) for number in skus]
    assert {order.status for order in orders} == {OrderStatus.ERROR}
    return orders


def ready_order(wired, number: str) -> Order:
    """An order released (alias saved, re-checked) and waiting to be sent."""
    [order] = held_orders(wired, {number: "TEE-BLK"})
    SKUAlias.objects.get_or_create(merchant=wired.merchant, cart_sku="TEE-BLK", defaults={"warehouse_sku": "SKU-1"})
    order_hold_retry(order=order, user=None)
    assert order.status == OrderStatus.NEW
    return order
