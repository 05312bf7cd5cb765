"""The Squarespace sandbox's OAuth provider, webhook subscriptions and signed notifications.

Written from developers.squarespace.com (OAuth; Webhooks; Webhook Subscriptions API), independently
of the connector. Mixed into ``SquarespaceSandbox``.

As documented:
- ``GET /api/1/login/oauth/provider/authorize`` (``client_id``, ``redirect_uri``, ``scope``, ``state``,
  ``access_type``) sends the browser back to ``redirect_uri?code=…&state=…`` (auto-approved here).
- ``POST /api/1/login/oauth/provider/tokens`` with the client as HTTP Basic and a JSON body: ``grant_type``
  ``authorization_code`` (``code``, ``redirect_uri``) or ``refresh_token`` (``refresh_token``). The answer:
  ``token_type``, ``access_token``, ``access_token_expires_at``, ``refresh_token``,
  ``refresh_token_expires_at`` (epoch seconds). Access tokens live 30 minutes, refresh tokens 7 days
  (given only with ``access_type=offline``); a refresh token works once.
- Webhook subscriptions (``/1.0/webhook_subscriptions``) need an OAuth token: an API key is refused.
  ``endpointUrl`` must be https; at most 25 a site; the ``secret`` (hex) is in the create answer only.
- A notification is POSTed to ``endpointUrl`` with body ``{id, websiteId, subscriptionId, topic,
  createdOn, data: {orderId[, update]}}`` and ``Squarespace-Signature`` = hex HMAC-SHA256 of the body,
  keyed with the secret decoded from hex. Anything but a 2xx is retried.

Assumptions: codes live 10 minutes and work once; an unknown client is 401 ``invalid_client``, a bad
code or refresh token 400 ``invalid_grant``; an API key on the subscriptions API is 401. Test switches:
``duplicate_notifications`` sends each notification twice, ``reorder_notifications`` delivers a batch
newest first, ``http_endpoints_allowed`` accepts an http ``endpointUrl`` (the fleet benchmark's web
process on loopback, which serves no TLS). Notifications wait in ``outbox`` until
``notifications_deliver`` (tests, with a transport of their own) or the background sender
(``start_notifier``) sends them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import requests

from sandbox import squarespace_data as data
from sandbox.notifier import BackgroundNotifier
from sandbox.server import RecordedRequest, Response, Route, json_response, route

OAUTH = "/api/1/login/oauth/provider"
HOOKS = "/1.0/webhook_subscriptions"
ACCESS_TTL = 30 * 60
REFRESH_TTL = 7 * 24 * 3600
CODE_TTL = 600
MAX_SUBSCRIPTIONS = 25
TOPICS = ("order.create", "order.update", "extension.uninstall")

# (url, body, headers) -> HTTP status; raising counts as a failed delivery.
Transport = Callable[[str, bytes, dict[str, str]], int]


@dataclass
class Outgoing:
    url: str
    body: bytes
    headers: dict[str, str]
    attempts: int = 0
    delivered: bool = False
    statuses: list[int] = field(default_factory=list)


def _http_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    return requests.post(url, data=body, headers=headers, timeout=5).status_code


class SquarespaceHooks(BackgroundNotifier):
    """OAuth, subscriptions and notifications; the host class gives ``lock`` and ``error_response``."""

    notifier_name = "squarespace-notifier"

    oauth_client_id = "sandbox-squarespace-client"
    oauth_client_secret = "sandbox-squarespace-client-secret"  # noqa: S105 - the sandbox's own
    website_id = "5e1f0a2b3c4d5e6f7a8b9c0d"
    lock: Any
    error_response: Callable[..., Response]

    def hooks_init(self, *, max_attempts: int = 5) -> None:
        self.codes: dict[str, tuple[str, float, bool]] = {}  # code -> (redirect_uri, expires, offline)
        self.access_tokens: dict[str, float] = {}  # token -> expires (epoch s)
        self.refresh_tokens: dict[str, float] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.outbox: list[Outgoing] = []
        self.duplicate_notifications = False
        self.reorder_notifications = False
        self.http_endpoints_allowed = False
        self.max_attempts = max_attempts

    def hook_routes(self) -> list[Route]:
        return [
            route("GET", rf"{OAUTH}/authorize", self._authorize),
            route("POST", rf"{OAUTH}/tokens", self._tokens),
            route("GET", HOOKS, self._list_subscriptions),
            route("POST", HOOKS, self._create_subscription),
            route("GET", rf"{HOOKS}/(?P<sid>[^/]+)", self._get_subscription),
            route("DELETE", rf"{HOOKS}/(?P<sid>[^/]+)", self._delete_subscription),
            route("POST", rf"{HOOKS}/(?P<sid>[^/]+)/actions/rotateSecret", self._rotate_secret),
        ]

    @staticmethod
    def is_oauth_path(path: str) -> bool:
        return path.startswith(OAUTH)

    def oauth_token_valid(self, token: str) -> bool:
        with self.lock:
            expires = self.access_tokens.get(token)
            return expires is not None and expires > time.time()

    def expire_access_tokens(self) -> None:
        """Every access token runs out now (a test of the refresh)."""
        with self.lock:
            self.access_tokens = dict.fromkeys(self.access_tokens, 0.0)

    # -- OAuth ------------------------------------------------------------------------------------

    def _oauth_error(self, status: int, error: str, description: str) -> Response:
        return json_response(status, {"error": error, "error_description": description})

    def _authorize(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        if request.param("client_id") != self.oauth_client_id:
            return self._oauth_error(400, "invalid_request", "Unknown client_id.")
        redirect_uri = request.param("redirect_uri") or ""
        if not redirect_uri:
            return self._oauth_error(400, "invalid_request", "redirect_uri is required.")
        code = secrets.token_urlsafe(24)
        with self.lock:
            self.codes[code] = (redirect_uri, time.time() + CODE_TTL, request.param("access_type") == "offline")
        query = urlencode({"code": code, "state": request.param("state") or ""})
        return Response(302, b"", {"Location": f"{redirect_uri}{'&' if '?' in redirect_uri else '?'}{query}"})

    def _client_ok(self, request: RecordedRequest) -> bool:
        header = request.header("Authorization") or ""
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return hmac.compare_digest(f"{user}:{password}", f"{self.oauth_client_id}:{self.oauth_client_secret}")

    def _tokens(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        if not self._client_ok(request):
            return self._oauth_error(401, "invalid_client", "Client authentication failed.")
        body = request.json if isinstance(request.json, dict) else {}
        grant = body.get("grant_type")
        with self.lock:
            if grant == "authorization_code":
                entry = self.codes.pop(str(body.get("code") or ""), None)
                if entry is None or entry[1] < time.time() or entry[0] != body.get("redirect_uri"):
                    return self._oauth_error(400, "invalid_grant", "The code is invalid, used or expired.")
                return json_response(200, self._issue(offline=entry[2]))
            if grant == "refresh_token":
                expires = self.refresh_tokens.pop(str(body.get("refresh_token") or ""), None)
                if expires is None or expires < time.time():
                    return self._oauth_error(400, "invalid_grant", "The refresh token is invalid or was used.")
                return json_response(200, self._issue(offline=True))
        refusal = "grant_type must be authorization_code or refresh_token."
        return self._oauth_error(400, "unsupported_grant_type", refusal)

    def _issue(self, *, offline: bool) -> dict[str, Any]:
        now = time.time()
        access = secrets.token_urlsafe(32)
        self.access_tokens[access] = now + ACCESS_TTL
        answer: dict[str, Any] = {
            "token_type": "bearer",
            "access_token": access,
            "access_token_expires_at": now + ACCESS_TTL,
        }
        if offline:
            refresh = secrets.token_urlsafe(32)
            self.refresh_tokens[refresh] = now + REFRESH_TTL
            answer |= {"refresh_token": refresh, "refresh_token_expires_at": now + REFRESH_TTL}
        return answer

    # -- subscriptions ----------------------------------------------------------------------------

    def _oauth_only(self, request: RecordedRequest) -> Response | None:
        token = (request.header("Authorization") or "").removeprefix("Bearer ")
        if not self.oauth_token_valid(token):
            return self.error_response(401, "Webhook subscriptions need an OAuth access token (not an API key).")
        return None

    def _public(self, sub: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in sub.items() if k != "secret"}

    def _list_subscriptions(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        refused = self._oauth_only(request)
        if refused:
            return refused
        with self.lock:
            return json_response(200, {"webhookSubscriptions": [self._public(s) for s in self.subscriptions.values()]})

    def _create_subscription(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        refused = self._oauth_only(request)
        if refused:
            return refused
        body = request.json if isinstance(request.json, dict) else {}
        url, topics = body.get("endpointUrl"), body.get("topics")
        schemes = ("https://", "http://") if self.http_endpoints_allowed else ("https://",)
        if not isinstance(url, str) or not url.startswith(schemes):
            return self.error_response(400, "endpointUrl must be an https URL.", code="INVALID_ARGUMENT")
        if not isinstance(topics, list) or not topics or any(t not in TOPICS for t in topics):
            return self.error_response(400, f"topics must be among {', '.join(TOPICS)}.", code="INVALID_ARGUMENT")
        with self.lock:
            if len(self.subscriptions) >= MAX_SUBSCRIPTIONS:
                return self.error_response(400, "A site has at most 25 subscriptions.", code="INVALID_ARGUMENT")
            now = data.iso(data.now_utc())
            sub = {
                "id": data.new_object_id(),
                "endpointUrl": url,
                "topics": list(dict.fromkeys(topics)),
                "secret": secrets.token_hex(32),
                "createdOn": now,
                "updatedOn": now,
            }
            self.subscriptions[sub["id"]] = sub
            return json_response(200, dict(sub))

    def _subscription(self, request: RecordedRequest, sid: str) -> tuple[dict[str, Any] | None, Response | None]:
        refused = self._oauth_only(request)
        if refused:
            return None, refused
        sub = self.subscriptions.get(sid)
        if sub is None:
            return None, self.error_response(404, f"Webhook subscription {sid} was not found.")
        return sub, None

    def _get_subscription(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        with self.lock:
            sub, error = self._subscription(request, match["sid"])
            return error if sub is None else json_response(200, self._public(sub))

    def _delete_subscription(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        with self.lock:
            sub, error = self._subscription(request, match["sid"])
            if sub is None:
                return error  # type: ignore[return-value]
            del self.subscriptions[sub["id"]]
            return Response(204, b"", {})

    def _rotate_secret(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        with self.lock:
            sub, error = self._subscription(request, match["sid"])
            if sub is None:
                return error  # type: ignore[return-value]
            sub["secret"] = secrets.token_hex(32)
            return json_response(200, {"secret": sub["secret"]})

    # -- notifications ----------------------------------------------------------------------------

    def notify(self, topic: str, order_id: str, update: str | None = None) -> None:
        """Queue a signed notification to each subscription to `topic` (called with the lock held)."""
        for sub in self.subscriptions.values():
            if topic not in sub["topics"]:
                continue
            payload: dict[str, Any] = {
                "id": data.new_object_id(),
                "websiteId": self.website_id,
                "subscriptionId": sub["id"],
                "topic": topic,
                "createdOn": data.iso(data.now_utc()),
                "data": {"orderId": order_id} | ({"update": update} if update else {}),
            }
            body = json.dumps(payload).encode()
            signature = hmac.new(bytes.fromhex(sub["secret"]), body, hashlib.sha256).hexdigest()
            headers = {"Content-Type": "application/json", "Squarespace-Signature": signature}
            copies = 2 if self.duplicate_notifications else 1
            self.outbox += [Outgoing(sub["endpointUrl"], body, dict(headers)) for _ in range(copies)]

    def notifications_deliver(self, transport: Transport | None = None) -> int:
        """Send what waits in the outbox (each once more if it failed before); returns how many
        were accepted now. Anything but a 2xx, or an exception, is tried again next time until
        ``max_attempts``."""
        with self.lock:
            due = [o for o in self.outbox if not o.delivered and o.attempts < self.max_attempts]
        if self.reorder_notifications:
            due.reverse()
        send = transport or _http_post
        accepted = 0
        for outgoing in due:
            outgoing.attempts += 1
            try:
                status = send(outgoing.url, outgoing.body, outgoing.headers)
            except Exception:  # noqa: BLE001 - a failed delivery, as any non-2xx, is retried
                status = 0
            outgoing.statuses.append(status)
            if 200 <= status < 300:
                outgoing.delivered = True
                accepted += 1
        return accepted

    def _notifier_tick(self, transport: Transport | None) -> None:
        self.notifications_deliver(transport)
