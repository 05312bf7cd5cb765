from __future__ import annotations

from collections.abc import Iterator

import pytest

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
