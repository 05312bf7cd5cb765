"""Services over connections: build a connection's connector, test a connection."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.utils import timezone

from integrations.accounts import connection_account_learn, connection_account_refresh
from integrations.budget import connection_budget
from integrations.connectors.base import CartConnector, Connector, OAuthConnector, WarehouseConnector
from integrations.connectors.errors import ConnectorError, ReauthorizationRequired
from integrations.connectors.permissions import INVENTORY_SYNC_HINT
from integrations.connectors.registry import cart_connector_class, warehouse_connector_class
from integrations.cooldowns import connection_cooldown
from integrations.models import CartConnection, Connection, WMSConnection
from integrations.outbound import connection_policy


class ConnectionNotConfigured(Exception):
    """The connection misses something a person must fill in (credentials, a setting)."""


@dataclass(frozen=True)
class OAuthApp:
    """Our OAuth app at a platform, from settings: its client id and secret, and the only two URLs
    that ever see them (the platform's own, unless settings point them at a sandbox)."""

    client_id: str
    client_secret: str
    authorize_url: str
    token_url: str

    def connector_settings(self) -> dict[str, str]:
        return {
            "_oauth_client_id": self.client_id,
            "_oauth_client_secret": self.client_secret,
            "_oauth_authorize_url": self.authorize_url,
            "_oauth_token_url": self.token_url,
        }


def oauth_app(*, platform: str, cls: type[OAuthConnector]) -> OAuthApp:
    """Our OAuth app for a platform: client id and secret from settings (or blanks), the endpoints
    from settings or else the platform's documented ones."""
    client = settings.OAUTH_CLIENTS.get(platform) or {}
    return OAuthApp(
        client_id=client.get("client_id", ""),
        client_secret=client.get("client_secret", ""),
        authorize_url=client.get("authorize_url") or cls.oauth_authorize_url,
        token_url=client.get("token_url") or cls.oauth_token_url,
    )


def _connector_settings(connection: Connection, cls: type[Connector]) -> dict[str, Any]:
    """The connection's settings for its connector. Keys starting with "_" are ours to give (the
    OAuth app and its endpoints): a connection's stored settings never supply them."""
    given = {k: v for k, v in (connection.settings or {}).items() if not str(k).startswith("_")}
    if isinstance(connection, CartConnection):
        given[INVENTORY_SYNC_HINT] = connection.inventory_sync_enabled
    if issubclass(cls, OAuthConnector):
        given.update(oauth_app(platform=connection.platform, cls=cls).connector_settings())
    return given


def connection_store_credentials(*, connection: Connection, credentials: dict[str, Any]) -> None:
    """Persist credentials a connector changed (a refreshed OAuth token): a grant that works again."""
    connection.set_credentials(credentials)
    connection.needs_new_grant = False
    connection.save(update_fields=["credentials", "needs_new_grant", "updated_at"])


def connection_unblock(*, connection: Connection) -> None:
    """A person acted (a test succeeded, the connection was saved): scheduled runs may go on."""
    type(connection).objects.filter(pk=connection.pk).update(
        blocked_reason="", next_attempt_at=None, consecutive_failures=0, failing_since=None, unhealthy=False
    )
    connection.blocked_reason = ""


def connection_mark_auth_problem(*, connection: Connection, exc: Exception) -> None:
    if isinstance(exc, ReauthorizationRequired):
        type(connection).objects.filter(pk=connection.pk).update(needs_new_grant=True)
        connection.needs_new_grant = True


def _connector_kwargs(connection: Connection, cls: type[Connector]) -> dict:
    return {
        "base_url": connection.api_base_url,
        "credentials": connection.get_credentials(),
        "settings": _connector_settings(connection, cls),
        "rate_key": f"{connection._meta.model_name}:{connection.pk}",
        "on_credentials_changed": lambda values: connection_store_credentials(
            connection=connection, credentials=values
        ),
        "outbound": connection_policy(connection),
        "cooldown": connection_cooldown(connection),
        "budget": connection_budget(connection, cls.rate_limit),
    }


def _build(connection: Connection, cls: type[Connector], **given: Any) -> Connector:
    """The connector of a connection; `given` adds what only one role takes (a warehouse's time zone)."""
    if connection.credentials_unreadable:
        raise ConnectionNotConfigured(f"{connection}: {connection.UNREADABLE_CREDENTIALS}")
    kwargs = _connector_kwargs(connection, cls)
    missing = cls.missing_configuration(kwargs["credentials"], kwargs["settings"], kwargs["base_url"])
    if missing:
        labels = ", ".join(f.label for f in missing)
        raise ConnectionNotConfigured(f"{connection}: fill in {labels} on the connection")
    if not (kwargs["base_url"] or cls.default_base_url or kwargs["settings"].get("account_web_address")):
        raise ConnectionNotConfigured(f"{connection}: set the API base URL")
    return cls(**kwargs, **given)


def cart_connector_for(*, connection: CartConnection) -> CartConnector:
    try:
        cls = cart_connector_class(connection.platform)
    except LookupError as exc:
        raise ConnectionNotConfigured(str(exc)) from None
    return _build(connection, cls)  # type: ignore[return-value]


def warehouse_connector_for(*, connection: WMSConnection) -> WarehouseConnector:
    try:
        cls = warehouse_connector_class(connection.platform)
    except LookupError as exc:
        raise ConnectionNotConfigured(str(exc)) from None
    return _build(connection, cls, time_zone=connection.zone)  # type: ignore[return-value]


@dataclass
class TestResult:
    ok: bool
    message: str


def connection_test(*, connection: Connection) -> TestResult:
    """Call the platform with the stored credentials; record and return a readable answer."""
    try:
        if isinstance(connection, CartConnection):
            connector: Connector = cart_connector_for(connection=connection)
        else:
            connector = warehouse_connector_for(connection=connection)  # type: ignore[arg-type]
        result = TestResult(True, connector.test_connection())
        connection_account_learn(connection, connector, ask=True)
    except (ConnectorError, ConnectionNotConfigured) as exc:
        connection_mark_auth_problem(connection=connection, exc=exc)
        result = TestResult(False, str(exc))
    type(connection).objects.filter(pk=connection.pk).update(
        last_test_at=timezone.now(), last_test_ok=result.ok, last_test_message=result.message
    )
    if result.ok:
        connection_unblock(connection=connection)
    connection.last_test_ok, connection.last_test_message = result.ok, result.message
    return result


def connector_class_for(*, connection: Connection) -> type[Connector]:
    if isinstance(connection, CartConnection):
        return cart_connector_class(connection.platform)
    return warehouse_connector_class(connection.platform)


def _grant_connector(connection: Connection) -> tuple[OAuthConnector, OAuthApp]:
    """The connector that runs the access grant (no credentials yet), and our app at its platform."""
    cls = connector_class_for(connection=connection)
    if not issubclass(cls, OAuthConnector):
        raise ConnectionNotConfigured(f"{cls.label} does not use an access grant")
    app = oauth_app(platform=connection.platform, cls=cls)
    if not app.client_id:
        raise ConnectionNotConfigured(
            f"Orderbridge has no OAuth app for {cls.label}: set {connection.platform.upper()}_OAUTH_CLIENT_ID and "
            f"{connection.platform.upper()}_OAUTH_CLIENT_SECRET, or paste a privileged access token instead."
        )
    connector = cls(
        base_url=connection.api_base_url,
        settings=_connector_settings(connection, cls),
        rate_key=f"{connection._meta.model_name}:{connection.pk}",
        outbound=connection_policy(connection),
    )
    return connector, app


def oauth_authorization_url(*, connection: Connection, redirect_uri: str, state: str) -> str:
    """Where to send the merchant to grant us access to this connection's platform account."""
    connector, app = _grant_connector(connection)
    return connector.authorization_url(client_id=app.client_id, redirect_uri=redirect_uri, state=state)


def oauth_complete(*, connection: Connection, code: str, redirect_uri: str) -> None:
    """Trade the callback's code for tokens (at our app's token URL) and store them, encrypted, on the
    connection."""
    connector, app = _grant_connector(connection)
    tokens = connector.exchange_code(
        client_id=app.client_id, client_secret=app.client_secret, code=code, redirect_uri=redirect_uri
    )
    connection.update_credentials(tokens)
    connection.needs_new_grant = False
    connection.save(update_fields=["credentials", "needs_new_grant", "updated_at"])
    connection_account_refresh(connection, reconfigured=True)  # the grant may open another account
