"""`manage.py serve_sandboxes`: the platform sandboxes on fixed loopback ports until SIGINT or SIGTERM.

Their records are read from the state file at start (seeded with the demo scenario when it has none)
and written back whenever they changed and on exit; the demo merchants are wired to them when the
database has no merchant. `manage.py run_local` (`make run`) runs this beside the worker and the web
server.
"""

from __future__ import annotations

import signal
import threading
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from sandbox.local import local_merchants_wire, local_sides
from sandbox.state import StateFile, StateFileError, sandbox_restore

READY = "Sandboxes ready."


class Command(BaseCommand):
    help = "Serve the local platform sandboxes on fixed ports until stopped, keeping their records in a file."

    def add_arguments(self, parser):
        parser.add_argument(
            "--state-file",
            type=Path,
            default=None,
            help="Where the sandboxes' records are kept (default: the SANDBOX_STATE_FILE setting, var/sandboxes.json).",
        )
        parser.add_argument(
            "--save-every", type=float, default=2.0, help="Seconds between checks for changes to write (default 2)."
        )
        parser.add_argument(
            "--no-wire", action="store_true", help="Leave the database alone: do not create or re-point demo merchants."
        )

    def handle(self, *args, state_file=None, save_every=2.0, no_wire=False, **options):
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        state = StateFile(state_file or settings.RUN_SANDBOX_STATE_FILE)
        try:
            stored = state.load()
        except StateFileError as exc:
            raise CommandError(str(exc)) from None
        sides = local_sides(settings.RUN_SANDBOX_PORTS)
        sandboxes = {name: side.sandbox for name, side in sides.items()}
        for name, side in sides.items():
            if name in stored:
                sandbox_restore(side.sandbox, stored[name])
            else:
                side.seed()
        serving = False
        try:
            for name, side in sides.items():
                self._start(name, side.sandbox)
                how = "records restored" if name in stored else "seeded with the demo scenario"
                self.stdout.write(f"{name} sandbox at {side.sandbox.base_url} ({how})")
            serving = True
            if not no_wire:
                self._wire(sides)
            state.save(sandboxes)
            self.stdout.write(f"{READY} Records kept in {state.path}")
            self.stdout.flush()
            while not stop.wait(save_every):
                state.save(sandboxes)
        finally:
            for sandbox in sandboxes.values():
                sandbox.stop()
            # Only a set that was served is written: one that failed to start keeps the file as it was.
            if serving and state.save(sandboxes):
                self.stdout.write(f"Sandbox records saved to {state.path}")
        self.stdout.write("Sandboxes stopped.")

    def _start(self, name: str, sandbox) -> None:
        try:
            sandbox.start()
        except OSError as exc:
            raise CommandError(
                f"The {name} sandbox cannot listen on 127.0.0.1:{sandbox.port} ({exc.strerror}): is `make run` "
                f"already running? Stop it, or set SANDBOX_PORT_{name.upper()} to a free port."
            ) from None

    def _wire(self, sides) -> None:
        connections, created = local_merchants_wire(sides)
        for connection in connections:
            verb = "created" if created else "pointed again"
            self.stdout.write(
                f"Demo merchant {connection.merchant.slug} {verb}: {connection.platform} cart to "
                f"{connection.warehouse.platform} warehouse at these sandboxes"
            )
