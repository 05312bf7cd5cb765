"""`manage.py demo`: start the sandboxes, wire the demo merchant to them, run one sync, report."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from orders.models import Order, OrderStatus, SkippedOrder
from orders.services.sync import cart_connection_sync_orders
from sandbox.bergen import BergenSandbox
from sandbox.demo import seed_sandboxes, wire_demo_merchant
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
            duplicates = bergen.duplicate_count()
            received = len(bergen.orders)
        counts = run.counts
        result = {
            "imported": counts.get("imported", 0),
            "delivered": counts.get("delivered", 0),
            "held": counts.get("held", 0),
            "skipped": counts.get("skipped", 0),
            "warehouse_orders": received,
            "warehouse_duplicates": duplicates,
        }
        if not json:
            self.report(merchant, run, result)
        else:
            self.stdout.write(_dumps(result))

    def say(self, quiet: bool, text: str) -> None:
        if not quiet:
            self.stdout.write(text)

    def report(self, merchant, run, result: dict) -> None:
        w = self.stdout.write
        w(self.style.MIGRATE_HEADING(f"\nSync run #{run.pk} for {merchant.name}: {run.get_status_display()}"))
        w(f"  imported {result['imported']}, delivered {result['delivered']}, held {result['held']}, "
          f"skipped {result['skipped']}, duplicates at the warehouse {result['warehouse_duplicates']}")
        for line in filter(None, run.error.splitlines()):
            w(f"  ! {line}")
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
        delivered = Order.objects.filter(merchant=merchant, status=OrderStatus.AT_WMS).order_by("order_number")
        if delivered:
            w(self.style.SUCCESS("\nAt the warehouse:"))
            for order in delivered:
                w(f"  #{order.order_number} as cust_ref {order.cust_ref} (warehouse order {order.warehouse_order_id})")
        user, password = self.admin_login()
        w("\nOpen the admin: python manage.py runserver, then http://127.0.0.1:8000/admin/" +
          (f" (user {user}, password {password})" if password else ""))

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
