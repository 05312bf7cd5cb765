"""`manage.py sync_orders`: pull new orders from every active cart connection and deliver them."""

from orders.management.sync_command import SyncCommand
from orders.services.sync import cart_connection_sync_orders


class Command(SyncCommand):
    help = "Import new orders from cart connections and deliver them to the merchant's warehouse."

    def run_cycle(self, options):
        progress = self.progress(options)
        return [cart_connection_sync_orders(connection=c, progress=progress) for c in self.connections(options)]
