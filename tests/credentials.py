"""Shared by the credential tests: switching FERNET_KEYS mid-test, and reading the raw column."""

from __future__ import annotations

import pytest
from django.db import connection

from integrations.models import CartConnection, WMSConnection

OLD_KEY = "the-old-fernet-key-that-wrote-everything"
NEW_KEY = "the-new-fernet-key-after-rotation"
FIELDS = [model._meta.get_field("credentials") for model in (CartConnection, WMSConnection)]


def forget_keys() -> None:
    """fernet_fields caches the keys on each field instance: forget them so the settings apply."""
    for field in FIELDS:
        for name in ("keys", "fernet_keys", "fernet"):
            field.__dict__.pop(name, None)


@pytest.fixture
def use_keys(settings):
    """Set FERNET_KEYS for the rest of the test (first encrypts, all decrypt)."""

    def use(*keys: str) -> None:
        settings.FERNET_KEYS = list(keys)
        forget_keys()

    forget_keys()
    yield use
    forget_keys()


def raw_credentials(model, pk: int) -> bytes:
    """The credentials column as stored (the encrypted bytes), read with raw SQL."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT credentials FROM {model._meta.db_table} WHERE id = %s", [pk])  # noqa: S608
        value = cursor.fetchone()[0]
    return value.encode() if isinstance(value, str) else bytes(value)
