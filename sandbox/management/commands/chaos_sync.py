"""`manage.py chaos_sync`: prove "never lost, never sent twice" under faults, crashes and concurrency."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from sandbox.chaos.harness import ChaosOptions, run_chaos


class Command(BaseCommand):
    help = (
        "Run the whole sync cycle for a fresh chaos merchant in worker processes against sandboxes that "
        "inject faults, SIGKILL workers along the way, and check that every order was delivered once or "
        "held and every parcel's tracking reached the cart once; with --cancel-rate and --edit-rate, that "
        "every order the cart canceled or changed was either stopped or changed at the warehouse, or flagged. "
        "Exits non-zero when not."
    )

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, default=200, help="Open orders at the cart (a tenth invalid).")
        parser.add_argument("--fault-rate", type=float, default=0.2, help="Share of requests that fail (0-1).")
        parser.add_argument("--kills", type=int, default=3, help="Workers to SIGKILL (and restart) during the run.")
        parser.add_argument("--workers", type=int, default=1, help="Worker processes syncing at the same time.")
        parser.add_argument("--seed", type=int, default=None, help="Seed of the orders, faults and kills.")
        parser.add_argument("--time-limit", type=float, default=170.0, help="Give up after this many seconds.")
        parser.add_argument(
            "--accept-duplicate-references",
            action="store_true",
            help="The warehouse sandbox stores a second order under a reference it already has (as some "
            "warehouses do) instead of refusing it, so that a second send shows as a duplicate.",
        )
        parser.add_argument(
            "--cancel-rate",
            type=float,
            default=0.0,
            help="Share of valid orders the cart cancels during the run (0-1), at a random moment: before "
            "delivery, at the warehouse, once it is being picked, or after it shipped.",
        )
        parser.add_argument(
            "--edit-rate",
            type=float,
            default=0.0,
            help="Share of valid orders the cart edits during the run (0-1): ship-to street, a quantity or "
            "the shipping method, at a random moment as for --cancel-rate.",
        )
        parser.add_argument("--json", action="store_true", help="End with one JSON object of the outcome.")

    def handle(self, *args, **options):
        connection = connections["default"]
        if connection.vendor == "sqlite" and connection.is_in_memory_db():
            raise CommandError(
                "chaos_sync runs its workers in other processes: it needs a database they can open "
                "(an SQLite file or PostgreSQL), not an in-memory SQLite database."
            )
        if options["orders"] < 1 or options["workers"] < 1 or options["kills"] < 0:
            raise CommandError("--orders and --workers must be at least 1, --kills at least 0.")
        for name in ("fault_rate", "cancel_rate", "edit_rate"):
            if not 0 <= options[name] <= 1:
                raise CommandError(f"--{name.replace('_', '-')} must be between 0 and 1.")
        if options["cancel_rate"] + options["edit_rate"] > 1:
            raise CommandError("--cancel-rate and --edit-rate together must be at most 1 (one change per order).")
        chaos = ChaosOptions(
            orders=options["orders"],
            fault_rate=options["fault_rate"],
            kills=options["kills"],
            workers=options["workers"],
            seed=options["seed"],
            time_limit=options["time_limit"],
            accept_duplicate_references=options["accept_duplicate_references"],
            cancel_rate=options["cancel_rate"],
            edit_rate=options["edit_rate"],
        )
        result = run_chaos(chaos, say=lambda text: self.stderr.write(text))
        if options["json"]:
            self.stdout.write(json.dumps(result))
        else:
            self.report(result)
        if result["problems"]:
            raise CommandError("chaos run failed: " + "; ".join(result["problems"]))

    def report(self, result: dict) -> None:
        w = self.stdout.write
        w(
            f"{result['orders']} orders ({result['invalid']} invalid) in {result['seconds']} s on "
            f"{result['database']}, {result['workers']} worker(s), {result['kills']} kill(s), "
            f"{result['faults_total']} faults injected (seed {result['seed']}):"
        )
        refusing = "accepting" if result["accept_duplicate_references"] else "refusing"
        w(
            f"  delivered {result['delivered']}, held {result['held']}, lost {result['lost']}; at the warehouse "
            f"({refusing} repeated references): duplicates by reference {result['warehouse_duplicates']}, "
            f"by cart order {result['warehouse_duplicate_orders']}, canary "
            f"{'seen' if result['duplicate_canary_seen'] else 'NOT seen'}"
        )
        w(
            f"  tracking: {result['shipments_pushed']} of {result['parcels_shipped']} parcels pushed, "
            f"missing {result['tracking_missing']}, duplicates at the cart {result['tracking_duplicates']}"
        )
        w(
            f"  changes at the cart: {result['canceled_at_cart']} canceled ({result['canceled_in_time']} in time, "
            f"{result['canceled_too_late_flagged']} too late and flagged, {result['shipped_after_cancel_unflagged']} "
            f"shipped unflagged), {result['edited_at_cart']} edited ({result['edits_applied']} applied, "
            f"{result['edits_too_late_flagged']} too late and flagged); shipped stale unflagged "
            f"{result['shipped_stale_unflagged']}"
        )
        w(f"  faults by mode: {json.dumps(result['faults_injected'], sort_keys=True)}")
        if result["problems"]:
            for problem in result["problems"]:
                w(self.style.ERROR(f"  ! {problem}"))
        else:
            w(self.style.SUCCESS("  every order delivered once or held, every parcel's tracking at the cart once"))
