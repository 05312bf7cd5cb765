"""The sandboxes `make run` keeps up: which platforms, on which fixed ports, and the merchants wired to them.

Each sandbox plays its part of the demo scenario (``sandbox.demo``): seeded once with the scenario's
orders and stock, then kept (``sandbox.state``) so that what the worker delivered is still at the
warehouse after a restart. The merchants are the demo's own, one per pair of a cart and a warehouse;
they are created only when the database has no merchant at all, and on a later start pointed again
at these ports only when their connections point elsewhere (a changed ``SANDBOX_PORT_*`` setting).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.contrib.auth import get_user_model

from integrations.models import CartConnection, Merchant, MerchantMembership, WMSConnection
from sandbox.demo import DEFAULT_CART, DEFAULT_WAREHOUSE, merchant_slug, wire_demo_merchant
from sandbox.demo.sides import (
    BergenDemo,
    DemoCart,
    DemoWarehouse,
    OverstockDemo,
    SquarespaceDemo,
    TradeGeckoCartDemo,
    TradeGeckoWarehouseDemo,
)

# Sandbox name (as in the RUN_SANDBOX_PORTS setting and the state file) -> its part in the demo.
SIDES: dict[str, Callable[[], DemoCart | DemoWarehouse]] = {
    "squarespace": lambda: SquarespaceDemo("squarespace"),
    "bergen": lambda: BergenDemo("bergen"),
    "tradegecko": lambda: TradeGeckoCartDemo("tradegecko"),
    "tradegecko_warehouse": lambda: TradeGeckoWarehouseDemo("tradegecko"),
    "overstock": lambda: OverstockDemo("overstock"),
    # A Bergen of its own: the demo carts share order numbers, so at one warehouse account their
    # references would collide (as two stores of one customer's would).
    "overstock_bergen": lambda: BergenDemo("bergen"),
}
# The demo merchants: (cart sandbox, warehouse sandbox). The first is the demo merchant, slug "demo".
PAIRS = (("squarespace", "bergen"), ("tradegecko", "tradegecko_warehouse"), ("overstock", "overstock_bergen"))
# The demo merchant's login to the merchant pages: documented, for a local database only.
MERCHANT_LOGIN = ("demo-merchant", "orderbridge-demo")


def local_sides(ports: Mapping[str, int]) -> dict[str, DemoCart | DemoWarehouse]:
    """Each sandbox's demo side, its server set to listen on its fixed port (not started yet)."""
    sides = {}
    for name, make in SIDES.items():
        side = make()
        side.sandbox.port = ports[name]
        sides[name] = side
    return sides


def local_merchants_wire(sides: Mapping[str, DemoCart | DemoWarehouse]) -> tuple[list[CartConnection], bool]:
    """The demo merchants' cart connections pointed at the running sandboxes, and whether they were
    created now (the database had no merchant). A database with other merchants only is left alone."""
    created = not Merchant.objects.exists()
    connections = []
    for cart_name, warehouse_name in PAIRS:
        cart_side, warehouse_side = sides[cart_name], sides[warehouse_name]
        slug = merchant_slug(cart_side.platform, warehouse_side.platform)
        if created or _moved(slug, cart_side, warehouse_side):
            connections.append(wire_demo_merchant(cart_side, warehouse_side))  # type: ignore[arg-type]
    return connections, created


def _moved(slug: str, cart_side: DemoCart, warehouse_side: DemoWarehouse) -> bool:
    """True when the pair's demo merchant exists with a connection that points elsewhere: wiring it
    again puts back the sandbox's credentials and settings, which a staff member may have changed."""
    found = Merchant.objects.filter(slug=slug).first()
    if found is None:
        return False
    at_cart = CartConnection.objects.filter(merchant=found, platform=cart_side.platform).first()
    at_warehouse = WMSConnection.objects.filter(merchant=found, platform=warehouse_side.platform).first()
    return not (
        at_cart is not None
        and at_warehouse is not None
        and at_cart.api_base_url == cart_side.sandbox.base_url
        and at_warehouse.api_base_url == warehouse_side.sandbox.base_url
    )


def local_merchant_login() -> tuple[str, str]:
    """A merchant-pages login for the demo merchant (``MERCHANT_LOGIN``), created when missing;
    ("", "") when there is no demo merchant or the user name is taken by someone else."""
    username, password = MERCHANT_LOGIN
    merchant = Merchant.objects.filter(slug=merchant_slug(DEFAULT_CART, DEFAULT_WAREHOUSE)).first()
    User = get_user_model()
    if merchant is None:
        return "", ""
    user = User.objects.filter(username=username).first()
    if user is None:
        user = User.objects.create_user(username, "merchant@demo.example", password)
        MerchantMembership.objects.create(user=user, merchant=merchant)
    elif not MerchantMembership.objects.filter(user=user, merchant=merchant).exists():
        return "", ""
    return MERCHANT_LOGIN
