"""The OAuth `state` of "Grant us API access": signed, expiring, single use, bound to a user and a connection.

The state sent to the platform is signed (it cannot be forged or altered without the secret key) and
expires after `STATE_MAX_AGE`. It carries a random nonce whose row (`OAuthGrantState`) records who
started the grant, for which connection and from which pages. The callback takes the row away in one
DELETE before anything else: a replayed state finds nothing, and of two callbacks racing with one
state only one wins. The row, not the state, says who may finish the grant and for which connection;
a state whose connection differs from its row's is refused too (a leaked signing key still could not
move a grant to another connection).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core import signing
from django.utils import timezone

from integrations.models import CartConnection, Connection, OAuthGrantState

STATE_SALT = "orderbridge.oauth"
STATE_MAX_AGE = 15 * 60
START_AGAIN = "start again from the connection's page"


class GrantRefused(Exception):
    """The callback's state does not finish a grant: the message says why, for the person reading it."""


@dataclass(frozen=True)
class GrantInProgress:
    """A grant the callback may finish: for this connection, started from these pages."""

    connection: Connection
    kind: str
    origin: str


def _kind(connection: Connection) -> str:
    return "cart" if isinstance(connection, CartConnection) else "warehouse"


def grant_state_issue(*, user: AbstractBaseUser, connection: Connection, origin: str) -> str:
    """A new state for this user's grant of this connection (expired grants are forgotten on the way)."""
    OAuthGrantState.objects.filter(created_at__lt=timezone.now() - timedelta(seconds=STATE_MAX_AGE)).delete()
    nonce = secrets.token_urlsafe(32)
    field = "cart_connection" if _kind(connection) == "cart" else "warehouse_connection"
    OAuthGrantState.objects.create(nonce=nonce, user=user, origin=origin, **{field: connection})
    payload = {"nonce": nonce, "kind": _kind(connection), "pk": connection.pk, "origin": origin}
    return signing.dumps(payload, salt=STATE_SALT)


def grant_state_read(state: str) -> dict[str, Any]:
    """The state's signed content, checked for signature and age (nothing is consumed yet: the user
    may still have to sign in)."""
    try:
        payload = signing.loads(state, salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.BadSignature:
        raise GrantRefused(f"This access grant link is invalid or has expired: {START_AGAIN}.") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("nonce"), str):
        raise GrantRefused(f"This access grant link is invalid: {START_AGAIN}.")
    return payload


def grant_state_take(*, payload: dict[str, Any], user: AbstractBaseUser) -> GrantInProgress:
    """Consume the grant this state opens, for this user; raise `GrantRefused` when it was already
    used, is someone else's, or names another connection than the one it was started for."""
    row = (
        OAuthGrantState.objects.select_related("cart_connection", "warehouse_connection")
        .filter(nonce=payload["nonce"])
        .first()
    )
    taken = row is not None and OAuthGrantState.objects.filter(pk=row.pk).delete()[0] == 1
    if row is None or not taken:
        raise GrantRefused(f"This access grant link was already used (each works once): {START_AGAIN}.")
    if row.user_id != user.pk:
        raise GrantRefused(f"This access grant was started by someone else: {START_AGAIN}.")
    connection = row.connection
    if (payload.get("kind"), payload.get("pk")) != (_kind(connection), connection.pk):
        raise GrantRefused(f"This access grant link was issued for another connection: {START_AGAIN}.")
    return GrantInProgress(connection=connection, kind=_kind(connection), origin=row.origin)
