"""What the long-running sandboxes of `make run` store, kept in a JSON file across restarts.

A sandbox keeps its platform's records in memory; `serve_sandboxes` writes them here whenever they
changed (checked every few seconds) and on exit, and reads them back at start, so the demo's orders
are still at the warehouse after a restart. Each sandbox names the attributes that hold its records
(``persisted``); request logs, faults, tokens and rate-limit windows are not kept.

The file is plain JSON, readable and safe to load (no pickle: nothing in it can run code). Values
that JSON has no type for are written as one-key objects: ``{"$datetime": "..."}``, ``{"$decimal"}``,
``{"$tuple"}``, ``{"$set"}``, ``{"$items"}`` (a dict whose keys are not all strings), ``{"$count"}``
(an id sequence) and ``{"$object": "sandbox.module.Class", "$state": {...}}`` for a record class of
the sandboxes themselves (nothing outside ``sandbox.`` is ever instantiated from the file).
"""

from __future__ import annotations

import importlib
import itertools
import json
import os
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sandbox.server import SandboxServer

FORMAT = 1
_COUNT = re.compile(r"count\((-?\d+)\)")


class StateFileError(Exception):
    """The state file cannot be read back; the message says which file and how to start afresh."""


def encode(value: Any) -> Any:
    """``value`` as JSON-compatible data that ``decode`` turns back into an equal value."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list):
        return [encode(item) for item in value]
    if isinstance(value, dict):
        if all(isinstance(key, str) and not key.startswith("$") for key in value):
            return {key: encode(item) for key, item in value.items()}
        return {"$items": [[encode(key), encode(item)] for key, item in value.items()]}
    if isinstance(value, tuple):
        return {"$tuple": [encode(item) for item in value]}
    if isinstance(value, set | frozenset):
        return {"$set": [encode(item) for item in sorted(value, key=repr)]}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, timedelta):
        return {"$timedelta": value.total_seconds()}
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, itertools.count):
        # repr is "count(n)": the next value, read without taking it.
        return {"$count": int(_COUNT.fullmatch(repr(value)).group(1))}  # type: ignore[union-attr]
    cls = type(value)
    if cls.__module__.startswith("sandbox.") and hasattr(value, "__dict__"):
        return {"$object": f"{cls.__module__}.{cls.__qualname__}", "$state": encode(vars(value))}
    raise TypeError(f"a sandbox's state holds a {cls.__name__}, which the state file cannot keep")


_DECODERS = {
    "$tuple": lambda raw: tuple(decode(item) for item in raw),
    "$set": lambda raw: {decode(item) for item in raw},
    "$items": lambda raw: {decode(key): decode(item) for key, item in raw},
    "$datetime": datetime.fromisoformat,
    "$date": date.fromisoformat,
    "$timedelta": lambda raw: timedelta(seconds=raw),
    "$decimal": Decimal,
    "$count": itertools.count,
}


def decode(raw: Any) -> Any:
    if isinstance(raw, list):
        return [decode(item) for item in raw]
    if not isinstance(raw, dict):
        return raw
    if "$object" in raw:
        return _instance(raw["$object"], decode(raw["$state"]))
    if len(raw) == 1:
        [(key, inner)] = raw.items()
        if key in _DECODERS:
            return _DECODERS[key](inner)
    return {key: decode(item) for key, item in raw.items()}


def _instance(path: str, state: dict[str, Any]) -> Any:
    module_name, _, name = path.rpartition(".")
    if not module_name.startswith("sandbox."):
        raise StateFileError(f"refusing to create {path}: only the sandboxes' own record classes are kept")
    cls = getattr(importlib.import_module(module_name), name)
    obj = cls.__new__(cls)
    vars(obj).update(state)
    return obj


def sandbox_snapshot(sandbox: SandboxServer) -> dict[str, Any]:
    """The sandbox's records, encoded while its lock keeps handlers out."""
    with sandbox.lock:
        return {name: encode(getattr(sandbox, name)) for name in sandbox.persisted}


def sandbox_restore(sandbox: SandboxServer, snapshot: dict[str, Any]) -> None:
    """Put records from ``sandbox_snapshot`` back. A stored object (a TradeGecko account's store) is
    refilled in place, since the sandbox's handlers hold a reference to it."""
    with sandbox.lock:
        for name in sandbox.persisted:
            if name not in snapshot:
                continue
            value, current = decode(snapshot[name]), getattr(sandbox, name)
            if type(value) is type(current) and hasattr(current, "__dict__"):
                vars(current).clear()
                vars(current).update(vars(value))
            else:
                setattr(sandbox, name, value)


class StateFile:
    """The file `serve_sandboxes` keeps its sandboxes' records in, one entry per sandbox name."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._written = ""

    def load(self) -> dict[str, dict[str, Any]]:
        """Each sandbox's snapshot by name; empty when there is no file yet."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        try:
            content = json.loads(text)
        except ValueError as exc:
            raise StateFileError(
                f"{self.path} is not valid JSON ({exc}); delete it to start the sandboxes afresh"
            ) from None
        if not isinstance(content, dict) or content.get("format") != FORMAT:
            raise StateFileError(f"{self.path} is not a sandbox state file of format {FORMAT}; delete it to start over")
        self._written = text
        return content["sandboxes"]

    def save(self, sandboxes: dict[str, SandboxServer]) -> bool:
        """Write every sandbox's snapshot when anything changed since the last write; True if written.

        Written to a temporary file and renamed over the old one, so a crash mid-write leaves the
        previous state whole."""
        content = {"format": FORMAT, "sandboxes": {name: sandbox_snapshot(s) for name, s in sandboxes.items()}}
        text = json.dumps(content, indent=1)
        if text == self._written:
            return False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".tmp")
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, self.path)
        self._written = text
        return True
