"""`manage.py reconcile`: the standing proof that every cart order of the window was delivered once,
held or skipped, each gap named with what to do. With --json, one object as the last line."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from sync.reconcile.result import CLASSES, ConnectionResult, totals
from sync.reconcile.run import DEFAULT_DAYS, reconcile


class Command(BaseCommand):
    help = "Check each cart connection's orders of the last days against our orders and the warehouse's."

    def add_arguments(self, parser):
        parser.add_argument("--merchant", metavar="SLUG", help="Only this merchant's connections.")
        parser.add_argument("--connection", metavar="ID", type=int, help="Only this cart connection.")
        parser.add_argument("--days", type=int, default=DEFAULT_DAYS, help="How far back to look (default 7).")
        parser.add_argument("--json", action="store_true", help="End with one JSON object (for machines).")

    def handle(self, *args, **options):
        if options["days"] < 1:
            raise CommandError("--days must be at least 1.")
        progress = None if options["json"] else (lambda text: self.stderr.write(f"  … {text}"))
        results = reconcile(
            merchant_slug=options.get("merchant"),
            connection_id=options.get("connection"),
            days=options["days"],
            progress=progress,
        )
        if not results:
            raise CommandError("No active cart connection matches.")
        summed = totals(results=results)
        if options["json"]:
            self.stdout.write(json.dumps({**summed, "results": [r.as_dict() for r in results]}))
        else:
            for result in results:
                self.print_result(result)
            self.stdout.write(
                f"\n{summed['connections']} connection(s), {summed['cart_orders']} cart order(s), "
                f"{summed['gaps']} gap(s), {summed['unreadable']} not readable."
            )
        if summed["unreadable"]:
            raise CommandError(f"{summed['unreadable']} connection(s) could not be read: nothing is proven for them.")

    def print_result(self, result: ConnectionResult) -> None:
        title = f"{result.merchant} · {result.label} · {result.window_start:%Y-%m-%d} to {result.window_end:%Y-%m-%d}"
        if not result.readable:
            self.stdout.write(self.style.ERROR(f"{title}: NOT READ, nothing proven"))
            self.stdout.write(f"  ! {result.error}")
            return
        counts = result.counts()
        if result.clean:
            self.stdout.write(self.style.SUCCESS(f"{title}: all {counts['cart_orders']} order(s) accounted for"))
        else:
            self.stdout.write(self.style.WARNING(f"{title}: {counts['gaps']} gap(s)"))
        self.stdout.write("  " + ", ".join(f"{key.replace('_', ' ')} {counts[key]}" for key in CLASSES))
        for gap in result.gaps:
            self.stdout.write(f"  ! #{gap.order_number} {gap.category.replace('_', ' ')}: {gap.reason}")
            self.stdout.write(f"    what to do: {gap.action}")
        for note in result.notes:
            self.stdout.write(f"  {note}")
