"""`manage.py sync_inventory`: read stock from the warehouses and push levels to the carts."""

from sync.management.sync_command import SyncCommand
from sync.return_path import inventory_sync


class Command(SyncCommand):
    help = "Read stock levels from each warehouse once, then push changed levels to each cart connection."

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.add_argument("--full", action="store_true", help="Push every level, changed or not.")
        parser.add_argument(
            "--read-catalog",
            action="store_true",
            help="Read each cart's item list even if it was read recently (new items at the cart).",
        )

    def run_cycle(self, options):
        return inventory_sync(
            connections=self.connections(options),
            full=options.get("full", False),
            read_catalog=options.get("read_catalog", False),
            progress=self.progress(options),
        )
