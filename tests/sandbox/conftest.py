from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from django.db import connections

from sandbox.chaos.sandboxes import SandboxPair


def running_pair(**options) -> Iterator[tuple[SandboxPair, dict]]:
    pair = SandboxPair(**options)
    addresses = pair.start()
    try:
        yield pair, addresses
    finally:
        pair.stop()


@pytest.fixture
def sandbox_pair() -> Iterator[tuple[SandboxPair, dict]]:
    """The chaos run's Squarespace and Bergen sandboxes, in this process."""
    yield from running_pair()


@pytest.fixture
def accepting_pair() -> Iterator[tuple[SandboxPair, dict]]:
    """As ``sandbox_pair``, the warehouse storing a second order under a reference it already has."""
    yield from running_pair(accept_duplicate_references=True)


@pytest.fixture
def shared_database(transactional_db, tmp_path) -> Iterator[None]:
    """A database other processes can open, for chaos_sync's workers.

    On PostgreSQL that is the test database as it is. The suite's SQLite test database lives in this
    process's memory, so for the test the default connection is pointed at a copy of it in a file (the
    in-memory connection is set aside, not closed: closing it would destroy the test database).
    """
    connection = connections["default"]
    if not (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        yield
        return
    connection.ensure_connection()
    in_memory, name = connection.connection, connection.settings_dict["NAME"]
    path = tmp_path / "chaos.sqlite3"
    copy = sqlite3.connect(path)
    in_memory.backup(copy)
    copy.close()
    connection.connection = None
    connection.settings_dict["NAME"] = str(path)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["NAME"] = name
        connection.connection = in_memory
