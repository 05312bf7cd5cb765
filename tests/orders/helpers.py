"""Shared helpers for the order pipeline tests: seeding the cart sandbox and running a sync."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from integrations.models import CartConnection, PlatformCooldown
from orders.models import Order, OrderEvent, SyncRun
from orders.services.sync import cart_connection_sync_orders

ORDERS_PATH = "/1.0/commerce/orders"


def ago(**delta: float) -> datetime:
    return timezone.now() - timedelta(**delta)


def seed(sandbox: Any, order_number: str = "1001", **kwargs: Any) -> dict[str, Any]:
    """An open order placed and last modified five minutes ago (well behind the import lag)."""
    kwargs.setdefault("created_on", ago(minutes=5))
    return sandbox.add_order(order_number=order_number, **kwargs)


def sync(connection: CartConnection, **kwargs: Any) -> SyncRun:
    """Run one order sync and reload the connection (watermark, last sync fields)."""
    run = cart_connection_sync_orders(connection=connection, **kwargs)
    connection.refresh_from_db()
    return run


def order_for(connection: CartConnection, cart_order: dict[str, Any]) -> Order:
    return Order.objects.get(cart_connection=connection, cart_order_id=cart_order["id"])


def status_changes(order: Order) -> list[tuple[str, str]]:
    """The (from, to) of every history row that records a status change, oldest first."""
    return [
        (e.from_status, e.to_status)
        for e in OrderEvent.objects.filter(order=order).order_by("created_at", "pk")
        if e.to_status
    ]


def order_posts(bergen: Any) -> list[Any]:
    """Every order creation request the warehouse received (POST /orders)."""
    return [r for r in bergen.requests_to("/orders", "POST") if r.path.lower() == "/orders"]


def cooldowns_end() -> None:
    """Every recorded rate-limit cooldown ends, as time would end it."""
    PlatformCooldown.objects.update(until=timezone.now() - timedelta(seconds=1))
