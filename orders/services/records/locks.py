"""A lease per (connection, sync kind), so two runs of the same sync never overlap.

Taken with a conditional UPDATE on a row that exists once per key: atomic on SQLite and
PostgreSQL alike, across processes and machines. A run renews its lease as it records progress; the
lease of a killed worker's run expires by itself `SYNC_LOCK_SECONDS` after its last renewal.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from integrations.models import CartConnection, WMSConnection
from orders.models import SyncLock


def lock_key(kind: str, connection: CartConnection | WMSConnection) -> str:
    side = "cart" if connection._meta.model_name == "cartconnection" else "wms"
    return f"{kind}:{side}:{connection.pk}"


def cart_lock_key_expression(*, kind: str, cart_connection_id_field: str) -> Concat:
    """`lock_key` of the cart connection a query's `cart_connection_id_field` names, as an SQL expression
    (to find, in one query, the connections whose run of `kind` holds its lease)."""
    return Concat(Value(f"{kind}:cart:"), Cast(cart_connection_id_field, CharField()))


def sync_lock_acquire(*, key: str, seconds: int | None = None) -> str | None:
    """Take the lease and return its token, or None when another run holds it."""
    return lease_acquire(key=key, seconds=seconds)[0]


def lease_acquire(*, key: str, seconds: int | None = None) -> tuple[str | None, bool]:
    """Take the lease: its token (None when another run holds it), and whether it was taken over from a
    holder whose lease ran out (a dead worker) rather than one that let it go. The row is made the
    first time only: a lease its last holder let go costs one UPDATE (every idle run of every
    connection takes one)."""
    token = uuid.uuid4().hex
    if _lease_take(key, token, seconds, Q(locked_until__isnull=True)):
        return token, False
    if _lease_take(key, token, seconds, Q(locked_until__lt=timezone.now())):
        return token, True
    try:
        with transaction.atomic():
            _, created = SyncLock.objects.get_or_create(key=key)
    except IntegrityError:
        created = True  # by a concurrent caller a moment ago
    if created and _lease_take(key, token, seconds, Q(locked_until__isnull=True)):
        return token, False
    return None, False


def _lease_take(key: str, token: str, seconds: int | None, free: Q) -> bool:
    now = timezone.now()
    return bool(
        SyncLock.objects.filter(free, key=key).update(
            owner=token,
            acquired_at=now,
            locked_until=now + timedelta(seconds=seconds or settings.SYNC_LOCK_SECONDS),
        )
    )


def sync_lock_renew(*, key: str, token: str, seconds: int | None = None) -> bool:
    """Extend a lease we hold by `seconds` (`SYNC_LOCK_SECONDS`) from now; False when it is no longer ours."""
    until = timezone.now() + timedelta(seconds=seconds or settings.SYNC_LOCK_SECONDS)
    return bool(SyncLock.objects.filter(key=key, owner=token).update(locked_until=until))


def sync_lock_release(*, key: str, token: str, delete: bool = False) -> None:
    mine = SyncLock.objects.filter(key=key, owner=token)
    if delete:
        mine.delete()
    else:
        mine.update(owner="", locked_until=None)


@contextmanager
def sync_lock(*, key: str, seconds: int | None = None, ephemeral: bool = False) -> Iterator[str | None]:
    """`with sync_lock(key=key) as token:` — the lease's token, None when another run has it (do not run).

    `ephemeral` locks (one per order, say) delete their row on release instead of keeping it."""
    token = sync_lock_acquire(key=key, seconds=seconds)
    try:
        yield token
    finally:
        if token is not None:
            sync_lock_release(key=key, token=token, delete=ephemeral)
