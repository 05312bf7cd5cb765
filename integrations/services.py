"""Services over connections: build a connection's connector, test a connection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from integrations.connectors.base import CartConnector, Connector, OAuthConnector, WarehouseConnector
from integrations.connectors.errors import ConnectorError, ReauthorizationRequired
from integrations.connectors.registry import cart_connector_class, warehouse_connector_class
from integrations.cooldowns import connection_cooldown
from integrations.models import CartConnection, Connection, WMSConnection


class ConnectionNotConfigured(Exception):
    """The connection misses something a person must fill in (credentials, a setting)."""


def oauth_client(platform: str) -> tuple[str, str]:
    """Our OAuth app's client id and secret for a platform (from settings), or blanks."""
    client = settings.OAUTH_CLIENTS.get(platform) or {}
    return client.get("client_id", ""), client.get("client_secret", "")


def connection_store_credentials(connection: Connection, credentials: dict[str, Any]) -> None:
    """Persist credentials a connector changed (a refreshed OAuth token): a grant that works again."""
    connection.set_credentials(credentials)
    connection.needs_new_grant = False
    connection.save(update_fields=["credentials", "needs_new_grant", "updated_at"])


def connection_unblock(connection: Connection) -> None:
    """A person acted (a test succeeded, the connection was saved): scheduled runs may go on."""
    type(connection).objects.filter(pk=connection.pk).update(
        blocked_reason="", next_attempt_at=None, consecutive_failures=0, failing_since=None, unhealthy=False
    )
    connection.blocked_reason = ""


def connection_mark_auth_problem(connection: Connection, exc: Exception) -> None:
    if isinstance(exc, ReauthorizationRequired):
        type(connection).objects.filter(pk=connection.pk).update(needs_new_grant=True)
        connection.needs_new_grant = True


def _connector_kwargs(connection: Connection, cls: type[Connector]) -> dict:
    platform_settings = dict(connection.settings or {})
    if issubclass(cls, OAuthConnector):
        client_id, client_secret = oauth_client(connection.platform)
        platform_settings.update(_oauth_client_id=client_id, _oauth_client_secret=client_secret)
    return {
        "base_url": connection.api_base_url,
        "credentials": connection.get_credentials(),
        "settings": platform_settings,
        "rate_key": f"{connection._meta.model_name}:{connection.pk}",
        "on_credentials_changed": lambda values: connection_store_credentials(connection, values),
        "cooldown": connection_cooldown(connection),
    }


def _build(connection: Connection, cls: type[Connector]) -> Connector:
    if connection.credentials_unreadable:
        raise ConnectionNotConfigured(f"{connection}: {connection.UNREADABLE_CREDENTIALS}")
    kwargs = _connector_kwargs(connection, cls)
    missing = cls.missing_configuration(kwargs["credentials"], kwargs["settings"], kwargs["base_url"])
    if missing:
        labels = ", ".join(f.label for f in missing)
        raise ConnectionNotConfigured(f"{connection}: fill in {labels} on the connection")
    if not (kwargs["base_url"] or cls.default_base_url or kwargs["settings"].get("account_web_address")):
        raise ConnectionNotConfigured(f"{connection}: set the API base URL")
    return cls(**kwargs)


def cart_connector_for(connection: CartConnection) -> CartConnector:
    try:
        cls = cart_connector_class(connection.platform)
    except LookupError as exc:
        raise ConnectionNotConfigured(str(exc)) from None
    return _build(connection, cls)  # type: ignore[return-value]


def warehouse_connector_for(connection: WMSConnection) -> WarehouseConnector:
    try:
        cls = warehouse_connector_class(connection.platform)
    except LookupError as exc:
        raise ConnectionNotConfigured(str(exc)) from None
    return _build(connection, cls)  # type: ignore[return-value]


@dataclass
class TestResult:
    ok: bool
    message: str


def connection_test(*, connection: Connection) -> TestResult:
    """Call the platform with the stored credentials; record and return a readable answer."""
    try:
        if isinstance(connection, CartConnection):
            connector: Connector = cart_connector_for(connection)
        else:
            connector = warehouse_connector_for(connection)  # type: ignore[arg-type]
        result = TestResult(True, connector.test_connection())
    except (ConnectorError, ConnectionNotConfigured) as exc:
        connection_mark_auth_problem(connection, exc)
        result = TestResult(False, str(exc))
    type(connection).objects.filter(pk=connection.pk).update(
        last_test_at=timezone.now(), last_test_ok=result.ok, last_test_message=result.message
    )
    if result.ok:
        connection_unblock(connection)
    connection.last_test_ok, connection.last_test_message = result.ok, result.message
    return result


def connector_class_for(connection: Connection) -> type[Connector]:
    if isinstance(connection, CartConnection):
        return cart_connector_class(connection.platform)
    return warehouse_connector_class(connection.platform)


def oauth_authorization_url(*, connection: Connection, redirect_uri: str, state: str) -> str:
    """Where to send the merchant to grant us access to this connection's platform account."""
    cls = connector_class_for(connection)
    if not issubclass(cls, OAuthConnector):
        raise ConnectionNotConfigured(f"{cls.label} does not use an access grant")
    client_id, _ = oauth_client(connection.platform)
    if not client_id:
        raise ConnectionNotConfigured(
            f"Orderbridge has no OAuth app for {cls.label}: set {connection.platform.upper()}_OAUTH_CLIENT_ID and "
            f"{connection.platform.upper()}_OAUTH_CLIENT_SECRET, or paste a privileged access token instead."
        )
    connector = cls(base_url=connection.api_base_url, settings=dict(connection.settings or {}))
    return connector.authorization_url(client_id=client_id, redirect_uri=redirect_uri, state=state)


def oauth_complete(*, connection: Connection, code: str, redirect_uri: str) -> None:
    """Trade the callback's code for tokens and store them, encrypted, on the connection."""
    cls = connector_class_for(connection)
    client_id, client_secret = oauth_client(connection.platform)
    connector = cls(base_url=connection.api_base_url, settings=dict(connection.settings or {}))
    tokens = connector.exchange_code(
        client_id=client_id, client_secret=client_secret, code=code, redirect_uri=redirect_uri
    )
    connection.update_credentials(tokens)
    connection.needs_new_grant = False
    connection.save(update_fields=["credentials", "needs_new_grant", "updated_at"])
