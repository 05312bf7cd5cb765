"""Connection credentials are encrypted at rest, and the Fernet keys can be rotated."""

from __future__ import annotations

from integrations.models import CartConnection, WMSConnection
from tests.credentials import NEW_KEY, OLD_KEY, raw_credentials
from tests.factories import CartConnectionFactory, WMSConnectionFactory


def test_credentials_are_stored_encrypted_and_read_back(db):
    cart = CartConnectionFactory(credentials_values={"api_key": "plain-secret-1234"})

    raw = raw_credentials(CartConnection, cart.pk)

    assert b"plain-secret-1234" not in raw and b"api_key" not in raw
    assert raw.startswith(b"gAAAAA")  # a Fernet token
    assert CartConnection.objects.get(pk=cart.pk).get_credentials() == {"api_key": "plain-secret-1234"}


def test_warehouse_credentials_are_encrypted_too(db):
    wms = WMSConnectionFactory(credentials_values={"username": "bergen-user", "password": "bergen-pass-1234"})

    raw = raw_credentials(WMSConnection, wms.pk)

    assert b"bergen-pass-1234" not in raw and b"bergen-user" not in raw
    assert WMSConnection.objects.get(pk=wms.pk).get_credentials() == {
        "username": "bergen-user",
        "password": "bergen-pass-1234",
    }


def test_the_same_credentials_encrypt_differently_each_time(db):
    first = CartConnectionFactory(credentials_values={"api_key": "same-secret-1234"})
    second = CartConnectionFactory(credentials_values={"api_key": "same-secret-1234"})

    assert raw_credentials(CartConnection, first.pk) != raw_credentials(CartConnection, second.pk)


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

    loaded = CartConnection.objects.get(pk=cart.pk)  # loads: what it holds stays encrypted
    assert loaded.credentials_unreadable and loaded.get_credentials() == {}
    assert "written-before-rotation" not in repr(loaded.credentials)
