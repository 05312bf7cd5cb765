"""The fleet's connections as merchants leave them after setup, done a few connections at a time (each
step waits on the sandboxes' L ms answers):

- ``accounts_learn``: each connection's platform account stored, as the setup's Test connection stores
  it (``integrations.accounts.connection_account_learn``). A connection's first run would otherwise learn
  it (a request for a granted Squarespace site) and move its references to it: once in a connection's
  life, not an idle sync's work.
- ``fleet_sync_once``: each connection's orders and shipments synced once, by the tasks the scheduler
  starts. A connection's first runs make the rows its later runs only update (its leases, its accounts'
  rate budgets) and read the cart's open orders; the idle window then measures what every later idle
  run costs, as in a fleet that has been running for a while. It runs while the cluster starts (before
  any schedule exists), in two processes.
- ``in_threads``: the helper these and the webhook subscriptions (``fleet_hooks``) use.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

from django import db
from django.db import connection as db_connection

from integrations.accounts import connection_account_learn
from integrations.connectors.errors import ConnectorError
from integrations.models import CartConnection
from integrations.services import ConnectionNotConfigured, cart_connector_for, warehouse_connector_for
from orders.tasks import sync_orders_task, sync_shipments_task

SETUP_THREADS = 16
SETUP_PROCESSES = 2  # for the syncs (the machine's CPUs, in the benchmark's 2-CPU setting)


def in_threads(step: Callable[[int], str], connection_ids: list[int]) -> list[str]:
    """``step`` for each connection id, in ``SETUP_THREADS`` threads each taking every n-th id on one
    database connection of its own (closed when it is done); the steps' answers ("" for done, else why
    not) in the ids' order."""
    answers = [""] * len(connection_ids)

    def share(first: int) -> None:
        try:
            for index in range(first, len(connection_ids), SETUP_THREADS):
                answers[index] = step(connection_ids[index])
        finally:
            db_connection.close()

    with ThreadPoolExecutor(max_workers=SETUP_THREADS) as pool:
        list(pool.map(share, range(SETUP_THREADS)))  # list(): a step's exception is raised here
    return answers


def _account_learned(connection_id: int) -> str:
    cart = CartConnection.objects.select_related("merchant", "warehouse").get(pk=connection_id)
    try:
        connection_account_learn(cart, cart_connector_for(connection=cart), ask=True)
        if cart.warehouse is not None:
            connection_account_learn(cart.warehouse, warehouse_connector_for(connection=cart.warehouse), ask=True)
    except (ConnectorError, ConnectionNotConfigured) as exc:
        return f"{cart}: {exc}"
    return ""


def accounts_learn(connection_ids: list[int], say: Callable[[str], None]) -> list[str]:
    """Every cart connection's account and its warehouse's, stored; why not, for those that failed."""
    failed = [outcome for outcome in in_threads(_account_learned, connection_ids) if outcome]
    say(f"accounts known for {len(connection_ids) - len(failed)} of {len(connection_ids)} connections")
    return failed


def _synced_once(connection_id: int) -> str:
    """The connection's orders task, then its shipments task; "" when every run they made succeeded."""
    answers = [sync_orders_task(connection_id), sync_shipments_task(connection_id)]
    runs = [run for answer in answers for run in answer.split(", ")]
    return "; ".join(run for run in runs if not run.endswith(": succeeded"))


def _sync_share(connection_ids: list[int]) -> list[str]:
    """One process's share of `fleet_sync_once`."""
    try:
        return [outcome for outcome in in_threads(_synced_once, connection_ids) if outcome]
    finally:
        db.connections.close_all()


def fleet_sync_once(connection_ids: list[int], say: Callable[[str], None]) -> list[str]:
    """Every connection's orders and shipments synced once, in ``SETUP_PROCESSES`` processes forked from
    this one (each run is some CPU, and one process's threads share one interpreter lock); what did not
    succeed, for each connection that failed."""
    began = time.monotonic()
    db.connections.close_all()  # each process opens its own
    shares = [connection_ids[n::SETUP_PROCESSES] for n in range(SETUP_PROCESSES)]
    with ProcessPoolExecutor(SETUP_PROCESSES, mp_context=multiprocessing.get_context("fork")) as pool:
        failed = [outcome for outcomes in pool.map(_sync_share, shares) for outcome in outcomes]
    say(
        f"synced once: {len(connection_ids) - len(failed)} of {len(connection_ids)} connections "
        f"in {time.monotonic() - began:.0f} s"
    )
    return failed
