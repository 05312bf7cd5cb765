"""`manage.py tenancy_audit`: list the stored rows that link rows of two merchants.

Saving such a row is refused (see `integrations.tenancy`), but rows stored before that was so, or
written by something that bypasses `save()` (`QuerySet.update`, raw SQL), may remain. The sync
refuses to act on them; this command finds them all, so that a person can correct them. It exits
non-zero when it finds any.
"""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from integrations.tenancy import tenancy_audit


class Command(BaseCommand):
    help = "List the rows that link rows of two merchants (a cart connection to another merchant's warehouse...)."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="Print one JSON object (for machines).")
        parser.add_argument("--sample", type=int, default=20, help="Rows described per model (default 20).")

    def handle(self, *args, **options):
        found = tenancy_audit(sample=options["sample"])
        total = sum(entry["count"] for entry in found.values())
        if options["json"]:
            self.stdout.write(json.dumps({"violations": found, "total": total}))
        else:
            self._print(found)
        if total:
            raise CommandError(
                f"{total} row(s) link rows of two merchants: correct each (the sync refuses to act on them)."
            )

    def _print(self, found: dict) -> None:
        if not found:
            self.stdout.write(self.style.SUCCESS("Every row links rows of its own merchant only."))
        for label, entry in found.items():
            self.stdout.write(self.style.ERROR(f"{label}: {entry['count']} row(s) link another merchant's rows"))
            for row in entry["rows"]:
                self.stdout.write(f"  {row}")
