"""The platform account behind each connection: what its order references and rate limits are shared with.

Each connector says what identifies the account (`Connector.account_identity`, from the configuration;
`learn_account_identity`, asking the platform where only it can tell, as for TradeGecko). The identity
is stored on the connection (`platform_account`) when a person saves the connection, when it is tested,
and at the start of a run while it is not known; until then the connection is an account of its own.
`connection_account_key` is how the rest of the code reads it. A change is announced with
`platform_account_changed`, so that the orders layer moves its references into the new account.
"""

from __future__ import annotations

from django.db import transaction
from django.dispatch import Signal

from integrations.connectors.base import Connector
from integrations.connectors.registry import cart_connector_class, warehouse_connector_class
from integrations.models import CartConnection, Connection, WMSConnection

# Sent with: connection, previous and current (account keys), previous_known (whether the previous
# key named a platform account, or only the connection itself).
platform_account_changed = Signal()


def connection_account_key(connection: Connection) -> str:
    """The account the connection reaches, as one string: what keys every rule shared by the
    connections of one platform account (reference uniqueness, rate-limit cooldowns). Until the
    account is known, the connection alone (`<model>:<id>`)."""
    return connection.platform_account or f"{connection._meta.model_name}:{connection.pk}"


def _configured_connector(connection: Connection) -> Connector | None:
    """The connection's connector as its configuration builds it (for what it says without a request)."""
    if connection.credentials_unreadable:
        return None
    lookup = cart_connector_class if isinstance(connection, CartConnection) else warehouse_connector_class
    try:
        cls = lookup(connection.platform)
    except LookupError:
        return None
    settings = dict(connection.settings or {})
    return cls(base_url=connection.api_base_url, credentials=connection.get_credentials(), settings=settings)


def connection_account_refresh(connection: Connection, *, reconfigured: bool) -> str:
    """After a person saved the connection: the account its configuration names, stored. Where only
    the platform can tell (nothing configured names it), a learned account is kept unless
    `reconfigured` (its address, credentials or settings were edited): then it is unknown again
    until the next test or run learns it. Sends no request. Returns the account key."""
    connector = _configured_connector(connection)
    if connector is not None:
        identity = connector.account_identity()
        if identity or reconfigured:
            connection_account_store(connection, identity)
    return connection_account_key(connection)


def connection_account_learn(connection: Connection, connector: Connector, *, ask: bool) -> str:
    """The account the connection's configuration names or, where only the platform can tell, the one
    it answers for (`ask`: always; else only while none is known), stored. May send a request and raise
    the connector's typed errors. Returns the account key."""
    identity = connector.account_identity()
    if not identity and (ask or not connection.platform_account):
        identity = connector.learn_account_identity()
    if identity:
        connection_account_store(connection, identity)
    return connection_account_key(connection)


def connection_account_store(connection: Connection, identity: str) -> bool:
    """Store the account identity ("" for unknown); announce a change. True when it changed."""
    if identity == connection.platform_account:
        return False
    previous, previous_known = connection_account_key(connection), bool(connection.platform_account)
    with transaction.atomic():
        type(connection).objects.filter(pk=connection.pk).update(platform_account=identity)
        connection.platform_account = identity
        platform_account_changed.send(
            sender=type(connection),
            connection=connection,
            previous=previous,
            current=connection_account_key(connection),
            previous_known=previous_known,
        )
    return True


def connections_sharing_account(connection: Connection, *, merchant_id: int | None = None) -> list[Connection]:
    """The other connections (carts and warehouses) that reach the same known account; only those of
    `merchant_id` when given (a merchant never learns that another merchant uses an account)."""
    if not connection.platform_account:
        return []
    found: list[Connection] = []
    for model in (WMSConnection, CartConnection):
        others = model.objects.filter(platform_account=connection.platform_account).select_related("merchant")
        if merchant_id is not None:
            others = others.filter(merchant_id=merchant_id)
        if isinstance(connection, model):
            others = others.exclude(pk=connection.pk)
        found += list(others.order_by("pk"))
    return found


def shared_account_warning(connection: Connection, *, merchant_id: int | None = None) -> str:
    """What to tell a person who saved or tested `connection` when other connections reach its account
    (staff: every one, with its merchant; a merchant: `merchant_id`'s own only); empty when none do."""
    others = connections_sharing_account(connection, merchant_id=merchant_id)
    if not others:
        return ""
    named = "; ".join(str(other) for other in others)
    return (
        f"This connection reaches the same {connection.platform_label} account as {named}. Connections to one "
        "account share its order references (each order gets one that no other order there has) and its rate "
        "limits. If this is not meant, check the connection's address and credentials."
    )
