"""`manage.py bench_fleet`: M merchants synced by the scheduler and one qcluster (see docs/benchmark.md)."""

from __future__ import annotations

import json

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from sandbox.bench.fleet import FleetOptions, FleetRefused, run_fleet


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


def _positive_minutes(text: str) -> float:
    value = float(text)
    if not 0 < value <= 8:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = (
        "Run M merchants against the multi-account sandboxes (every answer L ms late) with the scheduler and one "
        "qcluster (two workers, --workers) on the configured database; place R orders a minute for T minutes, "
        "wait until they are at the warehouse, and print the figures (the last line is JSON with --json). Use a "
        "database of its own: it refuses one with other merchants."
    )

    def add_arguments(self, parser):
        parser.add_argument("--merchants", type=_positive, required=True, help="M: merchants, one account each.")
        parser.add_argument("--minutes", type=_positive_minutes, required=True, help="T: minutes of placing (<= 8).")
        parser.add_argument("--latency-ms", type=int, default=100, help="L: ms every sandbox answer waits.")
        parser.add_argument("--orders-per-minute", type=_positive, default=300, help="R: orders placed a minute.")
        parser.add_argument("--no-webhooks", action="store_true", help="Orders found by polling only.")
        parser.add_argument(
            "--poll-minutes", type=_positive, default=5, help="Each connection's orders polling interval."
        )
        parser.add_argument("--workers", type=_positive, default=2, help="The qcluster's worker processes (Q_WORKERS).")
        parser.add_argument("--json", action="store_true", help="End with one JSON object of the figures.")

    def handle(self, *args, **options):
        if options["latency_ms"] < 0:
            raise CommandError("--latency-ms must be 0 or more")
        call_command("migrate", interactive=False, verbosity=0)
        fleet = FleetOptions(
            merchants=options["merchants"],
            minutes=options["minutes"],
            latency_ms=options["latency_ms"],
            orders_per_minute=options["orders_per_minute"],
            webhooks=not options["no_webhooks"],
            poll_minutes=options["poll_minutes"],
            workers=options["workers"],
        )
        try:
            figures = run_fleet(fleet, say=lambda text: self.stderr.write(text))
        except FleetRefused as exc:
            raise CommandError(str(exc)) from exc
        for name, value in figures.items():
            self.stdout.write(f"{name:36} {value}")
        if options["json"]:
            self.stdout.write(json.dumps(figures))
        problems = [
            f"{figures[name]} {name}"
            for name in ("lost", "warehouse_duplicates", "rate_limit_violations")
            if figures[name]
        ]
        if not figures["drained"]:
            problems.append("not every placed order reached the warehouse within the 10-minute budget")
        if problems:
            raise CommandError("the fleet run was not clean: " + "; ".join(problems))
