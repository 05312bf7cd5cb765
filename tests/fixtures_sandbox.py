"""Fixtures that start a platform sandbox on a free loopback port around one test.

Function scope on purpose: every test gets empty sandboxes, so no test depends on another's orders,
tokens, rate-limit window or pending faults. Starting one costs a few milliseconds.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sandbox.bergen import BergenSandbox
from sandbox.squarespace import SquarespaceSandbox


@pytest.fixture
def squarespace_sandbox() -> Iterator[SquarespaceSandbox]:
    """A Squarespace sandbox with default credentials and no rate limit (tests that need one build their own)."""
    sandbox = SquarespaceSandbox(rate_limit_per_minute=None)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture
def bergen_sandbox() -> Iterator[BergenSandbox]:
    """A Bergen (Extensiv-model) sandbox with default credentials, customer DEMO and facilities NJ, NJ2, WEST, EU."""
    sandbox = BergenSandbox()
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()
