"""Many accounts of one platform behind one loopback server: what the fleet benchmark's 1,000 merchants talk to.

The platform sandboxes are single-account: one server, one API key or one login. A fleet of merchants
needs one account each, and 1,000 servers (threads, ports) would make the emulator what is measured. A
``MultiAccountServer`` is one threaded server that finds the account a request belongs to from its
credentials, the way the platforms do, and hands the request to that account's own sandbox (never
started: only its dispatch is used). So each account keeps its own store, its own rate-limit window and
its own cooldown, and answers exactly as the single-account sandbox does, in the platform's shape:

- Squarespace (developers.squarespace.com): an API key belongs to one site; ``Authorization: Bearer
  <key>`` names the account, and so does an OAuth access token the site issued (``grant``: the tokens
  a merchant's "Grant us API access" would give, issued without the browser's round trip). The
  documented limit (300 requests a minute, then a one-minute cooldown) applies per site, as the
  single sandbox applies it.
- Extensiv 3PL Warehouse Manager (Bergen): the token request's HTTP Basic ``username`` names the account;
  the bearer token it issues names it afterwards. No rate limit is documented, so none is applied.

A request naming no known account is answered by an account nobody holds credentials for: 401 in the
platform's own shape. Every answer 429 is counted (``throttled``): the benchmark's rate-limit violations.
Requests are counted, not kept (the fleet makes tens of thousands).
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import time
from typing import Any

from sandbox.bergen import BergenSandbox
from sandbox.server import RecordedRequest, Response, SandboxServer
from sandbox.squarespace import SquarespaceSandbox


class MultiAccountServer(SandboxServer):
    """One server for many accounts of a platform; subclasses say how a request names its account."""

    def __init__(self, *, nobody: SandboxServer, port: int = 0) -> None:
        self.accounts: dict[str, Any] = {}
        self._nobody = nobody
        self.requests_served = 0
        self.throttled = 0
        super().__init__(port=port)

    def account_for(self, request: RecordedRequest) -> Any | None:
        raise NotImplementedError

    def _record_and_take_fault(self, request: RecordedRequest) -> None:
        with self.lock:
            self.requests_served += 1
        return None

    def _dispatch(self, request: RecordedRequest) -> Response:
        account = self.account_for(request) or self._nobody
        response = account._dispatch(request)
        if response.status == 429:
            with self.lock:
                self.throttled += 1
        return response


class _FrontedSquarespace(SquarespaceSandbox):
    """One site behind the shared server: its absolute ``nextPageUrl`` points at that server."""

    front: SandboxServer

    @property
    def base_url(self) -> str:
        return self.front.base_url


class SquarespaceAccounts(MultiAccountServer):
    """Squarespace sites by API key or granted access token, each with its own orders, inventory,
    rate-limit window, subscriptions and notifications."""

    def __init__(self, *, port: int = 0) -> None:
        super().__init__(
            nobody=SquarespaceSandbox(api_key=secrets.token_hex(16), rate_limit_per_minute=None), port=port
        )
        self._by_token: dict[str, SquarespaceSandbox] = {}

    def add_account(self, api_key: str, **options: Any) -> SquarespaceSandbox:
        account = _FrontedSquarespace(api_key, **options)
        account.front = self
        self.accounts[api_key] = account
        return account

    def grant(self, api_key: str) -> dict[str, Any]:
        """The site's token answer for an offline grant (access and refresh tokens), as its token
        endpoint gives it; requests bearing the access token are that site's from now on."""
        site = self.accounts[api_key]
        with site.lock:
            answer = site._issue(offline=True)
        with self.lock:
            self._by_token[answer["access_token"]] = site
        return answer

    def account_for(self, request: RecordedRequest) -> SquarespaceSandbox | None:
        scheme, _, key = (request.header("Authorization") or "").partition(" ")
        if scheme != "Bearer":
            return None
        with self.lock:
            return self.accounts.get(key) or self._by_token.get(key)


class _ArrivalsBergen(BergenSandbox):
    """One warehouse account that notes when each order was stored (wall clock), by ``referenceNum``."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.arrivals: dict[str, float] = {}

    def _accept_order(self, body: dict[str, Any], *, refuse_duplicates: bool) -> Response:
        response = super()._accept_order(body, refuse_duplicates=refuse_duplicates)
        if response.status == 201:
            self.arrivals.setdefault(body["referenceNum"], time.time())
        return response


class BergenAccounts(MultiAccountServer):
    """Extensiv (Bergen) accounts by login, and by the bearer tokens each login was issued."""

    def __init__(self, *, port: int = 0) -> None:
        super().__init__(nobody=BergenSandbox(secrets.token_hex(8), secrets.token_hex(16)), port=port)
        self._by_token: dict[str, BergenSandbox] = {}

    def add_account(self, username: str, password: str, **options: Any) -> _ArrivalsBergen:
        account = _ArrivalsBergen(username, password, **options)
        self.accounts[username] = account
        return account

    def account_for(self, request: RecordedRequest) -> BergenSandbox | None:
        scheme, _, credential = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer":
            with self.lock:
                return self._by_token.get(credential)
        if scheme.lower() == "basic":
            try:
                username = base64.b64decode(credential, validate=True).decode().partition(":")[0]
            except (binascii.Error, UnicodeDecodeError):
                return None
            return self.accounts.get(username)
        return None

    def _dispatch(self, request: RecordedRequest) -> Response:
        response = super()._dispatch(request)
        account = self.account_for(request)
        if account is not None and response.status == 200 and request.path.lower() == "/authserver/api/token":
            with self.lock:
                self._by_token[json.loads(response.body)["access_token"]] = account
        return response
