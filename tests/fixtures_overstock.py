"""Fixtures for the Overstock (Supplier Oasis) sandbox.

Function scope, like the other sandboxes: every test gets an empty sandbox, so no test depends on another's
orders, confirmations or pending faults.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.overstock import OverstockSandbox


@pytest.fixture
def overstock_sandbox() -> Iterator[OverstockSandbox]:
    """Supplier Oasis with credentials sandbox-user/sandbox-pass, warehouse "Main Warehouse", channel Overstock."""
    sandbox = OverstockSandbox()
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()
