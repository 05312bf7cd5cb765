"""`manage.py sync_orders`: pull new orders from every active cart connection and deliver them."""

from sync.cycle import cart_connection_sync_orders
from sync.management.sync_command import SyncCommand


class Command(SyncCommand):
    help = "Import new orders from cart connections and deliver them to the merchant's warehouse."

    def run_cycle(self, options):
        progress = self.progress(options)
        return [cart_connection_sync_orders(connection=c, progress=progress) for c in self.connections(options)]
