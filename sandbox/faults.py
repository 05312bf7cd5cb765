"""What a sandbox can do to a request instead of (or after) answering it, one by one or at a rate.

Two ways to inject faults, both handled by ``SandboxServer``:
- ``fail_next``: the next N matching requests fail in one chosen way (a test that pins one behaviour).
- ``set_fault_rate``: every request independently fails with a probability, in a way drawn from a seeded
  ``random.Random`` (a chaos run). The same seed and the same sequence of requests give the same faults,
  so a failing run can be repeated.

Rate faults are drawn only among those that make sense for the request: a GET is never "processed, then
the reply lost" (reading twice changes nothing), and a write that gets a 200 with a broken body was
processed first (a server answering 200 did the work; an unprocessed 200 would be a lie no client can
detect).
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field

# Modes of ``fail_next``.
FAULT_MODES = ("status", "timeout", "drop", "truncated", "after", "after_drop")
# Modes of ``set_fault_rate``: ``throttle`` is a 429 with ``Retry-After``, ``malformed`` a 200 whose body
# is not JSON at all (a proxy's page), ``truncated`` a 200 whose JSON is cut off.
RATE_FAULT_MODES = ("status", "throttle", "timeout", "drop", "malformed", "truncated", "after", "after_drop")
# Modes that process the request before failing: meaningful for writes only.
WRITE_ONLY_MODES = frozenset({"after", "after_drop"})
# Modes that, on a write, process it first and then answer a 200 with a broken body.
BROKEN_BODY_MODES = frozenset({"malformed", "truncated"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SERVER_ERRORS = (500, 502, 503)
MALFORMED_BODY = b"<html><head><title>Gateway</title></head><body>upstream sent an invalid response</body></html>"


@dataclass
class Fault:
    """One fault to apply: how, with what status/body/headers, and whether the request is processed first."""

    mode: str
    remaining: int = 1
    status: int = 500
    path_contains: str = ""
    method: str | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 5.0
    processed_first: bool = False
    # The name it is counted under in ``faults_injected`` (a rate fault's mode, e.g. "throttle").
    label: str = ""

    def matches(self, method: str, path: str) -> bool:
        if self.path_contains and self.path_contains not in path:
            return False
        return self.method is None or self.method.upper() == method


class FaultRate:
    """Seeded random faults: each request gets one with probability ``rate``.

    Exactly one draw decides whether a request fails and, when it does, two more pick the mode and the
    status, so the sequence of faults depends only on the seed and the sequence of requests.
    """

    def __init__(
        self,
        rate: float,
        *,
        seed: int,
        modes: tuple[str, ...] = RATE_FAULT_MODES,
        timeout_delay: float = 5.0,
        retry_after: float = 1.0,
    ) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"fault rate must be between 0 and 1, not {rate!r}")
        unknown = [mode for mode in modes if mode not in RATE_FAULT_MODES]
        if unknown or not modes:
            raise ValueError(f"unknown fault modes {unknown!r}; expected some of {RATE_FAULT_MODES}")
        self.rate = rate
        self.seed = seed
        self.modes = tuple(modes)
        self.timeout_delay = timeout_delay
        self.retry_after = retry_after
        self._random = random.Random(seed)

    def draw(self, method: str) -> Fault | None:
        """The fault for the next request of ``method``, or None to let it through."""
        if self._random.random() >= self.rate:
            return None
        write = method.upper() not in READ_METHODS
        choices = [mode for mode in self.modes if write or mode not in WRITE_ONLY_MODES]
        if not choices:
            return None
        mode = self._random.choice(choices)
        status = self._random.choice(SERVER_ERRORS)
        if mode == "throttle":
            seconds = f"{self.retry_after:g}"
            return Fault("status", status=429, headers={"Retry-After": seconds}, delay=0, label=mode)
        if mode in BROKEN_BODY_MODES:
            body = MALFORMED_BODY if mode == "malformed" else None
            return Fault("truncated", status=200, body=body, processed_first=write, label=mode)
        processed_first = mode in WRITE_ONLY_MODES
        return Fault(mode, status=status, delay=self.timeout_delay, processed_first=processed_first, label=mode)


class HeldReply:
    """One request processed at once whose answer is kept back until ``release()`` (or ``timeout``): a reply
    slow to come back, so that a test can make two clients interleave exactly where it wants."""

    def __init__(self, *, path_contains: str = "", method: str | None = None, timeout: float = 30.0) -> None:
        self.path_contains = path_contains
        self.method = method.upper() if method else None
        self.timeout = timeout
        self.reached = threading.Event()
        self._released = threading.Event()

    def matches(self, method: str, path: str) -> bool:
        return (not self.path_contains or self.path_contains in path) and self.method in (None, method)

    def release(self) -> None:
        self._released.set()

    def hold(self) -> None:
        """Called by the server, outside its lock, once the request is processed."""
        self.reached.set()
        self._released.wait(self.timeout)
