"""`manage.py bench_dashboard`: the admin's first page at fleet size (see sandbox/bench/dashboard.py)."""

from __future__ import annotations

import json

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from sandbox.bench.dashboard import DashboardSpec, dashboard_benchmark
from sandbox.bench.measure import BenchRefused


class Command(BaseCommand):
    help = (
        "Seed M merchants (F failing, H holding an order, the rest healthy) and time the admin's first page: "
        "seconds (best of three), queries, HTML size and the merchant cards shown. Run it on a throwaway "
        "database: it refuses one with other merchants."
    )

    def add_arguments(self, parser):
        parser.add_argument("--merchants", type=int, default=10000, help="M: merchants in the fleet.")
        parser.add_argument("--failing", type=int, default=50, help="F: merchants with a failing cart connection.")
        parser.add_argument("--holding", type=int, default=200, help="H: merchants with a held order.")
        parser.add_argument("--json", action="store_true", help="End with one JSON object of the figures.")

    def handle(self, *args, merchants, failing, holding, json=False, **options):
        if merchants < 1 or failing < 0 or holding < 0 or failing + holding > merchants:
            raise CommandError("give --merchants ≥ 1 and --failing + --holding ≤ --merchants")
        call_command("migrate", interactive=False, verbosity=0)
        try:
            figures = dashboard_benchmark(DashboardSpec(merchants=merchants, failing=failing, holding=holding))
        except BenchRefused as exc:
            raise CommandError(str(exc)) from exc
        for name, value in figures.items():
            self.stdout.write(f"{name}: {value}")
        if json:
            self.stdout.write(_dumps(figures))


def _dumps(figures: dict) -> str:
    return json.dumps(figures)
