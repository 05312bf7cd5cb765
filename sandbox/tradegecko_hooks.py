"""The TradeGecko sandbox's webhooks and signed notifications, written from TradeGecko's archived
"Webhooks" page, independently of the connector. Mixed into ``TradeGeckoSandbox``.

As documented:
- ``POST /webhooks`` ``{"webhook": {"address", "event"}}`` answers 201 ``{"webhook": {...}}``;
  ``GET /webhooks`` lists them (``{"webhooks": [...]}``, paged like every list); ``DELETE
  /webhooks/{id}`` answers 204. One event per webhook.
- A notification is POSTed to ``address`` with the JSON body ``{"object_id", "event", "timestamp"
  (epoch s), "resource_url"}`` and the headers ``X-Gecko-Delivery`` (unique per event) and
  ``X-Gecko-Signature`` = Base64(HMAC-SHA256(key = the application's client secret, the raw body)).
- An answer from 200 to 399 counts as received; ``410`` deletes the webhook; anything else is retried
  with exponential backoff; three days of failures delete the webhook too (``fail_for_three_days``
  plays the three days).

Assumptions: the list of events was not found; this sandbox accepts ``order.create``,
``order.finalized``, ``order.fulfilled`` and ``fulfillments.create`` (the docs' example) and refuses
others with 422. The address must be https (422 otherwise). An order made through the API or seeded
sends ``order.create``; one whose status becomes ``finalized`` sends ``order.finalized``. Test
switches: ``duplicate_notifications`` sends each twice, ``reorder_notifications`` delivers newest first.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from sandbox.notifier import BackgroundNotifier
from sandbox.server import RecordedRequest, Response, Route, json_response, route

EVENTS = ("order.create", "order.finalized", "order.fulfilled", "fulfillments.create")
BACKOFF_SECONDS = 1.0  # the first retry's delay; doubled each time

# (url, body, headers) -> HTTP status; raising counts as a failed delivery.
Transport = Callable[[str, bytes, dict[str, str]], int]


@dataclass
class Delivery:
    webhook_id: int
    url: str
    body: bytes
    headers: dict[str, str]
    attempts: int = 0
    delivered: bool = False
    due_at: float = 0.0
    statuses: list[int] = field(default_factory=list)


def _http_post(url: str, body: bytes, headers: dict[str, str]) -> int:
    return requests.post(url, data=body, headers=headers, timeout=10, allow_redirects=False).status_code


class TradeGeckoHooks(BackgroundNotifier):
    """Webhooks and notifications; the host gives ``lock``, ``store``, ``client_secret``, ``base_url``,
    ``error_response``."""

    notifier_name = "tradegecko-notifier"

    lock: Any
    store: Any
    client_secret: str
    base_url: str
    error_response: Callable[..., Response]

    def hooks_init(self) -> None:
        self.webhooks: dict[int, dict[str, Any]] = {}
        self.deliveries: list[Delivery] = []
        self.duplicate_notifications = False
        self.reorder_notifications = False
        self._seen_status: dict[int, str] = {}

    def hook_routes(self) -> list[Route]:
        return [
            route("GET", r"/webhooks/?", self._list_webhooks),
            route("POST", r"/webhooks/?", self._create_webhook),
            route("DELETE", r"/webhooks/(?P<id>\d+)/?", self._delete_webhook),
        ]

    # -- webhooks -----------------------------------------------------------------------------------

    def _list_webhooks(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        with self.lock:
            listed = sorted(self.webhooks.values(), key=lambda w: w["id"])
            return json_response(200, {"webhooks": [dict(w) for w in listed]})

    def _create_webhook(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        body = request.json.get("webhook") if isinstance(request.json, dict) else None
        if not isinstance(body, dict):
            return self.error_response(400, "param is missing or the value is empty: webhook")
        address, event = body.get("address"), body.get("event")
        errors: dict[str, list[str]] = {}
        if not isinstance(address, str) or not address.startswith("https://"):
            errors["address"] = ["must be an https URL"]
        if event not in EVENTS:
            errors["event"] = ["is not included in the list"]
        if errors:
            return json_response(422, {"errors": errors})
        with self.lock:
            if not self.webhooks:
                self._seen_status = {i: o.get("status") for i, o in self.store.orders.items()}
            webhook = {"id": self.store.new_id(), "address": address, "event": event, "created_at": _now_iso()}
            self.webhooks[webhook["id"]] = webhook
            return json_response(201, {"webhook": dict(webhook)})

    def _delete_webhook(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        with self.lock:
            if self.webhooks.pop(int(match["id"]), None) is None:
                return self.error_response(404, "Webhook not found")
            return Response(204, b"", {})

    # -- notifications ------------------------------------------------------------------------------

    def hooks_scan(self) -> None:
        """Queue the notifications of what changed since the last scan (called with the lock held):
        a new order sends ``order.create``, one now ``finalized`` sends ``order.finalized``. Nothing
        to do without webhooks (the first one made takes the orders as they are then)."""
        if not self.webhooks:
            return
        for order_id, order in self.store.orders.items():
            before = self._seen_status.get(order_id)
            status = order.get("status")
            if before is None:
                self._notify("order.create", order_id)
            if status == "finalized" and before != "finalized":
                self._notify("order.finalized", order_id)
            self._seen_status[order_id] = status

    def _notify(self, event: str, order_id: int) -> None:
        payload = {
            "object_id": order_id,
            "event": event,
            "timestamp": int(time.time()),
            "resource_url": f"{self.base_url}/orders/{order_id}.json",
        }
        body = json.dumps(payload).encode()
        signature = base64.b64encode(hmac.new(self.client_secret.encode(), body, hashlib.sha256).digest()).decode()
        headers = {
            "Content-Type": "application/json",
            "X-Gecko-Delivery": str(uuid.uuid4()),
            "X-Gecko-Signature": signature,
        }
        for webhook in self.webhooks.values():
            if webhook["event"] == event:
                copies = 2 if self.duplicate_notifications else 1
                self.deliveries += [
                    Delivery(webhook["id"], webhook["address"], body, dict(headers)) for _ in range(copies)
                ]

    def notifications_deliver(self, transport: Transport | None = None, *, wait_backoff: bool = False) -> int:
        """Send the deliveries not yet received (with ``wait_backoff``, only those whose backoff ran out);
        returns how many were received now. 200-399 is received; 410 deletes the webhook; others retry."""
        now = time.time()
        with self.lock:
            due = [
                d
                for d in self.deliveries
                if not d.delivered and d.webhook_id in self.webhooks and (not wait_backoff or d.due_at <= now)
            ]
        if self.reorder_notifications:
            due.reverse()
        send = transport or _http_post
        received = 0
        for delivery in due:
            delivery.attempts += 1
            try:
                status = send(delivery.url, delivery.body, delivery.headers)
            except Exception:  # noqa: BLE001 - a failed delivery, as any answer outside 200-399, is retried
                status = 0
            delivery.statuses.append(status)
            if 200 <= status < 400:
                delivery.delivered = True
                received += 1
            elif status == 410:
                with self.lock:
                    self.webhooks.pop(delivery.webhook_id, None)
            else:
                delivery.due_at = time.time() + BACKOFF_SECONDS * 2 ** (delivery.attempts - 1)
        return received

    def fail_for_three_days(self) -> list[int]:
        """Three days pass: each webhook whose last delivery failed is deleted, as TradeGecko does."""
        with self.lock:
            failing = {d.webhook_id for d in self.deliveries if not d.delivered and d.attempts}
            for webhook_id in failing:
                self.webhooks.pop(webhook_id, None)
            return sorted(failing)

    def _notifier_tick(self, transport: Transport | None) -> None:
        self.notifications_deliver(transport, wait_backoff=True)


def _now_iso() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
