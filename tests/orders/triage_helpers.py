"""Merchants of every severity for the dashboard's tests (and its browser test): three failing, three
with something to look at, two healthy, named so that alphabetical order would mix them."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from integrations.models import CartConnection, SyncOutcome, WMSConnection
from orders.models import HoldCode, OrderStatus
from tests.factories import CartConnectionFactory, MerchantFactory, OrderFactory, SyncRunFactory

FAILING = ["Charlie Blocked", "Oscar Failing", "Xray Failed Run"]
NEEDS_A_LOOK = ["Bravo Held", "Mike Waiting", "Yankee Stuck"]
HEALTHY = ["Alpha Quiet", "Zulu Quiet"]
FAILED_RUN_ERROR = "Cart: Squarespace answered 503 at /1.0/commerce/orders (temporary)"


def merchants_of_every_severity() -> dict[str, CartConnection]:
    """Each merchant's cart connection (its warehouse is `cart.warehouse`), by merchant name."""
    carts = {}
    for name in FAILING + NEEDS_A_LOOK + HEALTHY:
        merchant = MerchantFactory(name=name, slug=name.lower().replace(" ", "-"))
        carts[name] = CartConnectionFactory(merchant=merchant, warehouse__merchant=merchant)
    WMSConnection.objects.filter(pk=carts["Charlie Blocked"].warehouse_id).update(
        blocked_reason="Stopped until a person acts (needs a person): 401: the password was refused"
    )
    CartConnection.objects.filter(pk=carts["Oscar Failing"].pk).update(consecutive_failures=3)
    SyncRunFactory(
        cart_connection=carts["Xray Failed Run"],
        status=SyncOutcome.FAILED,
        failure_kind="temporary",
        counts={},
        error=FAILED_RUN_ERROR,
    )
    OrderFactory(
        cart_connection=carts["Bravo Held"],
        status=OrderStatus.ERROR,
        hold_code=HoldCode.UNMAPPED_SHIPPING,
        hold_reason="Map 'Express' to a warehouse shipping code.",
    )
    OrderFactory(cart_connection=carts["Mike Waiting"], status=OrderStatus.NEW)
    stuck_cart = carts["Yankee Stuck"]
    OrderFactory(
        cart_connection=stuck_cart,
        status=OrderStatus.AT_WMS,
        delivered_at=timezone.now() - timedelta(hours=stuck_cart.stuck_after_hours + 3),
    )
    for name in HEALTHY:
        SyncRunFactory(cart_connection=carts[name], counts={"imported": 2, "delivered": 2})
    return carts
