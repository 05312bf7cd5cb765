"""Two processes taking from one account's bucket at once (its database row) never get more than it
holds between them: the conditional UPDATE is the only gate (PostgreSQL in CI, SQLite by default)."""

from __future__ import annotations

import os
import subprocess
import sys

from integrations.budget import Bucket, DatabaseBudgets
from integrations.connectors.limits import RateLimit
from tests.fixtures_processes import database_url
from tests.sandbox.test_killed_run import ROOT

LIMIT = RateLimit(requests=3000, seconds=60, source="test")  # a bucket of 255 tokens
NOW = 5_000_000.0  # one instant for every take: nothing refills while they race

TAKER = f"""
from integrations.budget import Bucket, DatabaseBudgets
from integrations.connectors.limits import RateLimit
store, bucket, got = DatabaseBudgets(), Bucket.of(RateLimit(requests=3000, seconds=60)), 0
while (taken := store.take("race", bucket, 1, {NOW})).granted:
    got += taken.granted
print(got)
"""


def test_two_processes_taking_at_once_get_exactly_what_the_bucket_holds(shared_database):
    bucket = Bucket.of(LIMIT)
    DatabaseBudgets()._ensure("race", bucket, NOW)  # stored full, committed: both processes see it
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.test_settings", "DATABASE_URL": database_url()}
    command = [sys.executable, "manage.py", "shell", "-c", TAKER]
    takers = [subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    got = [int(taker.communicate(timeout=120)[0].strip().splitlines()[-1]) for taker in takers]

    assert sum(got) == int(bucket.capacity)
