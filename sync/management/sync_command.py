"""What the sync commands share: selecting connections, printing runs, --json, the exit code."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from integrations.models import SyncOutcome
from orders.models import SyncRun
from sync.cycle import cart_connections_for_sync


class SyncCommand(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--merchant", metavar="SLUG", help="Only this merchant's connections.")
        parser.add_argument("--connection", metavar="ID", type=int, help="Only this cart connection.")
        parser.add_argument("--json", action="store_true", help="Print one JSON object (for machines).")

    def connections(self, options) -> list:
        connections = list(
            cart_connections_for_sync(merchant_slug=options.get("merchant"), connection_id=options.get("connection"))
        )
        if not connections:
            raise CommandError("No active cart connection matches.")
        return connections

    def progress(self, options):
        if options.get("json"):
            return None
        return lambda text: self.stderr.write(f"  … {text}")

    def run_cycle(self, options) -> list[SyncRun]:
        raise NotImplementedError

    def handle(self, *args, **options):
        runs = self.run_cycle(options)
        results = [run_result(run) for run in runs]
        failed = [r for r in results if r["status"] == SyncOutcome.FAILED]
        if options.get("json"):
            self.stdout.write(json.dumps({"runs": results, "failed": len(failed)}, default=str))
        else:
            for result in results:
                self.print_result(result)
        if failed:
            raise CommandError(f"{len(failed)} sync run(s) failed: see the messages above.")

    def print_result(self, result: dict) -> None:
        style = {
            SyncOutcome.SUCCEEDED: self.style.SUCCESS,
            SyncOutcome.PARTIAL: self.style.WARNING,
            SyncOutcome.THROTTLED: self.style.WARNING,
            SyncOutcome.NOT_SUPPORTED: self.style.NOTICE,
        }.get(result["status"], self.style.ERROR)
        title = f"{result['kind']} · {result['merchant']} · {result['connection']}: {result['status']}"
        self.stdout.write(style(title))
        counts = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in result["counts"].items() if k != "pages")
        self.stdout.write(f"  {counts or 'nothing to do'}")
        for line in filter(None, result["error"].splitlines()):
            self.stdout.write(f"  ! {line}")


def run_result(run: SyncRun) -> dict:
    connection = run.cart_connection or run.warehouse
    return {
        "run": run.pk,
        "kind": run.kind,
        "merchant": connection.merchant.slug if connection else "",
        "connection": f"{connection.platform} #{connection.pk}" if connection else "",
        "connection_id": connection.pk if connection else None,
        "side": "cart" if run.cart_connection_id else "warehouse",
        "status": run.status,
        "counts": run.counts,
        "error": run.error,
    }
