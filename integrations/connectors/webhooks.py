"""What a cart that sends webhooks offers, platform-neutral: its subscriptions and its notifications.

A notification is a hint, never data: it names an order that changed, and the pipeline reads that
order from the platform as polling would. So a notification that is forged (refused by its
signature), replayed, duplicated or late can at worst cause one more read of the order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from integrations.connectors.canonical import OrderPage


class NotificationRefused(ValueError):
    """A notification body we cannot use: the message says why, for the sender's log (no body echo)."""


def notification_object(body: bytes) -> dict:
    """A notification's body as the JSON object it must be; `NotificationRefused` when it is not."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise NotificationRefused("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise NotificationRefused("the body is not a JSON object")
    return payload


@dataclass(frozen=True)
class RemoteSubscription:
    """A webhook subscription as the platform shows it; `secret` only when it was just made."""

    platform_id: str
    endpoint_url: str
    topics: tuple[str, ...]
    secret: str = ""


@dataclass(frozen=True)
class Notification:
    """One notification about one order: who sent it, about which order, and when it was made."""

    notification_id: str
    topic: str
    cart_order_id: str
    event_at: datetime
    subscription_id: str = ""


class WebhookCart:
    """A cart connector that can subscribe to order notifications (mixed into its `CartConnector`).

    Platforms differ in three ways the class says: whether one subscription takes several topics
    (Squarespace) or one each (TradeGecko: `one_topic_per_subscription`); whether each subscription
    has its own secret (Squarespace) or every notification is signed with our OAuth app's client
    secret (TradeGecko: `app_signed`); and whether the notification's id comes in a header
    (`delivery_header`) rather than in the body."""

    webhook_topics: ClassVar[tuple[str, ...]] = ()
    signature_header: ClassVar[str] = ""
    delivery_header: ClassVar[str] = ""
    one_topic_per_subscription: ClassVar[bool] = False
    app_signed: ClassVar[bool] = False
    max_notification_bytes: ClassVar[int] = 64 * 1024

    @classmethod
    def webhook_topic_groups(cls) -> tuple[tuple[str, ...], ...]:
        """The topics of each subscription the connection keeps (sorted within each)."""
        if cls.one_topic_per_subscription:
            return tuple((topic,) for topic in sorted(cls.webhook_topics))
        return (tuple(sorted(cls.webhook_topics)),)

    def webhooks_unavailable(self) -> str:
        """Why this connection cannot have webhooks (a person reads it), or "" when it can."""
        raise NotImplementedError

    def webhook_subscriptions(self) -> list[RemoteSubscription]:
        raise NotImplementedError

    def webhook_subscribe(self, endpoint_url: str, topics: tuple[str, ...]) -> RemoteSubscription:
        """Make a subscription to `topics` (one of `webhook_topic_groups`) at `endpoint_url`; the answer
        holds its secret unless the platform signs with our app's (`app_signed`)."""
        raise NotImplementedError

    def webhook_unsubscribe(self, platform_id: str) -> None:
        """Remove a subscription (one already gone counts as removed)."""
        raise NotImplementedError

    def orders_by_id(self, cart_order_ids: list[str]) -> OrderPage:
        """The current state of these orders (one the cart no longer has is left out)."""
        raise NotImplementedError

    @classmethod
    def signature_valid(cls, body: bytes, signature: str, secret: str) -> bool:
        """Whether `signature` (the header's value) signs `body` with `secret`, compared in constant time."""
        raise NotImplementedError

    @classmethod
    def notification_parse(cls, body: bytes, *, delivery_id: str = "") -> Notification | None:
        """The notification in `body` (`delivery_id`: the `delivery_header`'s value); None for a topic
        that is not about an order; raises `NotificationRefused` for a body that is not a notification."""
        raise NotImplementedError


def webhook_capable(connector_class: type) -> bool:
    return issubclass(connector_class, WebhookCart)
