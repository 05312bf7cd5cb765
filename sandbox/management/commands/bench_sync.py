"""`manage.py bench_sync`: what one order sync costs us, measured against the API floor (see docs/benchmark.md)."""

from __future__ import annotations

import json

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from sandbox.bench.measure import BenchRefused, run_benchmark
from sandbox.bench.report import summary_lines


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value


class Command(BaseCommand):
    help = (
        "Seed the Squarespace and Bergen sandboxes (in their own process) with N orders and M SKUs, then measure "
        "the order sync into a database without orders against the API floor, the inventory sync and its rerun, "
        "and the admin's order list. Run it on a throwaway database: it refuses one with other merchants' orders."
    )

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=_positive, default=5000, help="N: open orders at the cart.")
        parser.add_argument("--skus", type=_positive, default=20000, help="M: SKUs at the warehouse and the cart.")
        parser.add_argument("--json", action="store_true", help="End with one JSON object of the figures.")
        parser.add_argument(
            "--profile",
            metavar="DIR",
            help="Profile the sync and the inventory runs with cProfile into DIR/<step>.prof (inflates their times).",
        )

    def handle(self, *args, orders, skus, json=False, profile=None, **options):
        call_command("migrate", interactive=False, verbosity=0)
        try:
            result = run_benchmark(
                orders=orders, skus=skus, say=lambda text: self.stderr.write(text), profile_dir=profile
            )
        except BenchRefused as exc:
            raise CommandError(str(exc)) from exc
        if result.profile_text:
            self.stderr.write(result.profile_text)
        for line in summary_lines(result.figures, result.sync_statements, result.problems):
            self.stdout.write(line)
        if json:
            self.stdout.write(_dumps(result.figures))
        if result.problems:
            raise CommandError("the benchmark run was not clean: " + "; ".join(result.problems))


def _dumps(figures: dict) -> str:
    return json.dumps(figures)
