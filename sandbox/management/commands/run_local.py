"""`manage.py run_local` (`make run`): a local Orderbridge that stays up until Ctrl-C.

It migrates, then supervises three processes: the sandboxes (`serve_sandboxes`, on fixed loopback
ports, their records kept in a file), a django-q2 worker (`qcluster`) and the web server
(`runserver` on 127.0.0.1, port ``PORT``, 8000 unless set). The demo merchants are wired to the
sandboxes when the database has no merchant; the staff and merchant logins are printed.

Each child runs in its own process group, so nothing it started outlives it (the worker's processes,
the web server's autoreloader), and the terminal's Ctrl-C reaches the supervisor alone: on SIGINT or
SIGTERM each child gets SIGTERM, what is left of its group SIGTERM once it exited, and every group
still alive after ``--stop-timeout`` seconds SIGKILL. A child that exits by itself stops the others, and the
command exits non-zero naming it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from sandbox.demo import demo_admin_login
from sandbox.local import local_merchant_login
from sandbox.management.commands.serve_sandboxes import READY

SANDBOXES_READY_SECONDS = 60


@dataclass
class Child:
    """One supervised process; ``process.pid`` is also its process group's id."""

    label: str
    process: subprocess.Popen
    ready: threading.Event = field(default_factory=threading.Event)

    def group_alive(self) -> bool:
        """True while any process of the child's group is left (the child or what it started)."""
        return bool(group_members(self.process.pid))

    def signal_group(self, signum: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signum)


def group_members(group: int) -> list[int]:
    """The live processes of a process group. Read from /proc where there is one, since a zombie
    (exited, waiting for a parent that may never reap it) still counts for ``killpg``."""
    proc = Path("/proc")
    if not proc.is_dir():
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return []
        return [group]
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ")".
        state, _, pgrp = stat[stat.rindex(")") + 2 :].split()[:3]
        if int(pgrp) == group and state not in ("Z", "X"):
            members.append(int(entry.name))
    return members


class Command(BaseCommand):
    help = "Run Orderbridge locally: migrate, then the sandboxes, a django-q2 worker and the web server until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=None, help="The web server's port (default: PORT, or 8000).")
        parser.add_argument(
            "--state-file", default=None, help="The sandboxes' state file (default: var/sandboxes.json)."
        )
        parser.add_argument(
            "--stop-timeout", type=float, default=15.0, help="Seconds to wait for the children before SIGKILL."
        )
        parser.add_argument("--noreload", action="store_true", help="Run the web server without its autoreloader.")

    def handle(self, *args, port=None, state_file=None, stop_timeout=15.0, noreload=False, **options):
        port = port or settings.RUN_PORT
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        call_command("migrate", interactive=False, verbosity=1)
        if stop.is_set():
            return
        children: list[Child] = []
        try:
            serve = ["serve_sandboxes", *(["--state-file", state_file] if state_file else [])]
            sandboxes = self._spawn(children, "sandboxes", serve, relay=True)
            self._wait_ready(sandboxes, stop)
            admin_user, admin_password = demo_admin_login()
            merchant_user, merchant_password = local_merchant_login()
            self._spawn(children, "worker (qcluster)", ["qcluster"])
            web = ["runserver", f"127.0.0.1:{port}", *(["--noreload"] if noreload else [])]
            self._spawn(children, "web server", web)
            self._say_where(port, (admin_user, admin_password), (merchant_user, merchant_password))
            while not stop.wait(0.5):
                for child in children:
                    if child.process.poll() is not None:
                        raise CommandError(
                            f"The {child.label} stopped by itself (exit code {child.process.returncode}): "
                            "stopped the others too. Its output above says why."
                        )
        finally:
            self._stop_all(children, stop_timeout)
        self.stdout.write("Stopped: sandboxes, worker and web server.")

    def _spawn(self, children: list[Child], label: str, command: list[str], *, relay: bool = False) -> Child:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        argv = [sys.executable, str(settings.BASE_DIR / "manage.py"), *command]
        process = subprocess.Popen(
            argv,
            cwd=settings.BASE_DIR,
            env=env,
            start_new_session=True,  # its own process group: stopped as a whole, never by the terminal's Ctrl-C
            stdout=subprocess.PIPE if relay else None,
            text=True,
        )
        child = Child(label, process)
        children.append(child)
        self.stdout.write(f"Started the {label}: process group {process.pid}")
        if relay:
            threading.Thread(target=self._relay, args=(child,), daemon=True).start()
        return child

    def _relay(self, child: Child) -> None:
        """Copy the child's output, prefixed with its name; note when it says it is ready."""
        for line in child.process.stdout:  # type: ignore[union-attr]
            self.stdout.write(f"[{child.label}] {line.rstrip()}")
            if line.startswith(READY):
                child.ready.set()

    def _wait_ready(self, child: Child, stop: threading.Event) -> None:
        deadline = time.monotonic() + SANDBOXES_READY_SECONDS
        while not child.ready.wait(0.2):
            if child.process.poll() is not None:
                code = child.process.returncode
                raise CommandError(f"The {child.label} did not start (exit code {code}); see above.")
            if stop.is_set():
                raise CommandError("Stopped before the sandboxes were ready.")
            if time.monotonic() > deadline:
                raise CommandError(f"The {child.label} were not ready after {SANDBOXES_READY_SECONDS} s.")

    def _say_where(self, port: int, admin: tuple[str, str], merchant: tuple[str, str]) -> None:
        w, base = self.stdout.write, f"http://127.0.0.1:{port}"
        w(self.style.SUCCESS(f"\nOrderbridge is running at {base}/ (Ctrl-C stops everything)"))
        if admin[0]:
            w(f"  Admin:          {base}/admin/  user {admin[0]}, password {admin[1]} (local only)")
        else:
            w(f"  Admin:          {base}/admin/  with your own superuser")
        if merchant[0]:
            w(f"  Merchant pages: {base}/merchant/  user {merchant[0]}, password {merchant[1]} (local only)")
        ports = ", ".join(f"{name} {number}" for name, number in settings.RUN_SANDBOX_PORTS.items())
        w(f"  Sandboxes on 127.0.0.1: {ports}\n")

    def _stop_all(self, children: list[Child], timeout: float) -> None:
        """SIGTERM to each child, which stops what it started (the worker its processes); once it has
        exited, SIGTERM to anything left in its group (the web server's reloaded process); SIGKILL to
        every group still alive after ``timeout`` seconds."""
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(child.group_alive() for child in children):
            for child in children:
                if child.process.poll() is not None:
                    child.signal_group(signal.SIGTERM)
            time.sleep(0.1)
        for child in children:
            if child.group_alive():
                self.stderr.write(f"The {child.label} did not stop within {timeout:g} s: killed.")
                child.signal_group(signal.SIGKILL)
            child.process.wait()
