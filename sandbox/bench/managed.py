"""A `manage.py` command the fleet benchmark runs beside itself (the web process, the qcluster): in its
own process group, its output in a log file, on the configured database with the database broker, with the
settings production runs with (`production_env`)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def production_env() -> dict[str, str]:
    """DEBUG off, as production runs (with it on, Django keeps every statement it sends), with this
    process's keys (the cluster decrypts the credentials the benchmark stored). The sandboxes stay
    installed: the fleet's connections are the tooling's own. Plain http on loopback: runserver serves
    no TLS."""
    from django.conf import settings

    return {
        "DEBUG": "false",
        "SANDBOX_ENABLED": "true",
        "SECRET_KEY": settings.SECRET_KEY,
        "FERNET_KEYS": ",".join(settings.FERNET_KEYS),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
    }


class ManagedProcess:
    label = "process"  # how errors name it
    stop_seconds = 30  # how long a stop waits before SIGKILL

    def __init__(self, log_prefix: str) -> None:
        self.log = Path(tempfile.mkstemp(prefix=log_prefix, suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    def launch(self, command: list[str], env: dict[str, str]) -> None:
        """Start `manage.py <command>` with `env` over this process's environment."""
        full = {**os.environ, **production_env(), **env, "DJANGO_SETTINGS_MODULE": "config.settings"}
        full.pop("REDIS_URL", None)  # the database broker (`sync.broker`), on the configured database
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "manage.py", *command],
                cwd=ROOT,
                env=full,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def check(self) -> None:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"the {self.label} exited ({self.process.returncode}); its log: {self.log}")

    def terminate(self) -> None:
        """Ask it to stop: SIGTERM to its whole process group."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGTERM)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.terminate()
        try:
            self.process.wait(timeout=self.stop_seconds)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
