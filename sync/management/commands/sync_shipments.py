"""`manage.py sync_shipments`: read shipments from the warehouses and tell the carts."""

from sync.management.sync_command import SyncCommand
from sync.return_path import shipments_sync


class Command(SyncCommand):
    help = "Read shipment tracking from each warehouse once, then push it to each cart connection."

    def run_cycle(self, options):
        return shipments_sync(connections=self.connections(options), progress=self.progress(options))
