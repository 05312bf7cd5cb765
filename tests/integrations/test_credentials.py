"""Connection credentials are encrypted at rest, and the Fernet keys can be rotated."""

from __future__ import annotations

import pytest
from cryptography.fernet import InvalidToken
from django.db import connection as db

from integrations.models import CartConnection, WMSConnection
from tests.factories import CartConnectionFactory, WMSConnectionFactory

OLD_KEY = "the-old-fernet-key-that-wrote-everything"
NEW_KEY = "the-new-fernet-key-after-rotation"
FIELDS = [model._meta.get_field("credentials") for model in (CartConnection, WMSConnection)]


def _forget_keys() -> None:
    """fernet_fields caches the keys on each field instance: forget them so the settings apply."""
    for field in FIELDS:
        for name in ("keys", "fernet_keys", "fernet"):
            field.__dict__.pop(name, None)


@pytest.fixture
def use_keys(settings):
    """Set FERNET_KEYS for the rest of the test (first encrypts, all decrypt)."""

    def use(*keys: str) -> None:
        settings.FERNET_KEYS = list(keys)
        _forget_keys()

    _forget_keys()
    yield use
    _forget_keys()


def raw_column(model, pk: int) -> bytes:
    with db.cursor() as cursor:
        cursor.execute(f"SELECT credentials FROM {model._meta.db_table} WHERE id = %s", [pk])  # noqa: S608
        value = cursor.fetchone()[0]
    return value.encode() if isinstance(value, str) else bytes(value)


def test_credentials_are_stored_encrypted_and_read_back(db):
    cart = CartConnectionFactory(credentials_values={"api_key": "plain-secret-1234"})

    raw = raw_column(CartConnection, cart.pk)

    assert b"plain-secret-1234" not in raw and b"api_key" not in raw
    assert raw.startswith(b"gAAAAA")  # a Fernet token
    assert CartConnection.objects.get(pk=cart.pk).get_credentials() == {"api_key": "plain-secret-1234"}


def test_warehouse_credentials_are_encrypted_too(db):
    wms = WMSConnectionFactory(credentials_values={"username": "bergen-user", "password": "bergen-pass-1234"})

    raw = raw_column(WMSConnection, wms.pk)

    assert b"bergen-pass-1234" not in raw and b"bergen-user" not in raw
    assert WMSConnection.objects.get(pk=wms.pk).get_credentials() == {
        "username": "bergen-user",
        "password": "bergen-pass-1234",
    }


def test_the_same_credentials_encrypt_differently_each_time(db):
    first = CartConnectionFactory(credentials_values={"api_key": "same-secret-1234"})
    second = CartConnectionFactory(credentials_values={"api_key": "same-secret-1234"})

    assert raw_column(CartConnection, first.pk) != raw_column(CartConnection, second.pk)


def test_a_value_written_under_the_old_key_still_decrypts_after_rotation(db, use_keys):
    use_keys(OLD_KEY)
    cart = CartConnectionFactory(credentials_values={"api_key": "written-before-rotation"})

    use_keys(NEW_KEY, OLD_KEY)

    assert CartConnection.objects.get(pk=cart.pk).get_credentials() == {"api_key": "written-before-rotation"}


def test_a_resave_after_rotation_encrypts_under_the_new_key(db, use_keys):
    use_keys(OLD_KEY)
    cart = CartConnectionFactory(credentials_values={"api_key": "written-before-rotation"})
    use_keys(NEW_KEY, OLD_KEY)
    CartConnection.objects.get(pk=cart.pk).save()

    use_keys(NEW_KEY)  # the old key retired

    assert CartConnection.objects.get(pk=cart.pk).get_credentials() == {"api_key": "written-before-rotation"}


def test_a_value_is_unreadable_without_its_key(db, use_keys):
    use_keys(OLD_KEY)
    cart = CartConnectionFactory(credentials_values={"api_key": "written-before-rotation"})

    use_keys(NEW_KEY)

    with pytest.raises(InvalidToken):
        CartConnection.objects.get(pk=cart.pk)
