"""The demo: a merchant wired to the sandboxes of one cart and one warehouse, one whole cycle.

`run_demo("squarespace", "bergen")` starts both sandboxes on free loopback ports, seeds the fixed
scenario, creates (or reuses) the pair's demo merchant and connections pointed at this run's ports,
syncs orders, lets the warehouse ship, syncs shipments and inventory, reconciles the cart's orders
with both sandboxes while they are still up, and returns the counts.
Running it again on the same database finds the same orders: it imports and delivers nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.utils import timezone

from integrations.models import CartConnection, Merchant
from orders.models import Order, SyncRun
from sandbox.demo.scenario import ALIASES, SHIP_CODES, SHIPPING_PLAN
from sandbox.demo.sides import CARTS, WAREHOUSES, DemoCart, DemoWarehouse
from sandbox.run_settings import settings_applied
from sandbox.wiring import ANY_RATE_PER_MINUTE, SandboxMerchant, merchant_wire_sandboxes
from sync.cycle import cart_connection_sync_orders
from sync.reconcile.result import ConnectionResult
from sync.reconcile.result import totals as reconcile_totals
from sync.reconcile.run import reconcile
from sync.return_path import inventory_sync, shipments_sync

DEFAULT_CART, DEFAULT_WAREHOUSE = "squarespace", "bergen"
# The local staff login of `make demo` and `make run`: documented, for a local database only.
DEMO_ADMIN = ("admin", "orderbridge-demo")
RECONCILE_DAYS = 7  # what the daily reconciliation reads; the scenario's orders changed within a day


@dataclass
class DemoResult:
    merchant: Merchant
    runs: list[SyncRun] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    reconciliation: list[ConnectionResult] = field(default_factory=list)


def merchant_slug(cart: str, warehouse: str) -> str:
    if (cart, warehouse) == (DEFAULT_CART, DEFAULT_WAREHOUSE):
        return "demo"
    return f"demo-{cart}-{warehouse}".replace("_", "-")


def wire_demo_merchant(cart_side: DemoCart, wms_side: DemoWarehouse) -> CartConnection:
    """Create the pair's demo merchant once; point its connections at this run's sandbox ports."""
    slug = merchant_slug(cart_side.platform, wms_side.platform)
    return merchant_wire_sandboxes(
        merchant=SandboxMerchant(
            slug=slug,
            name=f"Demo Merchant ({slug})",
            contact_email="ops@demo.example",
            cart_name="Demo store (sandbox)",
            warehouse_name="Demo warehouse (sandbox)",
        ),
        cart=cart_side.account(),
        warehouse=wms_side.account(),
        earliest_order_date=(timezone.now() - timedelta(days=cart_side.earliest_days)).date(),
        ship_codes={cart_side.method_names[kind]: code for kind, code in SHIP_CODES.items()},
        sku_aliases=ALIASES,
        requests_per_minute=ANY_RATE_PER_MINUTE,  # every demo sandbox is started without a rate limit
    )


def ship_delivered_orders(cart: CartConnection, wms_side: DemoWarehouse) -> int:
    """The warehouse ships what the plan says, for the orders it holds; returns parcels shipped."""
    shipped_at = timezone.now() - timedelta(minutes=5)
    parcels = 0
    for order in Order.objects.filter(cart_connection=cart, order_number__in=list(SHIPPING_PLAN)):
        if order.cust_ref and wms_side.holds(order.cust_ref):
            plan = SHIPPING_PLAN[order.order_number]
            wms_side.ship(order.cust_ref, plan, shipped_at)
            parcels += len(plan)
    return parcels


def run_demo(cart_platform: str = DEFAULT_CART, wms_platform: str = DEFAULT_WAREHOUSE, *, say=print) -> DemoResult:
    cart_side, wms_side = CARTS[cart_platform](cart_platform), WAREHOUSES[wms_platform](wms_platform)
    with cart_side.sandbox, wms_side.sandbox:
        cart_side.seed()
        wms_side.seed()
        cart = wire_demo_merchant(cart_side, wms_side)
        merchant = cart.merchant
        say(
            f"Sandboxes: {cart_platform} at {cart_side.sandbox.base_url}, {wms_platform} at {wms_side.sandbox.base_url}"
        )
        order_run = cart_connection_sync_orders(connection=cart)
        parcels = ship_delivered_orders(cart, wms_side)
        say(f"The warehouse sandbox shipped {parcels} parcel(s).")
        # The warehouse shipped a moment ago: read up to now rather than waiting out the import lag.
        with settings_applied(ORDER_IMPORT_LAG_SECONDS=0):
            return_runs = shipments_sync(connections=[cart]) + inventory_sync(connections=[cart])
        totals: dict[str, int] = {}
        for run in return_runs:
            for key, value in run.counts.items():
                totals[key] = totals.get(key, 0) + int(value)
        counts = {
            "imported": order_run.counts.get("imported", 0),
            "delivered": order_run.counts.get("delivered", 0),
            "held": order_run.counts.get("held", 0),
            "skipped": order_run.counts.get("skipped", 0),
            "warehouse_orders": wms_side.received(),
            "warehouse_duplicates": wms_side.duplicates(),
            "shipments_imported": totals.get("shipments", 0),
            "shipments_pushed": totals.get("shipments_pushed", 0),
            "tracking_duplicates": cart_side.tracking_duplicates(),
            "inventory_pushed": totals.get("inventory_pushed", 0),
        }
        # The standing proof, asked of both sandboxes before they stop.
        reconciliation = reconcile(connection_id=cart.pk, days=RECONCILE_DAYS)
    return DemoResult(merchant=merchant, runs=[order_run, *return_runs], counts=counts, reconciliation=reconciliation)


def reconcile_counts(result: DemoResult) -> dict[str, int]:
    """The demo's reconciliation counts, with the keys `manage.py reconcile --json` prints."""
    return reconcile_totals(results=result.reconciliation)


def demo_admin_login() -> tuple[str, str]:
    """The local superuser (``DEMO_ADMIN``), created only when the database has no superuser;
    ("", "") when it has another one."""
    User = get_user_model()
    if User.objects.filter(username=DEMO_ADMIN[0], is_superuser=True).exists():
        return DEMO_ADMIN
    if User.objects.filter(is_superuser=True).exists():
        return "", ""
    User.objects.create_superuser(DEMO_ADMIN[0], "admin@demo.example", DEMO_ADMIN[1])
    return DEMO_ADMIN
