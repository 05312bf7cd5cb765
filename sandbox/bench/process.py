"""The sandboxes in a process of their own ("spawn": a fresh interpreter, no Django, no shared GIL).

The measuring process starts one with ``SandboxProcess(spec)``; the child seeds both sandboxes from the
spec, starts them on free loopback ports and sends the base URLs back, then answers commands over a pipe
until it is told to stop: the requests recorded since the last ask, its own CPU time, counts to check
the run by. Its CPU time is never the measuring process's.
"""

from __future__ import annotations

import gc
import itertools
import multiprocessing
import resource
from multiprocessing.connection import Connection
from typing import Any

from sandbox.bench.sandboxes import BenchBergen, BenchSquarespace
from sandbox.bench.seeding import BenchSpec, seed

START_TIMEOUT_SECONDS = 600  # seeding 50,000 orders takes a while
ANSWER_TIMEOUT_SECONDS = 120


def cpu_seconds() -> float:
    """This process's user and system CPU time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def serve(channel: Connection, spec: BenchSpec) -> None:
    """The child's main: seed, start, answer until "stop"."""
    sequence = itertools.count(1)
    cart, warehouse = BenchSquarespace(sequence=sequence), BenchBergen(sequence=sequence)
    seed(spec, cart, warehouse)
    # The seeded data is never collected, and answering makes no cycles worth collecting: without the
    # collector's pauses (tens of ms once the heap holds 50,000 orders) the emulator stays out of the figures.
    gc.freeze()
    gc.disable()
    channel.send({"squarespace": cart.start(), "bergen": warehouse.start()})
    try:
        while True:
            command = channel.recv()
            if command == "stop":
                break
            if command == "requests":
                taken = cart.take_requests() + warehouse.take_requests()
                channel.send(sorted(taken, key=lambda r: r["seq"]))
            elif command == "cpu":
                channel.send(cpu_seconds())
            elif command == "counts":
                channel.send(
                    {
                        "warehouse_orders": len(warehouse.orders),
                        "warehouse_duplicates": warehouse.duplicate_count(),
                        "inventory_adjustments": len(cart.adjustments),
                        "handler_errors": len(cart.handler_errors) + len(warehouse.handler_errors),
                    }
                )
            else:
                channel.send(ValueError(f"unknown command {command!r}"))
    finally:
        cart.stop()
        warehouse.stop()
        channel.send("stopped")


class SandboxProcess:
    """A seeded pair of bench sandboxes in a child process; use as a context manager.

    ``target`` is the child's main, given the pipe's end and the spec (the fleet benchmark has its own)."""

    target = staticmethod(serve)

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self.urls: dict[str, str] = {}
        self._channel: Connection | None = None
        self._process: Any = None

    def __enter__(self) -> SandboxProcess:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        self._process = context.Process(
            target=self.target, args=(child, self.spec), name="bench-sandboxes", daemon=True
        )
        self._process.start()
        child.close()
        self._channel = parent
        self.urls = self._answer(START_TIMEOUT_SECONDS)
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._channel is not None:
            try:
                self._channel.send("stop")
                self._answer(ANSWER_TIMEOUT_SECONDS)
            except (OSError, EOFError, RuntimeError):
                pass
            self._channel.close()
        if self._process is not None:
            self._process.join(timeout=10)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()

    def ask(self, command: Any) -> Any:
        assert self._channel is not None, "the sandbox process is not started"
        self._channel.send(command)
        answer = self._answer(ANSWER_TIMEOUT_SECONDS)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def _answer(self, timeout: float) -> Any:
        assert self._channel is not None
        if not self._channel.poll(timeout):
            raise RuntimeError(f"the sandbox process did not answer within {timeout:g} s")
        try:
            return self._channel.recv()
        except EOFError as exc:
            raise RuntimeError(f"the sandbox process ended (exit code {self._process.exitcode})") from exc

    def requests(self) -> list[dict[str, Any]]:
        """The requests both sandboxes received since the last call, in the order received."""
        return self.ask("requests")

    def cpu_seconds(self) -> float:
        return self.ask("cpu")

    def counts(self) -> dict[str, int]:
        return self.ask("counts")
