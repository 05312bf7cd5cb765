"""`manage.py sync_all`: the whole cycle, in order: orders in and out, tracking back, inventory back."""

from sync.cycle import cart_connection_sync_orders
from sync.management.sync_command import SyncCommand
from sync.return_path import inventory_sync, shipments_sync


class Command(SyncCommand):
    help = "Run the whole cycle: orders, then shipments, then inventory."

    def run_cycle(self, options):
        connections = self.connections(options)
        progress = self.progress(options)
        runs = [cart_connection_sync_orders(connection=c, progress=progress) for c in connections]
        runs += shipments_sync(connections=connections, progress=progress)
        runs += inventory_sync(connections=connections, progress=progress)
        return runs
