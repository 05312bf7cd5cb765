"""The fleet benchmark's webhook mode: the web process the sites notify, the grants, the subscriptions.

- ``WebProcess``: ``manage.py runserver --noreload`` (threaded; no WSGI server such as gunicorn is
  installed) on a free loopback port, on the benchmark's database, with ``PUBLIC_BASE_URL`` at its own
  http address. It serves ``POST /hooks/squarespace/<token>/`` like a production web process: the
  notification is stored in the inbox and the drain task queued for the cluster. Plain http is
  accepted for sandbox-tooling connections only (``integrations.webhooks``), and by the fleet's sites
  only (``http_endpoints_allowed``): runserver serves no TLS.
- ``webhook_env``: the settings the web process, the cluster and this process share (the public
  address, our OAuth app at the sandbox) so that all three compute the same endpoint addresses.
- ``subscriptions_make``: each connection's subscription made by our own code
  (``integrations.webhooks.webhooks_ensure``), a few connections at a time (``fleet_setup.in_threads``:
  each a list and a create at the site, L ms each).
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import requests
from django.test import override_settings

from integrations.models import CartConnection
from integrations.webhooks import webhooks_ensure
from sandbox.bench.fleet_setup import in_threads
from sandbox.bench.managed import ManagedProcess
from sandbox.squarespace_hooks import OAUTH, SquarespaceHooks

WEB_START_SECONDS = 60


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def webhook_env(public_base_url: str, squarespace_url: str) -> dict[str, str]:
    """The environment the web process and the cluster get (and this process's settings mirror)."""
    return {
        "PUBLIC_BASE_URL": public_base_url,
        "SQUARESPACE_OAUTH_CLIENT_ID": SquarespaceHooks.oauth_client_id,
        "SQUARESPACE_OAUTH_CLIENT_SECRET": SquarespaceHooks.oauth_client_secret,
        "SQUARESPACE_OAUTH_AUTHORIZE_URL": f"{squarespace_url}{OAUTH}/authorize",
        "SQUARESPACE_OAUTH_TOKEN_URL": f"{squarespace_url}{OAUTH}/tokens",
    }


@contextmanager
def webhook_settings(env: dict[str, str]) -> Iterator[None]:
    """This process's settings as the web process and the cluster read them from ``env``."""
    from django.conf import settings

    squarespace = {
        "client_id": env["SQUARESPACE_OAUTH_CLIENT_ID"],
        "client_secret": env["SQUARESPACE_OAUTH_CLIENT_SECRET"],
        "authorize_url": env["SQUARESPACE_OAUTH_AUTHORIZE_URL"],
        "token_url": env["SQUARESPACE_OAUTH_TOKEN_URL"],
    }
    clients = {**settings.OAUTH_CLIENTS, "squarespace": squarespace}
    with override_settings(PUBLIC_BASE_URL=env["PUBLIC_BASE_URL"], OAUTH_CLIENTS=clients):
        yield


class WebProcess(ManagedProcess):
    """``manage.py runserver --noreload`` on a free loopback port, in its own process group."""

    label = "web process"

    def __init__(self, database_url: str) -> None:
        super().__init__("bench-fleet-web-")
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url

    def start(self, env: dict[str, str]) -> None:
        command = ["runserver", "--noreload", "--skip-checks", f"127.0.0.1:{self.port}"]
        self.launch(command, {**env, "DATABASE_URL": self.database_url})
        deadline = time.monotonic() + WEB_START_SECONDS
        while time.monotonic() < deadline:
            self.check()
            try:
                requests.get(f"{self.base_url}/hooks/", timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.3)
        raise RuntimeError(f"the web process did not answer within {WEB_START_SECONDS} s; its log: {self.log}")


def _subscribe(connection_id: int) -> str:
    """One connection's subscription, by our own code; "" when live, else why not."""
    connection = CartConnection.objects.select_related("merchant").get(pk=connection_id)
    outcome = webhooks_ensure(connection=connection)
    return "" if outcome.live else outcome.message


def subscriptions_make(connection_ids: list[int], say: Callable[[str], None]) -> list[str]:
    """Every connection's subscription; the reasons of those that are not live (empty: all live)."""
    outcomes = in_threads(_subscribe, connection_ids)
    say(f"subscribed {sum(1 for o in outcomes if not o)} of {len(connection_ids)} connections")
    return [o for o in outcomes if o]
