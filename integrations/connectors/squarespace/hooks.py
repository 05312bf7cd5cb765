"""Squarespace webhook payloads, as pure functions: subscriptions and notifications.

Wire contract (developers.squarespace.com/webhooks): subscriptions are made with
`POST /1.0/webhook_subscriptions` `{"endpointUrl", "topics"}` (an https endpoint; up to 25 a
site), which answers the subscription with its `secret` (hex; shown only then, or on a rotation);
`GET /1.0/webhook_subscriptions` lists them (`webhookSubscriptions`) without secrets, and
`DELETE /1.0/webhook_subscriptions/{id}` removes one. A notification is a POST whose body is JSON
`{id, websiteId, subscriptionId, topic, createdOn, data}` (order topics carry `data.orderId`), signed in
the `Squarespace-Signature` header: hex HMAC-SHA256 of the raw body, keyed with the secret decoded
from hex to bytes.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
from typing import Any

from integrations.connectors.errors import BadPayloadError
from integrations.connectors.parsing import parse_datetime
from integrations.connectors.webhooks import Notification, NotificationRefused, RemoteSubscription, notification_object

SUBSCRIPTIONS_PATH = "/1.0/webhook_subscriptions"
ORDER_TOPICS = ("order.create", "order.update")
SIGNATURE_HEADER = "Squarespace-Signature"


def signature_of(body: bytes, secret: str) -> str:
    """The signature Squarespace puts on `body` for a subscription with this hex `secret`."""
    return hmac.new(binascii.unhexlify(secret), body, hashlib.sha256).hexdigest()


def signature_valid(body: bytes, signature: str, secret: str) -> bool:
    """Constant-time comparison of the header's signature with the expected one (case-insensitive
    hex); an empty secret (one we could not decrypt) or one that is not hex signs nothing."""
    if not secret:
        return False
    try:
        expected = signature_of(body, secret)
    except (binascii.Error, ValueError):
        return False
    given = (signature or "").strip().lower().encode("ascii", "replace")
    return hmac.compare_digest(expected.encode("ascii"), given)


def parse_notification(body: bytes) -> Notification | None:
    """The notification in a (verified) body; None for a topic that names no order."""
    payload = notification_object(body)
    topic = payload.get("topic")
    if not isinstance(topic, str) or not topic:
        raise NotificationRefused("the notification has no topic")
    if topic not in ORDER_TOPICS:
        return None
    data = payload.get("data")
    order_id = data.get("orderId") if isinstance(data, dict) else None
    notification_id = payload.get("id") or payload.get("notificationId")
    created = payload.get("createdOn")
    if not isinstance(order_id, str) or not order_id.strip() or len(order_id) > 100:
        raise NotificationRefused("the notification names no order (data.orderId)")
    if not isinstance(notification_id, str) or not notification_id or len(notification_id) > 100:
        raise NotificationRefused("the notification has no id")
    try:
        event_at = parse_datetime(created) if isinstance(created, str) else None
    except (ValueError, BadPayloadError):
        event_at = None
    if event_at is None:
        raise NotificationRefused("the notification has no readable createdOn")
    subscription = payload.get("subscriptionId")
    return Notification(
        notification_id=notification_id,
        topic=topic,
        cart_order_id=order_id.strip(),
        event_at=event_at,
        subscription_id=subscription if isinstance(subscription, str) else "",
    )


def parse_subscription(record: Any) -> RemoteSubscription:
    if not isinstance(record, dict) or not isinstance(record.get("id"), str) or not record["id"]:
        raise BadPayloadError("Squarespace answered a webhook subscription without an id")
    topics = record.get("topics") if isinstance(record.get("topics"), list) else []
    secret = record.get("secret")
    return RemoteSubscription(
        platform_id=record["id"],
        endpoint_url=str(record.get("endpointUrl") or ""),
        topics=tuple(sorted(str(t) for t in topics)),
        secret=secret if isinstance(secret, str) else "",
    )


def parse_subscriptions(body: Any) -> list[RemoteSubscription]:
    records = body.get("webhookSubscriptions") if isinstance(body, dict) else None
    if not isinstance(records, list):
        raise BadPayloadError("Squarespace answered the webhook subscriptions listing without a list")
    return [parse_subscription(record) for record in records]
