"""Squarespace webhook subscriptions and single orders over HTTP (the payloads: `hooks`, `wire`).

Subscriptions need the OAuth grant: Squarespace refuses them to API keys, so a connection with only
a key says so (`webhooks_unavailable`) and is polled. Mixed into `SquarespaceCart`, whose `api()`
gives the session.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import quote

from integrations.connectors.canonical import OrderPage
from integrations.connectors.errors import PermanentError
from integrations.connectors.squarespace import hooks
from integrations.connectors.squarespace.wire import parse_page
from integrations.connectors.webhooks import Notification, RemoteSubscription, WebhookCart
from integrations.http import ApiClient, parse_json

ORDERS_PATH = "/1.0/commerce/orders"
API_KEY_ONLY = (
    "Webhooks: off. This connection uses an API key, and Squarespace gives webhooks only to an OAuth grant: "
    "orders are polled. Use “Grant us API access” to have new orders notified at once."
)


class SquarespaceWebhooks(WebhookCart):
    """The webhook side of a Squarespace connection."""

    credentials: dict[str, Any]
    label: str
    api: Callable[[], ApiClient]

    def webhooks_unavailable(self) -> str:
        return "" if self.credentials.get("access_token") else API_KEY_ONLY

    def webhook_subscriptions(self) -> list[RemoteSubscription]:
        return hooks.parse_subscriptions(self.api().get_json(hooks.SUBSCRIPTIONS_PATH))

    def webhook_subscribe(self, endpoint_url: str, topics: tuple[str, ...]) -> RemoteSubscription:
        body = {"endpointUrl": endpoint_url, "topics": list(topics)}
        client = self.api()
        response = client.request("POST", hooks.SUBSCRIPTIONS_PATH, json_body=body)
        return hooks.parse_subscription(parse_json(response, self.label, client.secrets))

    def webhook_unsubscribe(self, platform_id: str) -> None:
        path = f"{hooks.SUBSCRIPTIONS_PATH}/{quote(platform_id, safe='')}"
        self.api().request("DELETE", path, ok_statuses=(404,))  # already gone: removed

    def orders_by_id(self, cart_order_ids: list[str]) -> OrderPage:
        """`GET /orders/{id}` for each; an order Squarespace no longer has (404) is left out. Parsed
        as a listing page is, so that an order we cannot read is named the same way."""
        client = self.api()
        found = []
        for order_id in dict.fromkeys(i.strip() for i in cart_order_ids if i.strip()):
            try:
                found.append(client.get_json(f"{ORDERS_PATH}/{quote(order_id, safe='')}"))
            except PermanentError as exc:
                if exc.status != 404:
                    raise
        page, _cursor = parse_page({"result": found, "pagination": {"hasNextPage": False}})
        return page

    @classmethod
    def signature_valid(cls, body: bytes, signature: str, secret: str) -> bool:
        return hooks.signature_valid(body, signature, secret)

    @classmethod
    def notification_parse(cls, body: bytes, *, delivery_id: str = "") -> Notification | None:
        return hooks.parse_notification(body)  # Squarespace's id is in the body
