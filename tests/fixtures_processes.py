"""A test database that other processes (a worker, a chaos run's workers) can open, and its URL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from django.db import connections


def database_url() -> str:
    """The default connection's database as a DATABASE_URL for another process."""
    db = connections["default"].settings_dict
    if connections["default"].vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def shared_database(transactional_db, tmp_path) -> Iterator[None]:
    """A database other processes can open.

    On PostgreSQL that is the test database as it is. The suite's SQLite test database lives in this
    process's memory, so for the test the default connection is pointed at a copy of it in a file (the
    in-memory connection is set aside, not closed: closing it would destroy the test database). The
    live server's thread shares this connection object, so it follows to the file as well.
    """
    connection = connections["default"]
    if not (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        yield
        return
    connection.ensure_connection()
    in_memory, name = connection.connection, connection.settings_dict["NAME"]
    path = tmp_path / "shared.sqlite3"
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
