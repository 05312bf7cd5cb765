"""`manage.py setup_schedules`: make the django-q2 schedules match the connections (idempotent)."""

from django.core.management.base import BaseCommand

from sync.schedules import schedules_reconcile


class Command(BaseCommand):
    help = "Create, update and delete the sync schedules so they match the active connections."

    def handle(self, *args, **options):
        counts = schedules_reconcile()
        self.stdout.write(
            "schedules: {created} created, {updated} updated, {deleted} deleted, {unchanged} unchanged".format(**counts)
        )
