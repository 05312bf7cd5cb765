"""`manage.py demo`: start a cart's and a warehouse's sandboxes, wire a demo merchant, run a cycle."""

from __future__ import annotations

import json

from django.core.management import call_command
from django.core.management.base import BaseCommand

from orders.models import Order, OrderStatus, SkippedOrder
from sandbox.demo import DEFAULT_CART, DEFAULT_WAREHOUSE, demo_admin_login, reconcile_counts, run_demo
from sandbox.demo.sides import CARTS, WAREHOUSES


class Command(BaseCommand):
    help = "Run one whole sync cycle for a demo merchant wired to local platform sandboxes."

    def add_arguments(self, parser):
        parser.add_argument("--cart", choices=sorted(CARTS), default=DEFAULT_CART, help="The cart platform.")
        parser.add_argument("--wms", choices=sorted(WAREHOUSES), default=DEFAULT_WAREHOUSE, help="The warehouse.")
        parser.add_argument("--json", action="store_true", help="End with one JSON object of counts.")

    def handle(self, *args, cart=DEFAULT_CART, wms=DEFAULT_WAREHOUSE, json=False, **options):
        call_command("migrate", interactive=False, verbosity=0)
        result = run_demo(cart, wms, say=(lambda text: None) if json else self.stdout.write)
        if json:
            self.stdout.write(_dumps({**result.counts, "reconcile": reconcile_counts(result)}))
        else:
            self.report(result)

    def report(self, result) -> None:
        w, merchant, counts = self.stdout.write, result.merchant, result.counts
        w(self.style.MIGRATE_HEADING(f"\nSync of {merchant.name}:"))
        for run in result.runs:
            side = "cart" if run.cart_connection_id else "warehouse"
            w(f"  {run.kind} ({side}) run #{run.pk}: {run.get_status_display()}")
            for line in filter(None, run.error.splitlines()):
                w(f"    ! {line}")
        w(
            f"\n  orders: imported {counts['imported']}, delivered {counts['delivered']}, held {counts['held']}, "
            f"skipped {counts['skipped']}, duplicates at the warehouse {counts['warehouse_duplicates']}"
        )
        w(
            f"  tracking: {counts['shipments_imported']} parcel(s) read from the warehouse, "
            f"{counts['shipments_pushed']} accepted by the cart, duplicates at the cart {counts['tracking_duplicates']}"
        )
        w(f"  inventory: {counts['inventory_pushed']} level(s) accepted by the cart")
        self.report_reconciliation(result)
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
        user, password = demo_admin_login()
        w(
            "\nOpen the admin: python manage.py runserver, then http://127.0.0.1:8000/admin/"
            + (f" (user {user}, password {password} unless you changed it)" if password else "")
        )

    def report_reconciliation(self, result) -> None:
        """The reconciliation run at the end, while the sandboxes were up: all accounted for, or the gaps."""
        w, summed = self.stdout.write, reconcile_counts(result)
        title = (
            f"\n  reconciliation: {summed['cart_orders']} cart order(s): {summed['delivered_once']} delivered once, "
            f"{summed['held']} held, {summed['skipped']} skipped, {summed['in_progress']} in progress, "
            f"{summed['gaps']} gap(s)"
        )
        w(self.style.SUCCESS(title) if summed["gaps"] == 0 and not summed["unreadable"] else self.style.WARNING(title))
        for connection in result.reconciliation:
            if connection.error:
                w(f"    ! not read: {connection.error}")
            for gap in connection.gaps:
                w(f"    ! #{gap.order_number} {gap.category.replace('_', ' ')}: {gap.reason} {gap.action}")


def _dumps(value: dict) -> str:
    return json.dumps(value)
