"""TradeGecko webhook payloads, as pure functions: webhooks (one event each) and notifications.

Wire contract (TradeGecko's archived API docs, "Webhooks"; the gecko Ruby client's Webhook record has
`address` and `event`): a webhook is made with `POST /webhooks` `{"webhook": {"address", "event"}}`,
listed with `GET /webhooks` (`{"webhooks": [...]}`) and removed with `DELETE /webhooks/{id}`. A
notification is a POST whose JSON body is `{"object_id", "event", "timestamp" (epoch s),
"resource_url"}`, with the headers `X-Gecko-Delivery` (a unique id of the event) and
`X-Gecko-Signature`: Base64 of HMAC-SHA256 over the raw body, keyed with the OAuth application's
client secret (no secret per webhook). An answer from 200 to 399 within 10 s counts as received; 410
deletes the webhook; others are retried with exponential backoff, and 3 days of failures delete it.

The events: the docs' list of events was not found; `order.create` and `order.finalized` are named
the way their example (`fulfillments.create`) and integrators name events, an inference written
down in docs/platforms.md.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from integrations.connectors.errors import BadPayloadError
from integrations.connectors.webhooks import Notification, NotificationRefused, RemoteSubscription, notification_object

WEBHOOKS_PATH = "/webhooks"
ORDER_EVENTS = ("order.create", "order.finalized")
SIGNATURE_HEADER = "X-Gecko-Signature"
DELIVERY_HEADER = "X-Gecko-Delivery"


def signature_of(body: bytes, secret: str) -> str:
    """The signature TradeGecko puts on `body` for an application with this client secret."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode("ascii")


def signature_valid(body: bytes, signature: str, secret: str) -> bool:
    """Constant-time comparison of the header's signature with the expected one; an empty secret (no
    OAuth app set) signs nothing."""
    if not secret:
        return False
    given = (signature or "").strip().encode("ascii", "replace")
    return hmac.compare_digest(signature_of(body, secret).encode("ascii"), given)


def parse_notification(body: bytes, *, delivery_id: str = "") -> Notification | None:
    """The notification in a (verified) body; None for an event that is not about an order."""
    payload = notification_object(body)
    event = payload.get("event")
    if not isinstance(event, str) or not event:
        raise NotificationRefused("the notification has no event")
    if event not in ORDER_EVENTS:
        return None
    object_id, timestamp = payload.get("object_id"), payload.get("timestamp")
    if isinstance(object_id, bool) or not isinstance(object_id, int | str) or not str(object_id).strip().isdigit():
        raise NotificationRefused("the notification names no order (object_id)")
    if isinstance(timestamp, bool) or not isinstance(timestamp, int | float) or not 0 < timestamp < 2**33:
        raise NotificationRefused("the notification has no readable timestamp")
    order_id = str(object_id).strip()
    return Notification(
        notification_id=delivery_id.strip() or f"{event}:{order_id}:{int(timestamp)}",
        topic=event,
        cart_order_id=order_id,
        event_at=datetime.fromtimestamp(int(timestamp), tz=UTC),
    )


def webhook_body(address: str, event: str) -> dict[str, Any]:
    return {"webhook": {"address": address, "event": event}}


def parse_webhook(record: Any) -> RemoteSubscription:
    if not isinstance(record, dict) or isinstance(record.get("id"), bool) or not record.get("id"):
        raise BadPayloadError("TradeGecko answered a webhook without an id")
    event = record.get("event")
    return RemoteSubscription(
        platform_id=str(record["id"]),
        endpoint_url=str(record.get("address") or ""),
        topics=(event,) if isinstance(event, str) and event else (),
    )


def parse_webhooks(body: Any) -> list[RemoteSubscription]:
    records = body.get("webhooks") if isinstance(body, dict) else None
    if not isinstance(records, list):
        raise BadPayloadError("TradeGecko answered the webhooks listing without a list")
    return [parse_webhook(record) for record in records]
