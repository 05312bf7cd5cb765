"""Shared helpers for the order pipeline tests: seeding the cart sandbox and running a sync."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import requests
from django.utils import timezone

from integrations.models import CartConnection, PlatformCooldown, WMSConnection
from integrations.services import warehouse_connector_for
from orders.models import Order, OrderEvent, SyncRun
from orders.services.intake.pages import cart_orders_import
from orders.services.translation.run_context import translation_context_factory
from sync.cycle import cart_connection_sync_orders

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


def import_only(cart: CartConnection, warehouse: WMSConnection) -> None:
    """Store the cart's orders (their references chosen) without sending any."""
    connector = warehouse_connector_for(connection=warehouse)
    run = SyncRun.objects.create(kind=SyncRun.Kind.ORDERS, merchant_id=cart.merchant_id, cart_connection=cart)
    cart_orders_import(
        connection=cart,
        run=run,
        now=timezone.now(),
        context=translation_context_factory(connection=cart, warehouse=warehouse, connector=connector, notes=[]),
    )


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


def bergen_post_order(bergen: Any, reference: str, *, po_number: str | None = "1001", **fields: Any) -> dict[str, Any]:
    """Store an order at the Bergen sandbox through its API, as another connection of the same
    customer would (a store of its own with its own order #1001): SKU-1 × 1 to Grace Hopper."""
    body = {
        "customerIdentifier": {"name": bergen.customer},
        "facilityIdentifier": {"name": "NJ"},
        "referenceNum": reference,
        "shipTo": {
            "name": "Grace Hopper",
            "address1": "9 Navy Way",
            "city": "Arlington",
            "zip": "22202",
            "country": "US",
        },
        "orderItems": [{"itemIdentifier": {"sku": "SKU-1"}, "qty": 1}],
        **({"poNum": po_number} if po_number is not None else {}),
        **fields,
    }
    token = requests.post(
        bergen.base_url + "/AuthServer/api/Token",
        auth=(bergen.username, bergen.password),
        json={"grant_type": "client_credentials"},
        timeout=5,
    ).json()["access_token"]
    created = requests.post(
        bergen.base_url + "/orders", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=5
    )
    assert created.status_code == 201, created.text
    return created.json()


def cooldowns_end() -> None:
    """Every recorded rate-limit cooldown ends, as time would end it."""
    PlatformCooldown.objects.update(until=timezone.now() - timedelta(seconds=1))
