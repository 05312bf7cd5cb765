"""Settings a sandbox tool runs a step with: the demo's import lag, the benchmark's pacing and debug cursor.

The demo and the benchmark run the product's own services in their own process, with a few settings
scaled for a local run (the warehouse shipped a second ago, so the shipments sync reads up to now; the
sandboxes have no rate limit, so pacing would only slow the run). The services read these settings at
call time, so setting them on ``django.conf.settings`` for the length of a step is enough; the chaos
workers set theirs the same way at start-up (``chaos.workers``).

Meant for one-process command-line tools: another thread reading the settings meanwhile sees the
scaled values too. Tests use pytest-django's ``settings`` fixture instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings

_UNSET = object()


@contextmanager
def settings_applied(**values: Any) -> Iterator[None]:
    """Set each named setting for the length of the block, then put back what was there (or remove it)."""
    previous = {name: getattr(settings, name, _UNSET) for name in values}
    for name, value in values.items():
        setattr(settings, name, value)
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is _UNSET:
                delattr(settings, name)
            else:
                setattr(settings, name, value)
