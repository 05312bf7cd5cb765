"""A cart connection's webhook subscriptions: made, checked and removed by the connection itself.

The one owner of `WebhookSubscription` rows. `webhooks_ensure` is called after an access grant and
by the daily check: it asks the platform which subscriptions exist, keeps ours when the platform
still shows it as made, makes one when there is none (its secret stored encrypted), and removes
those at our address that no connection here knows (left over from an earlier grant; another
connection to the same site keeps its own). `webhooks_remove` undoes it when the connection is
deactivated or deleted. A connection that cannot have webhooks (an API key, no https
`PUBLIC_BASE_URL`) keeps none and is polled; `webhooks_status` says which, for its page. The one
exception to https: a connection of the project's sandbox tooling, where the sandbox app is installed
(never in production), may have a loopback http address (the fleet benchmark's web process).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from integrations.connectors.errors import BadPayloadError, ConnectorError
from integrations.connectors.registry import CART_CONNECTORS
from integrations.connectors.webhooks import WebhookCart
from integrations.models import CartConnection, WebhookSubscription
from integrations.outbound import sandbox_tooling_honoured
from integrations.services import ConnectionNotConfigured, cart_connector_for

log = logging.getLogger(__name__)

NO_PUBLIC_URL = (
    "Webhooks: off. PUBLIC_BASE_URL is not set to this site's public https address (e.g. "
    "https://orderbridge.example.com), which the platform must be able to reach: orders are polled."
)
NOT_HTTPS = (
    "Webhooks: off. {platform} sends webhooks only to https addresses, and PUBLIC_BASE_URL is {url}: orders are polled."
)


@dataclass(frozen=True)
class WebhooksOutcome:
    live: bool
    message: str


def webhook_capable(connection: CartConnection) -> bool:
    cls = CART_CONNECTORS.get(connection.platform)
    return cls is not None and issubclass(cls, WebhookCart)


def endpoint_url(*, platform: str, token: str) -> str:
    return settings.PUBLIC_BASE_URL + reverse("webhook_receive", args=[platform, token])


def _connector(connection: CartConnection) -> WebhookCart:
    connector = cart_connector_for(connection=connection)
    assert isinstance(connector, WebhookCart)  # the callers checked `webhook_capable`
    return connector


def _unavailable(connection: CartConnection, connector: WebhookCart) -> str:
    if not connection.active or not connection.merchant.active:
        return "Webhooks: off. The connection is inactive."
    reason = connector.webhooks_unavailable()
    if reason:
        return reason
    if not settings.PUBLIC_BASE_URL:
        return NO_PUBLIC_URL
    if not settings.PUBLIC_BASE_URL.startswith("https://") and not _sandbox_loopback_http(connection):
        return NOT_HTTPS.format(platform=connection.platform_label, url=settings.PUBLIC_BASE_URL)
    return ""


def _sandbox_loopback_http(connection: CartConnection) -> bool:
    """A sandbox tooling connection where the sandbox app is installed, and an http PUBLIC_BASE_URL on
    loopback: the only case notifications may come in without TLS."""
    parts = urlsplit(settings.PUBLIC_BASE_URL)
    loopback = parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")
    return loopback and connection.sandbox_tooling and sandbox_tooling_honoured()


def webhooks_ensure(*, connection: CartConnection) -> WebhooksOutcome:
    """Have exactly one live subscription per topic group at the platform for this connection (one in
    all for Squarespace, one per event for TradeGecko), or none, and why."""
    if not webhook_capable(connection):
        return WebhooksOutcome(False, "")
    connector = _connector(connection)
    reason = _unavailable(connection, connector)
    if reason:
        webhooks_remove(connection=connection, connector=connector)
        return WebhooksOutcome(False, reason)
    ours = list(connection.webhook_subscriptions.all())
    remote = {s.platform_id: s for s in connector.webhook_subscriptions()}
    keep: dict[tuple[str, ...], WebhookSubscription] = {}  # one live subscription per topic group
    for sub in ours:
        shown = remote.get(sub.platform_id)
        if shown is not None and shown.endpoint_url == endpoint_url(platform=connection.platform, token=sub.token):
            keep.setdefault(shown.topics, sub)
    groups = connector.webhook_topic_groups()
    kept = {topics: sub for topics, sub in keep.items() if topics in groups}
    hooks_prefix = endpoint_url(platform=connection.platform, token="-").removesuffix("-/")
    for sub in ours:
        if sub not in kept.values():
            _unsubscribe(connector, sub.platform_id)
            sub.delete()
    # At our address but known to no connection here (an earlier grant's, its secret lost); another
    # connection to the same site keeps its own.
    known = set(WebhookSubscription.objects.values_list("endpoint_url", flat=True))
    for platform_id, sub in remote.items():
        if sub.endpoint_url.startswith(hooks_prefix) and sub.endpoint_url not in known:
            _unsubscribe(connector, platform_id)
    WebhookSubscription.objects.filter(pk__in=[s.pk for s in kept.values()]).update(checked_at=timezone.now())
    missing = [topics for topics in groups if topics not in kept]
    for topics in missing:
        _subscribe(connection, connector, topics)
    if not missing:
        return WebhooksOutcome(True, "Webhooks: live (checked at the platform just now).")
    return WebhooksOutcome(True, f"Webhooks: live ({len(missing)} subscription(s) made just now).")


def _subscribe(connection: CartConnection, connector: WebhookCart, topics: tuple[str, ...]) -> None:
    token = secrets.token_urlsafe(32)
    url = endpoint_url(platform=connection.platform, token=token)
    made = connector.webhook_subscribe(url, topics)
    if not made.secret and not connector.app_signed:  # nothing could be verified: not kept
        _unsubscribe(connector, made.platform_id)
        raise BadPayloadError(f"{connection.platform_label} made the webhook subscription without its secret")
    WebhookSubscription.objects.create(
        connection=connection,
        platform_id=made.platform_id,
        token=token,
        topics=list(made.topics or topics),
        endpoint_url=url,
        secret=made.secret,
        checked_at=timezone.now(),
    )


def _unsubscribe(connector: WebhookCart, platform_id: str) -> None:
    try:
        connector.webhook_unsubscribe(platform_id)
    except ConnectorError as exc:
        log.warning("webhook subscription %s could not be removed: %s", platform_id, exc)


def webhooks_remove(*, connection: CartConnection, connector: WebhookCart | None = None) -> int:
    """Remove the connection's subscriptions at the platform (best effort: a platform that cannot be
    reached keeps sending to an address that then answers 404) and here; returns how many."""
    subs = list(connection.webhook_subscriptions.all())
    if not subs:
        return 0
    if connector is None:
        try:
            connector = _connector(connection)
        except ConnectionNotConfigured:
            connector = None
    for sub in subs:
        if connector is not None:
            _unsubscribe(connector, sub.platform_id)
    return WebhookSubscription.objects.filter(pk__in=[s.pk for s in subs]).delete()[0]


def webhooks_live(*, connection: CartConnection) -> bool:
    return connection.webhook_subscriptions.exists()


def webhooks_status(*, connection: CartConnection) -> str:
    """What the connection's page says about webhooks (no platform call)."""
    if not webhook_capable(connection):
        return ""
    sub = connection.webhook_subscriptions.first()
    if sub is not None:
        checked = f"{sub.checked_at:%Y-%m-%d %H:%M} UTC" if sub.checked_at else "not yet"
        return (
            f"Webhooks: live since {sub.created_at:%Y-%m-%d %H:%M} UTC (last checked {checked}); orders are also "
            f"polled every {max(connection.orders_every_minutes, settings.WEBHOOK_POLL_MINUTES)} minutes as a "
            "safety net."
        )
    try:
        connector = _connector(connection)
    except ConnectionNotConfigured:
        return ""
    not_yet = "Webhooks: not subscribed yet (the daily check or a new grant makes the subscription)."
    return _unavailable(connection, connector) or not_yet
