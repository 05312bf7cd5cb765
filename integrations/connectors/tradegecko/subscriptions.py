"""TradeGecko webhooks and single orders over HTTP (the payloads: `hooks`), mixed into `TradeGeckoCart`.

Only a connection granted through our OAuth app can have webhooks: TradeGecko signs notifications
with the application's client secret, so those made with a merchant's privileged token (their own
application, whose secret we do not hold) could not be verified. One webhook per event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import requests

from integrations.connectors.canonical import OrderPage
from integrations.connectors.tradegecko import hooks
from integrations.connectors.webhooks import Notification, RemoteSubscription, WebhookCart
from integrations.http import ApiClient, parse_json

PRIVILEGED_TOKEN = (
    "Webhooks: off. This connection uses a privileged access token; TradeGecko signs webhooks with the "
    "application's secret, which Orderbridge holds only for its own app: orders are polled. Use “Grant us "
    "API access” to have new orders notified at once."
)
NO_APP_SECRET = (
    "Webhooks: off. Orderbridge's OAuth app secret ({setting}_OAUTH_CLIENT_SECRET) is not set, and it is what "
    "verifies TradeGecko's notifications: orders are polled."
)


class TradeGeckoWebhooks(WebhookCart):
    """The webhook side of a TradeGecko cart connection (`TradeGeckoApi` gives the session)."""

    webhook_topics = hooks.ORDER_EVENTS
    signature_header = hooks.SIGNATURE_HEADER
    delivery_header = hooks.DELIVERY_HEADER
    one_topic_per_subscription = True
    app_signed = True
    credentials: dict[str, Any]
    settings: dict[str, Any]
    key: str
    label: str
    api: Callable[[], ApiClient]
    call: Callable[..., requests.Response]
    every: Callable[..., list[dict[str, Any]]]
    by_ids: Callable[[str, str, Iterable[str]], list[dict[str, Any]]]
    _order_page: Callable[[list[dict[str, Any]]], OrderPage]

    def webhooks_unavailable(self) -> str:
        if not self.credentials.get("refresh_token"):
            return PRIVILEGED_TOKEN
        if not self.settings.get("_oauth_client_secret"):
            return NO_APP_SECRET.format(setting=self.key.upper())
        return ""

    def webhook_subscriptions(self) -> list[RemoteSubscription]:
        return hooks.parse_webhooks({"webhooks": self.every(hooks.WEBHOOKS_PATH, "webhooks")})

    def webhook_subscribe(self, endpoint_url: str, topics: tuple[str, ...]) -> RemoteSubscription:
        [event] = topics
        response = self.call("POST", hooks.WEBHOOKS_PATH, json_body=hooks.webhook_body(endpoint_url, event))
        body = parse_json(response, self.label, self.api().secrets)
        return hooks.parse_webhook(body.get("webhook") if isinstance(body, dict) else None)

    def webhook_unsubscribe(self, platform_id: str) -> None:
        if platform_id.isdigit():
            self.call("DELETE", f"{hooks.WEBHOOKS_PATH}/{platform_id}", ok_statuses=(404,))

    def orders_by_id(self, cart_order_ids: list[str]) -> OrderPage:
        """`GET /orders?ids[]=…` in batches; an order TradeGecko no longer has is simply not listed."""
        ids = [i.strip() for i in cart_order_ids if i.strip().isdigit()]
        return self._order_page(self.by_ids("/orders", "orders", ids))

    @classmethod
    def signature_valid(cls, body: bytes, signature: str, secret: str) -> bool:
        return hooks.signature_valid(body, signature, secret)

    @classmethod
    def notification_parse(cls, body: bytes, *, delivery_id: str = "") -> Notification | None:
        return hooks.parse_notification(body, delivery_id=delivery_id)
