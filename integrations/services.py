"""Services over connections: build a connection's connector, test a connection."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from integrations.connectors.base import CartConnector, Connector, WarehouseConnector
from integrations.connectors.errors import ConnectorError
from integrations.connectors.registry import cart_connector_class, warehouse_connector_class
from integrations.models import CartConnection, Connection, WMSConnection


class ConnectionNotConfigured(Exception):
    """The connection misses something a person must fill in (credentials, a setting)."""


def _connector_kwargs(connection: Connection) -> dict:
    credentials = connection.get_credentials()
    settings = dict(connection.settings or {})
    return {
        "base_url": connection.api_base_url,
        "credentials": credentials,
        "settings": settings,
        "rate_key": f"{connection._meta.model_name}:{connection.pk}",
    }


def _build(connection: Connection, cls: type[Connector]) -> Connector:
    kwargs = _connector_kwargs(connection)
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
        result = TestResult(False, str(exc))
    type(connection).objects.filter(pk=connection.pk).update(
        last_test_at=timezone.now(), last_test_ok=result.ok, last_test_message=result.message
    )
    connection.last_test_ok, connection.last_test_message = result.ok, result.message
    return result
