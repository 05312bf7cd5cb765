"""The inbox: a notification verified, stored once, and handed to the worker, without calling anyone.

`notification_receive` is all the public endpoint does. The token in the URL finds the subscription
(unknown: 410 Gone, on which TradeGecko deletes its webhook; Squarespace retries it as any other
failure, and the daily check removes the subscription); its secret (or, for a platform that signs
with our OAuth app's client secret, that one) must verify the signature over the raw body, compared
in constant time (else 401); the body must be a notification (else 400, and the body is never echoed). What is not
about an order, or is for an inactive connection, or older than the inbox keeps rows (a replay of
something already pruned), is answered 200 and stored nowhere, so the platform stops resending it.
Everything else is one row, unique on (platform, connection, order, topic, time): a duplicate or a
replay finds the row (or one with the same notification id) and changes nothing. A new row queues
the worker once the row is committed. No platform is called here: the worker reads the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_q.tasks import async_task

from integrations.connectors.registry import CART_CONNECTORS
from integrations.connectors.webhooks import NotificationRefused, WebhookCart
from integrations.models import WebhookSubscription
from integrations.services import oauth_app
from sync.models import WebhookNotification

DRAIN_TASK = "sync.tasks.webhook_inbox_drain_task"


@dataclass(frozen=True)
class Receipt:
    """The answer to the platform: HTTP status and a short text (never the body it sent)."""

    status: int
    message: str


def _connector_class(platform: str) -> type[WebhookCart] | None:
    cls = CART_CONNECTORS.get(platform)
    return cls if cls is not None and issubclass(cls, WebhookCart) else None  # type: ignore[return-value]


def max_body_bytes(platform: str) -> int:
    cls = _connector_class(platform)
    return cls.max_notification_bytes if cls is not None else 0


def signature_header(platform: str) -> str:
    cls = _connector_class(platform)
    return cls.signature_header if cls is not None else ""


def delivery_header(platform: str) -> str:
    cls = _connector_class(platform)
    return cls.delivery_header if cls is not None else ""


def _signing_secret(cls: type[WebhookCart], subscription: WebhookSubscription) -> str:
    """The key the platform signs with: the subscription's own secret, or our OAuth app's."""
    if cls.app_signed:
        return oauth_app(platform=subscription.connection.platform, cls=cls).client_secret  # type: ignore[arg-type]
    return subscription.secret


def notification_receive(*, platform: str, token: str, body: bytes, signature: str, delivery_id: str = "") -> Receipt:
    cls = _connector_class(platform)
    if cls is None:
        return Receipt(404, "Unknown webhook address.")
    subscription = (
        WebhookSubscription.objects.select_related("connection__merchant")
        .filter(token=token, connection__platform=platform)
        .first()
        if token
        else None
    )
    if subscription is None:  # removed, or never ours: gone for good (a token is never reused)
        return Receipt(410, "Gone: no subscription at this address.")
    secret = _signing_secret(cls, subscription)
    if not (signature and secret) or not cls.signature_valid(body, signature, secret):
        return Receipt(401, "The signature does not match.")
    try:
        notification = cls.notification_parse(body, delivery_id=delivery_id[:100])
    except NotificationRefused as exc:
        return Receipt(400, f"Not a notification: {exc}.")
    if notification is None:
        return Receipt(200, "Ignored: not about an order.")
    connection = subscription.connection
    if not (connection.active and connection.merchant.active):
        return Receipt(200, "Ignored: the connection is inactive.")
    if notification.event_at < timezone.now() - timedelta(days=settings.WEBHOOK_INBOX_RETENTION_DAYS):
        return Receipt(200, "Ignored: older than the inbox keeps notifications.")
    seen = WebhookNotification.objects.filter(
        cart_connection=connection, platform=platform, notification_id=notification.notification_id
    )
    if notification.notification_id and seen.exists():  # the same delivery sent again
        return Receipt(200, "Already received.")
    try:
        with transaction.atomic():
            _row, created = WebhookNotification.objects.get_or_create(
                platform=platform,
                cart_connection=connection,
                cart_order_id=notification.cart_order_id,
                topic=notification.topic,
                event_at=notification.event_at,
                defaults={"notification_id": notification.notification_id},
            )
    except IntegrityError:  # the same notification, stored at the same moment by another request
        created = False
    if not created:
        return Receipt(200, "Already received.")
    transaction.on_commit(lambda: inbox_drain_queue(connection_id=connection.pk))
    return Receipt(200, "Received.")


def inbox_drain_queue(*, connection_id: int) -> None:
    async_task(DRAIN_TASK, connection_id=connection_id, group="orderbridge-webhooks")


def notifications_waiting(*, connection_id: int) -> QuerySet[WebhookNotification]:
    """The connection's notifications not handled yet."""
    return WebhookNotification.objects.filter(cart_connection_id=connection_id, handled_at__isnull=True)


def inbox_drain_queue_if_waiting(*, connection_id: int) -> bool:
    """Queue the connection's drain when notifications wait (called by an orders run that just let the
    lock go: a drain skipped while it ran would otherwise leave them to the sweep)."""
    waiting = notifications_waiting(connection_id=connection_id).exists()
    if waiting:
        inbox_drain_queue(connection_id=connection_id)
    return waiting
