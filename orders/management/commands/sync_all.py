"""`manage.py sync_all`: the whole cycle, in order: orders in and out, tracking back, inventory back."""

from orders.management.sync_command import SyncCommand
from orders.services.sync import cart_connection_sync_orders, inventory_sync, shipments_sync


class Command(SyncCommand):
    help = "Run the whole cycle: orders, then shipments, then inventory."

    def run_cycle(self, options):
        connections = self.connections(options)
        progress = self.progress(options)
        runs = [cart_connection_sync_orders(connection=c, progress=progress) for c in connections]
        runs += shipments_sync(connections=connections, progress=progress)
        runs += inventory_sync(connections=connections, progress=progress)
        return runs
