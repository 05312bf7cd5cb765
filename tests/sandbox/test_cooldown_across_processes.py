"""A rate-limit cooldown one process recorded binds a `sync_orders` command started by hand in another:
it sends nothing to that platform before the cooldown ends (counted at the sandboxes, in this process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from integrations.cooldowns import cooldown_key, cooldown_record
from integrations.models import SyncOutcome
from tests.fixtures_processes import database_url
from tests.orders.helpers import ORDERS_PATH, cooldowns_end, order_posts, seed
from tests.sandbox.test_killed_run import ROOT


def sync_orders_in_another_process() -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings", "DATABASE_URL": database_url()}
    done = subprocess.run(
        [sys.executable, "manage.py", "sync_orders", "--json"], cwd=ROOT, env=env, capture_output=True, timeout=120
    )
    assert done.returncode == 0, done.stderr.decode()
    [run] = json.loads(done.stdout)["runs"]
    return run


def test_a_command_in_another_process_sends_nothing_inside_a_recorded_cooldown(shared_database, wired):
    seed(wired.squarespace, "1001")
    cooldown_record(cooldown_key(wired.cart), seconds=900, reason="429 seen by this process")

    run = sync_orders_in_another_process()

    assert run["status"] == SyncOutcome.THROTTLED and "nothing is sent to it until" in run["error"]
    assert wired.squarespace.requests_to(ORDERS_PATH) == []

    cooldowns_end()
    run = sync_orders_in_another_process()

    assert run["status"] == SyncOutcome.SUCCEEDED and run["counts"]["delivered"] == 1
    assert len(order_posts(wired.bergen)) == 1
