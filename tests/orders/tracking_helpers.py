"""Helpers of the return-path tests: an order delivered to the Bergen sandbox, shipped there, and
the shipment and inventory syncs run against the real connectors over loopback HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import requests
from django.utils import timezone

from orders.models import Order, OrderEvent, OrderStatus, Shipment, SyncRun
from sync.cycle import cart_connection_sync_orders
from sync.return_path import shipments_sync

# Lines of an order as the Squarespace sandbox takes them.
ONE_SKU_1 = [{"sku": "SKU-1", "quantity": 1, "price": "10.00", "name": "Widget"}]
TWO_SKU_1 = [{"sku": "SKU-1", "quantity": 2, "price": "10.00", "name": "Widget"}]
SKU_1_AND_SKU_2 = [
    {"sku": "SKU-1", "quantity": 1, "price": "10.00", "name": "Widget"},
    {"sku": "SKU-2", "quantity": 1, "price": "12.00", "name": "Gadget"},
]


def ago(**delta: float) -> datetime:
    return timezone.now() - timedelta(**delta)


def deliver(wired: Any, number: str = "5001", lines: list[dict] | None = None) -> Order:
    """An order placed at the cart sandbox, imported and delivered to the warehouse sandbox."""
    cart_order = wired.squarespace.add_order(
        order_number=number, created_on=ago(minutes=10), lines=lines if lines is not None else ONE_SKU_1
    )
    run = cart_connection_sync_orders(connection=wired.cart)
    order = Order.objects.get(cart_connection=wired.cart, cart_order_id=cart_order["id"])
    assert order.status == OrderStatus.AT_WMS, (run.error, order.hold_reason)
    return order


def package(
    tracking: str | None, *lines: tuple[str, int], carrier: str | None = "UPS", service: str | None = "Ground"
) -> dict[str, Any]:
    return {
        "carrier": carrier,
        "service": service,
        "tracking_number": tracking,
        "lines": [{"sku": sku, "qty": qty} for sku, qty in lines],
    }


def ship(wired: Any, reference: str, *packages: dict[str, Any]) -> None:
    """The warehouse ships `reference` five minutes ago (well behind the import lag)."""
    wired.bergen.ship_order(reference, list(packages), ship_date=ago(minutes=5))


def run_shipments(wired: Any) -> tuple[SyncRun, SyncRun]:
    """One shipment sync of the wired cart: (the warehouse's run, the cart's run)."""
    warehouse_run, cart_run = shipments_sync(connections=[wired.cart])
    assert warehouse_run.warehouse_id == wired.wms.pk and cart_run.cart_connection_id == wired.cart.pk
    return warehouse_run, cart_run


def fulfillment_posts(squarespace: Any) -> list[Any]:
    """Every fulfillment request the cart sandbox received (POST .../fulfillments)."""
    return squarespace.requests_to("/fulfillments", "POST")


def tracking_at_cart(squarespace: Any, order: Order) -> list[str]:
    return [f["trackingNumber"] for f in squarespace.fulfillments_for(order.cart_order_id)]


def codes(order: Order) -> list[str]:
    return list(OrderEvent.objects.filter(order=order).order_by("created_at", "pk").values_list("code", flat=True))


def make_due(*shipments: Shipment) -> None:
    """As if the retry backoff had passed."""
    Shipment.objects.filter(pk__in=[s.pk for s in shipments]).update(next_push_at=ago(seconds=1))


def post_order_straight_to_bergen(bergen: Any, reference: str) -> None:
    """An order someone entered at the warehouse directly: we never sent it."""
    base = bergen.base_url
    token = requests.post(
        f"{base}/AuthServer/api/Token",
        json={"grant_type": "client_credentials"},
        auth=(bergen.username, bergen.password),
        timeout=5,
    ).json()["access_token"]
    response = requests.post(
        f"{base}/orders",
        json={
            "customerIdentifier": {"name": bergen.customer},
            "facilityIdentifier": {"name": "NJ"},
            "referenceNum": reference,
            "shipTo": {
                "name": "Grace Hopper",
                "address1": "1 Navy Way",
                "city": "Arlington",
                "zip": "22201",
                "country": "US",
            },
            "orderItems": [{"itemIdentifier": {"sku": "SKU-1"}, "qty": 1}],
        },
        headers={"Authorization": f"Bearer {token}"},
        timeout=5,
    )
    assert response.status_code == 201, response.text
