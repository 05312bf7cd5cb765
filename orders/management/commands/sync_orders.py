"""`manage.py sync_orders`: pull new orders from every active cart connection and deliver them."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from integrations.models import SyncOutcome
from orders.services.sync import cart_connection_sync_orders, cart_connections_for_sync


class Command(BaseCommand):
    help = "Import new orders from cart connections and deliver them to the merchant's warehouse."

    def add_arguments(self, parser):
        parser.add_argument("--merchant", metavar="SLUG", help="Only this merchant's connections.")
        parser.add_argument("--connection", metavar="ID", type=int, help="Only this cart connection.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object (for machines).")

    def handle(self, *args, merchant=None, connection=None, json=False, **options):
        connections = list(cart_connections_for_sync(merchant_slug=merchant, connection_id=connection))
        if not connections:
            raise CommandError("No active cart connection matches.")
        results = []
        for conn in connections:
            label = f"{conn.merchant.slug} / {conn.platform} #{conn.pk}"
            progress = None if json else (lambda text, label=label: self.stderr.write(f"  {label}: {text}"))
            run = cart_connection_sync_orders(connection=conn, progress=progress)
            results.append(run_result(conn, run))
            if not json:
                self.print_result(results[-1])
        failed = [r for r in results if r["status"] == SyncOutcome.FAILED]
        if json:
            self.stdout.write(dumps({"connections": results, "failed": len(failed)}))
        if failed:
            raise CommandError(f"{len(failed)} connection(s) could not be synced.")

    def print_result(self, result: dict) -> None:
        counts = result["counts"]
        style = {
            SyncOutcome.SUCCEEDED: self.style.SUCCESS,
            SyncOutcome.PARTIAL: self.style.WARNING,
            SyncOutcome.THROTTLED: self.style.WARNING,
        }.get(result["status"], self.style.ERROR)
        self.stdout.write(
            style(f"{result['merchant']} · {result['platform']} #{result['connection']}: {result['status']}")
        )
        self.stdout.write(
            "  imported {imported}, updated {updated}, skipped {skipped}, held {held}, delivered {delivered}, "
            "retrying {retry}".format(
                **{k: counts.get(k, 0) for k in ("imported", "updated", "skipped", "held", "delivered", "retry")}
            )
        )
        for line in filter(None, result["error"].splitlines()):
            self.stdout.write(f"  ! {line}")


def run_result(conn, run) -> dict:
    return {
        "merchant": conn.merchant.slug,
        "connection": conn.pk,
        "platform": conn.platform,
        "run": run.pk,
        "status": run.status,
        "counts": run.counts,
        "error": run.error,
    }


def dumps(value) -> str:
    return json.dumps(value, default=str)
