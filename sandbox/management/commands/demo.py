"""`manage.py demo`: start the sandboxes, wire the demo merchant to them, run one sync, report."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from orders.models import Order, OrderStatus, SkippedOrder
from orders.services.sync import cart_connection_sync_orders, inventory_sync, shipments_sync
from sandbox.bergen import BergenSandbox
from sandbox.demo import seed_sandboxes, ship_delivered_orders, wire_demo_merchant
from sandbox.squarespace import SquarespaceSandbox

DEMO_ADMIN = ("admin", "orderbridge-demo")


class Command(BaseCommand):
    help = "Run one full order sync for a demo merchant wired to local Squarespace and Bergen sandboxes."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="End with one JSON object of counts.")

    def handle(self, *args, json=False, **options):
        call_command("migrate", interactive=False, verbosity=0)
        with SquarespaceSandbox(rate_limit_per_minute=None) as squarespace, BergenSandbox() as bergen:
            seed_sandboxes(squarespace, bergen)
            merchant, cart, wms = wire_demo_merchant(
                squarespace_url=squarespace.base_url, squarespace=squarespace, bergen_url=bergen.base_url, bergen=bergen
            )
            self.say(json, f"Sandboxes: Squarespace at {squarespace.base_url}, Bergen at {bergen.base_url}")
            run = cart_connection_sync_orders(connection=cart)
            parcels = ship_delivered_orders(bergen)
            self.say(json, f"The warehouse sandbox shipped {parcels} parcel(s).")
            return_runs = shipments_sync(connections=[cart]) + inventory_sync(connections=[cart])
            duplicates = bergen.duplicate_count()
            received = len(bergen.orders)
            tracking_duplicates = sum(
                len(numbers) - len(set(numbers))
                for numbers in (
                    [s["trackingNumber"] for s in squarespace.fulfillments_for(order_id)]
                    for order_id in squarespace.orders
                )
            )
        counts = run.counts
        returns = {}
        for return_run in return_runs:
            for key, value in return_run.counts.items():
                returns[key] = returns.get(key, 0) + value
        result = {
            "imported": counts.get("imported", 0),
            "delivered": counts.get("delivered", 0),
            "held": counts.get("held", 0),
            "skipped": counts.get("skipped", 0),
            "warehouse_orders": received,
            "warehouse_duplicates": duplicates,
            "shipments_imported": returns.get("shipments", 0),
            "shipments_pushed": returns.get("shipments_pushed", 0),
            "tracking_duplicates": tracking_duplicates,
            "inventory_pushed": returns.get("inventory_pushed", 0),
        }
        if not json:
            self.report(merchant, [run, *return_runs], result)
        else:
            self.stdout.write(_dumps(result))

    def say(self, quiet: bool, text: str) -> None:
        if not quiet:
            self.stdout.write(text)

    def report(self, merchant, runs, result: dict) -> None:
        w = self.stdout.write
        w(self.style.MIGRATE_HEADING(f"\nSync of {merchant.name}:"))
        for run in runs:
            side = "cart" if run.cart_connection_id else "warehouse"
            w(f"  {run.kind} ({side}) run #{run.pk}: {run.get_status_display()}")
            for line in filter(None, run.error.splitlines()):
                w(f"    ! {line}")
        w(
            f"\n  orders: imported {result['imported']}, delivered {result['delivered']}, held {result['held']}, "
            f"skipped {result['skipped']}, duplicates at the warehouse {result['warehouse_duplicates']}"
        )
        w(
            f"  tracking: {result['shipments_imported']} parcel(s) read from the warehouse, "
            f"{result['shipments_pushed']} accepted by the cart"
        )
        w(f"  inventory: {result['inventory_pushed']} level(s) accepted by the cart")
        held = Order.objects.filter(merchant=merchant, status=OrderStatus.ERROR).order_by("order_number")
        if held:
            w(self.style.WARNING("\nHeld orders (fix the cause, then use the admin's Retry action):"))
            for order in held:
                w(f"  #{order.order_number} [{order.hold_code}] {order.hold_reason}")
        skipped = SkippedOrder.objects.filter(cart_connection__merchant=merchant).order_by("order_number")
        if skipped:
            w("\nSkipped at the cart:")
            for entry in skipped:
                w(f"  #{entry.order_number} [{entry.reason_code}] {entry.reason}")
        delivered = Order.objects.filter(merchant=merchant, warehouse_order_id__gt="").order_by("order_number")
        if delivered:
            w(self.style.SUCCESS("\nSent to the warehouse:"))
            for order in delivered:
                shipped = " (partially shipped)" if order.partially_shipped else ""
                w(f"  #{order.order_number} as cust_ref {order.cust_ref}: {order.get_status_display()}{shipped}")
        user, password = self.admin_login()
        w(
            "\nOpen the admin: python manage.py runserver, then http://127.0.0.1:8000/admin/"
            + (f" (user {user}, password {password})" if password else "")
        )

    def admin_login(self) -> tuple[str, str]:
        """A local superuser for the demo, created only when the database has none."""
        User = get_user_model()
        if User.objects.filter(is_superuser=True).exists():
            if User.objects.filter(username=DEMO_ADMIN[0], is_superuser=True).exists():
                return DEMO_ADMIN
            return "", ""
        User.objects.create_superuser(DEMO_ADMIN[0], "admin@demo.example", DEMO_ADMIN[1])
        return DEMO_ADMIN


def _dumps(value: dict) -> str:
    return json.dumps(value)
