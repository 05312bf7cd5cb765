"""The API floor: the sync's own requests, replayed by a plain client against a fresh copy of the sandboxes.

Same count, same methods, paths, queries, headers and bodies, in the order the sandboxes received them;
one ``requests.Session`` (keep-alive), one request at a time, no database and no translation. The only
thing not replayed verbatim is Bergen's bearer token: the fresh copy issues its own, so the replay uses
the token its own token request got back, as any client would.
"""

from __future__ import annotations

import gc
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests

# Hop-by-hop and framing headers: the session sets its own.
_NOT_REPLAYED = frozenset({"host", "content-length", "connection", "transfer-encoding", "accept-encoding"})
_TOKEN_PATH = "/authserver/api/token"


@dataclass
class Replay:
    seconds: float
    requests: int
    # The client's own CPU time (this process): what the HTTP library alone costs per request.
    cpu_seconds: float
    statuses: Counter = field(default_factory=Counter)

    @property
    def failed(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 400)


def replay(recorded: list[dict[str, Any]], urls: dict[str, str], *, timeout: float = 30.0) -> Replay:
    """Send ``recorded`` (as ``SandboxProcess.requests()`` gives them) to the sandboxes at ``urls``; time it."""
    prepared = [_prepare(r, urls) for r in recorded]
    session = requests.Session()
    statuses: Counter = Counter()
    token = None
    # The measuring process's heap (Django, the sync's leftovers) is not the client's: the collector
    # does not scan it during the replay.
    gc.collect()
    gc.freeze()
    started, cpu = time.perf_counter(), time.process_time()
    for sandbox, method, url, headers, body, is_token in prepared:
        if token and sandbox == "bergen" and not is_token:
            headers = {**headers, "Authorization": f"Bearer {token}"}
        response = session.request(method, url, headers=headers, data=body, timeout=timeout)
        content = response.content
        statuses[response.status_code] += 1
        if is_token and response.ok:
            token = response.json().get("access_token") if content else None
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    gc.unfreeze()
    session.close()
    return Replay(seconds=seconds, requests=len(prepared), cpu_seconds=cpu, statuses=statuses)


def _prepare(recorded: dict[str, Any], urls: dict[str, str]) -> tuple[str, str, str, dict[str, str], bytes, bool]:
    query = urlencode(recorded["query"], doseq=True)
    url = urls[recorded["sandbox"]] + recorded["path"] + (f"?{query}" if query else "")
    headers = {k: v for k, v in recorded["headers"].items() if k.lower() not in _NOT_REPLAYED}
    is_token = recorded["sandbox"] == "bergen" and recorded["path"].lower() == _TOKEN_PATH
    return recorded["sandbox"], recorded["method"], url, headers, recorded["body"] or None, is_token
