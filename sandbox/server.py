"""Shared machinery of the platform sandboxes: a loopback HTTP server, a request log and fault injection.

Why a real HTTP server rather than mocked responses: the connectors are tested over real sockets, so
timeouts, dropped connections, keep-alive reuse and half-written bodies behave as they do in production,
and the shared HTTP client (retries, backoff, redaction) is exercised for real.

Faults come one at a time (``fail_next``) or at a seeded rate (``set_fault_rate``); see ``sandbox.faults``.

Only the standard library is used (``http.server``), so the sandboxes start in a few milliseconds and need
no extra dependency. Every response carries a ``Content-Length`` (except 204, where HTTP forbids it), so
clients can keep connections alive exactly as they would against the real services.

Long because the server, its request handler and the fault controls every sandbox shares
belong together; the faults themselves live in ``sandbox.faults``.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from sandbox.faults import FAULT_MODES, RATE_FAULT_MODES, Fault, FaultRate, HeldReply


@dataclass
class RecordedRequest:
    """One request as the sandbox received it, kept for assertions in tests."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    json: Any = None

    def header(self, name: str) -> str | None:
        """Header value by case-insensitive name (HTTP header names are case-insensitive)."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    def param(self, name: str) -> str | None:
        """First value of a query parameter, or None when absent."""
        values = self.query.get(name)
        return values[0] if values else None


@dataclass
class Response:
    """What a handler answers; the server adds ``Content-Length``."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


def json_response(
    status: int,
    payload: Any,
    *,
    content_type: str = "application/json; charset=utf-8",
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(status, json.dumps(payload).encode(), {"Content-Type": content_type, **(headers or {})})


def text_response(status: int, text: str, *, headers: dict[str, str] | None = None) -> Response:
    return Response(status, text.encode(), {"Content-Type": "text/plain; charset=utf-8", **(headers or {})})


Handler = Callable[[RecordedRequest, "re.Match[str]"], Response]


@dataclass
class Route:
    """One entry of a sandbox's dispatch table: an HTTP method and a full-match path regex."""

    method: str
    pattern: re.Pattern[str]
    handler: Handler


def route(method: str, regex: str, handler: Handler) -> Route:
    return Route(method.upper(), re.compile(regex), handler)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: SandboxServer


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # An idle keep-alive connection frees its thread after this many seconds.
    timeout = 60
    # Headers and body leave in one buffered write with Nagle off: no 40 ms delayed-ACK stall per request.
    wbufsize = 64 * 1024
    disable_nagle_algorithm = True
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr log: tests assert on ``sandbox.requests`` instead."""

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(chunk := self.rfile.read(size))
                if len(chunk) < size:
                    raise ValueError("the body ended mid-chunk")
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        sandbox = self.server.sandbox
        try:
            body = self._read_body()
        except (ConnectionError, ValueError):
            body = None
        if body is None or len(body) < int(self.headers.get("Content-Length") or 0):
            # The client went away mid-request (a killed worker): a server never sees a whole request,
            # so it processes nothing; kept apart from `requests`, which are the requests received.
            with sandbox.lock:
                sandbox.incomplete_requests.append((self.command, urlsplit(self.path).path))
            self.close_connection = True
            return
        split = urlsplit(self.path)
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        request = RecordedRequest(
            method=self.command,
            path=split.path,
            query=parse_qs(split.query, keep_blank_values=True),
            headers=dict(self.headers.items()),
            body=body,
            json=parsed,
        )
        fault = sandbox._record_and_take_fault(request)
        if fault is not None and not fault.processed_first:
            self._apply_fault(fault, sandbox)
            return
        try:
            response = sandbox._dispatch(request)
        except Exception as exc:  # a sandbox bug must answer 500, not kill the connection silently
            with sandbox.lock:
                sandbox.handler_errors.append(exc)
            response = sandbox.error_response(500, f"Sandbox handler failed: {exc!r}")
        held = sandbox._take_hold(request)
        if held is not None:
            held.hold()
        if sandbox.latency_seconds:  # outside every lock: the threaded server answers others meanwhile
            sandbox._stopping.wait(sandbox.latency_seconds)
        if fault is None:
            self._write(response)
        elif fault.mode == "after":
            self._write(sandbox._fault_response(fault))
        elif fault.mode == "truncated":  # processed, then a 200 with a broken body
            self._apply_fault(fault, sandbox)
        else:
            self.close_connection = True

    def _apply_fault(self, fault: Fault, sandbox: SandboxServer) -> None:
        if fault.mode == "status":
            self._write(sandbox._fault_response(fault))
        elif fault.mode == "truncated":
            body = fault.body if fault.body is not None else sandbox.truncated_body()
            self._write(Response(200, body, {"Content-Type": "application/json; charset=utf-8", **fault.headers}))
        else:
            if fault.mode == "timeout":
                sandbox._stopping.wait(fault.delay)
            # "drop" and an expired "timeout": close the socket without a single byte of answer.
            self.close_connection = True

    def _write(self, response: Response) -> None:
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        if response.status != 204:
            self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.status != 204 and response.body:
            self.wfile.write(response.body)
        self.wfile.flush()


class SandboxServer:
    """Base class of the sandboxes: lifecycle, request log, fault injection and route dispatch.

    Subclasses provide ``routes()`` (their dispatch table), ``error_response()`` (their platform's error
    shape) and optionally ``before_dispatch()`` (authentication, rate limits). Handlers run under
    ``self.lock``, so they can change state without further locking; faults that sleep do so outside it.
    ``persisted`` names the attributes that hold the platform's records (what ``sandbox.state`` keeps
    across a restart of the long-running sandboxes).
    """

    persisted: tuple[str, ...] = ()

    def __init__(self, *, port: int = 0, host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self.lock = threading.RLock()
        self.requests: list[RecordedRequest] = []
        # (method, path) of requests cut off before their whole body arrived: never processed.
        self.incomplete_requests: list[tuple[str, str]] = []
        # Exceptions raised by handlers (answered 500): a test can assert this stays empty.
        self.handler_errors: list[Exception] = []
        self.basic_auth_challenge = False
        # Seconds every processed request waits before its answer is written (a distant platform).
        self.latency_seconds = 0.0
        self._faults: list[Fault] = []
        self._fault_rate: FaultRate | None = None
        self._holds: list[HeldReply] = []
        # Faults applied so far, by mode (a rate fault by its rate mode, e.g. "throttle"), and in order
        # as (method, path, mode): a test asserts on these, and compares two seeded runs.
        self.faults_injected: Counter[str] = Counter()
        self.fault_log: list[tuple[str, str, str]] = []
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._routes: list[Route] = self.routes()

    # -- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> str:
        """Bind (a free port unless one was given), serve in a daemon thread and return the base URL."""
        if self._httpd is not None:
            return self.base_url
        self._stopping.clear()
        httpd = _HTTPServer((self.host, self.port), _RequestHandler)
        httpd.sandbox = self
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, name=f"{type(self).__name__}", daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop serving and release the port; requests sleeping in a "timeout" fault are woken and dropped,
        held replies released."""
        self._stopping.set()
        with self.lock:
            for held in self._holds:
                held.release()
        if self._httpd is None:
            return
        self._httpd.shutdown()
        self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- test controls -----------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget recorded requests, pending faults, the fault rate and the fault counts, and lower the
        Basic Auth wall; seeded data stays."""
        with self.lock:
            self.requests.clear()
            self.incomplete_requests.clear()
            self.handler_errors.clear()
            self._faults.clear()
            self._fault_rate = None
            for held in self._holds:
                held.release()
            self._holds.clear()
            self.faults_injected.clear()
            self.fault_log.clear()
            self.basic_auth_challenge = False

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        path_contains: str = "",
        method: str | None = None,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        mode: str = "status",
        delay: float = 5.0,
    ) -> None:
        """Make the next ``count`` matching requests fail.

        Modes: ``status`` answers ``status`` with ``body`` (default: the platform's error body) without
        processing; ``timeout`` waits ``delay`` seconds, then closes without answering; ``drop`` closes at
        once without answering; ``truncated`` answers 200 with a cut-off JSON body; ``after`` processes the
        request normally (state changes!) and then answers ``status``; ``after_drop`` processes it and then
        closes without answering. The last two emulate "accepted by the platform, but the reply was lost".
        """
        if mode not in FAULT_MODES:
            raise ValueError(f"unknown fault mode {mode!r}; expected one of {FAULT_MODES}")
        raw = body.encode() if isinstance(body, str) else body
        fault = Fault(
            mode,
            remaining=count,
            status=status,
            path_contains=path_contains,
            method=method,
            body=raw,
            headers=dict(headers or {}),
            delay=delay,
            processed_first=mode in ("after", "after_drop"),
        )
        with self.lock:
            self._faults.append(fault)

    def set_fault_rate(
        self,
        rate: float,
        *,
        seed: int,
        modes: tuple[str, ...] = RATE_FAULT_MODES,
        timeout_delay: float = 5.0,
        retry_after: float = 1.0,
    ) -> None:
        """Make every request fail with probability ``rate`` (0 turns it off), drawn from ``random.Random(seed)``.

        Modes drawn from (see ``sandbox.faults``): ``status`` (500, 502 or 503, not processed), ``throttle``
        (429 with ``Retry-After: retry_after``), ``timeout`` (no answer for ``timeout_delay`` seconds, then
        closed: make it longer than the client's timeout), ``drop`` (closed at once), ``malformed`` and
        ``truncated`` (a 200 whose body is not JSON, or cut off), and for writes only ``after`` and
        ``after_drop`` (processed, then a 5xx or a closed connection). A write answered ``malformed`` or
        ``truncated`` is processed first. Faults set with ``fail_next`` are applied before rate faults.
        """
        fault_rate = FaultRate(rate, seed=seed, modes=modes, timeout_delay=timeout_delay, retry_after=retry_after)
        with self.lock:
            self._fault_rate = fault_rate if rate > 0 else None

    def hold_next(self, *, path_contains: str = "", method: str | None = None, timeout: float = 30.0) -> HeldReply:
        """Process the next matching request at once but keep its answer back until the returned
        ``HeldReply`` is released (``reached`` is set while it waits): for tests of interleavings."""
        held = HeldReply(path_contains=path_contains, method=method, timeout=timeout)
        with self.lock:
            self._holds.append(held)
        return held

    def requests_to(self, path_contains: str, method: str | None = None) -> list[RecordedRequest]:
        """Recorded requests whose path contains ``path_contains`` (and of ``method``, if given)."""
        with self.lock:
            return [
                r for r in self.requests if path_contains in r.path and (method is None or r.method == method.upper())
            ]

    # -- subclass hooks ----------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        """The dispatch table; checked in order, first full match of the path wins."""
        return []

    def before_dispatch(self, request: RecordedRequest) -> Response | None:
        """Refuse a request before routing (authentication, rate limit); None lets it through."""
        return None

    def error_response(self, status: int, message: str, *, code: str | None = None) -> Response:
        """An error in the platform's own shape."""
        return json_response(status, {"error": code or str(status), "message": message})

    def truncated_body(self) -> bytes:
        """The default body of a "truncated" fault: JSON cut off mid-value."""
        return b'{"data": [{"id": 1, "name": "trunc'

    # -- internals ---------------------------------------------------------------------------------

    def _record_and_take_fault(self, request: RecordedRequest) -> Fault | None:
        with self.lock:
            self.requests.append(request)
            chosen = None
            for fault in self._faults:
                if fault.matches(request.method, request.path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    chosen = fault
                    break
            if chosen is None and self._fault_rate is not None:
                chosen = self._fault_rate.draw(request.method)
            if chosen is not None:
                label = chosen.label or chosen.mode
                self.faults_injected[label] += 1
                self.fault_log.append((request.method, request.path, label))
            return chosen

    def _take_hold(self, request: RecordedRequest) -> HeldReply | None:
        with self.lock:
            for held in self._holds:
                if held.matches(request.method, request.path):
                    self._holds.remove(held)
                    return held
        return None

    def _fault_response(self, fault: Fault) -> Response:
        if fault.body is None:
            response = self.error_response(fault.status, "Injected fault")
        else:
            response = Response(fault.status, fault.body, {"Content-Type": "application/json; charset=utf-8"})
        response.headers.update(fault.headers)
        return response

    def _dispatch(self, request: RecordedRequest) -> Response:
        with self.lock:
            if self.basic_auth_challenge:
                return Response(
                    401,
                    b"401 Unauthorized",
                    {"WWW-Authenticate": 'Basic realm="site"', "Content-Type": "text/plain; charset=utf-8"},
                )
            refused = self.before_dispatch(request)
            if refused is not None:
                return refused
            path_matched = False
            for entry in self._routes:
                match = entry.pattern.fullmatch(request.path)
                if match is None:
                    continue
                path_matched = True
                if entry.method == request.method:
                    return entry.handler(request, match)
            if path_matched:
                return self.error_response(405, f"Method {request.method} not allowed on {request.path}")
            return self.error_response(404, f"No resource at {request.path}")
