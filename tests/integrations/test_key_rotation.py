"""Key rotation through FERNET_KEYS: the first key encrypts, the others still decrypt, and
`rotate_credentials_key` re-encrypts every credential with the first key so the old ones can go."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.contrib.admin import AdminSite
from django.core.management import CommandError, call_command
from fernet_fields import hkdf

from integrations.admin import CartConnectionAdmin
from integrations.models import CartConnection, SyncOutcome, WMSConnection
from integrations.services import ConnectionNotConfigured, cart_connector_for
from sync.cycle import cart_connection_sync_orders, cart_connections_for_sync
from tests.credentials import NEW_KEY, OLD_KEY, raw_credentials
from tests.factories import CartConnectionFactory, WMSConnectionFactory

LOST_KEY = "a-key-nobody-kept"


def readable_with(key: str, token: bytes) -> bool:
    try:
        Fernet(hkdf.derive_fernet_key(key)).decrypt(token)
    except InvalidToken:
        return False
    return True


@pytest.fixture
def written_under_old_key(db, use_keys):
    """Two carts and two warehouses (one with nothing stored) whose credentials the old key wrote."""
    use_keys(OLD_KEY)
    wms = WMSConnectionFactory(credentials_values={"username": "u", "password": "bergen-pw-3"})
    empty = WMSConnectionFactory(merchant=wms.merchant)
    WMSConnection.objects.filter(pk=empty.pk).update(credentials="")  # encrypted all the same
    carts = [
        CartConnectionFactory(merchant=wms.merchant, warehouse=wms, credentials_values={"api_key": key})
        for key in ("sq-1", "sq-2")
    ]
    rows = [
        (carts[0], {"api_key": "sq-1"}),
        (carts[1], {"api_key": "sq-2"}),
        (wms, {"username": "u", "password": "bergen-pw-3"}),
        (empty, {}),
    ]
    return [(type(conn), conn.pk, values) for conn, values in rows]


def test_values_written_under_the_old_key_still_decrypt_with_the_new_key_first(written_under_old_key, use_keys):
    use_keys(NEW_KEY, OLD_KEY)

    for model, pk, values in written_under_old_key:
        assert model.objects.get(pk=pk).get_credentials() == values


def test_a_value_saved_after_the_new_key_went_first_is_encrypted_with_the_new_key(written_under_old_key, use_keys):
    use_keys(NEW_KEY, OLD_KEY)
    cart = CartConnectionFactory(credentials_values={"api_key": "sq-written-after"})

    token = raw_credentials(CartConnection, cart.pk)

    assert readable_with(NEW_KEY, token) and not readable_with(OLD_KEY, token)


def test_the_command_re_encrypts_every_credential_so_the_new_key_alone_reads_them(written_under_old_key, use_keys):
    use_keys(NEW_KEY, OLD_KEY)
    before = {(m, pk): m.objects.values_list("updated_at", flat=True).get(pk=pk) for m, pk, _ in written_under_old_key}
    out = StringIO()

    call_command("rotate_credentials_key", stdout=out, stderr=StringIO())

    for model, pk, _ in written_under_old_key:
        token = raw_credentials(model, pk)
        assert readable_with(NEW_KEY, token), (model, pk)
        assert not readable_with(OLD_KEY, token), (model, pk)
        assert model.objects.values_list("updated_at", flat=True).get(pk=pk) == before[(model, pk)]
    assert "integrations.cartconnection.credentials: 2 value(s) re-encrypted" in out.getvalue()
    assert "integrations.wmsconnection.credentials: 2 value(s) re-encrypted" in out.getvalue()

    use_keys(NEW_KEY)  # the old key retired

    for model, pk, values in written_under_old_key:
        assert model.objects.get(pk=pk).get_credentials() == values


def test_without_the_command_retiring_the_old_key_makes_the_old_values_unreadable(written_under_old_key, use_keys):
    """Why the command exists: a connection nobody re-saved cannot reach its platform without the old key."""
    use_keys(NEW_KEY)
    cart = CartConnection.objects.get(pk=written_under_old_key[0][1])

    assert cart.credentials_unreadable and cart.get_credentials() == {}
    with pytest.raises(ConnectionNotConfigured, match="no key in FERNET_KEYS decrypts them"):
        cart_connector_for(connection=cart)


@pytest.fixture
def orphan(db, use_keys):
    """A cart connection whose credentials a key nobody kept encrypted, next to a readable one."""
    use_keys(LOST_KEY)
    lost = CartConnectionFactory(credentials_values={"api_key": "written-under-a-lost-key"})
    use_keys(NEW_KEY)
    return lost


def test_a_connection_no_key_decrypts_fails_its_own_runs_and_not_the_listing_of_the_others(orphan, use_keys):
    readable = CartConnectionFactory(credentials_values={"api_key": "sq-readable"})

    listed = {c.pk: c for c in cart_connections_for_sync()}  # (raised for every merchant before)
    run = cart_connection_sync_orders(connection=listed[orphan.pk])

    assert set(listed) >= {orphan.pk, readable.pk}
    assert listed[readable.pk].get_credentials() == {"api_key": "sq-readable"}
    assert run.status == SyncOutcome.FAILED
    assert "no key in FERNET_KEYS decrypts them" in run.error and "written-under" not in run.error
    assert "UNREADABLE" in CartConnectionAdmin(CartConnection, AdminSite()).credentials_status(listed[orphan.pk])


def test_saving_a_connection_no_key_decrypts_keeps_its_credentials_for_when_the_key_is_back(orphan, use_keys):
    token = raw_credentials(CartConnection, orphan.pk)
    loaded = CartConnection.objects.get(pk=orphan.pk)
    loaded.name = "renamed while unreadable"

    loaded.save()

    assert raw_credentials(CartConnection, orphan.pk) == token
    use_keys(NEW_KEY, LOST_KEY)
    assert CartConnection.objects.get(pk=orphan.pk).get_credentials() == {"api_key": "written-under-a-lost-key"}


def test_credentials_entered_again_replace_the_unreadable_ones(orphan):
    loaded = CartConnection.objects.get(pk=orphan.pk)

    loaded.update_credentials({"api_key": "entered-again"})
    loaded.save()

    again = CartConnection.objects.get(pk=orphan.pk)
    assert not again.credentials_unreadable and again.get_credentials() == {"api_key": "entered-again"}


def test_running_the_command_twice_is_harmless_and_says_so_in_json(written_under_old_key, use_keys):
    use_keys(NEW_KEY, OLD_KEY)
    call_command("rotate_credentials_key", stdout=StringIO(), stderr=StringIO())
    out = StringIO()

    call_command("rotate_credentials_key", "--json", stdout=out)

    assert json.loads(out.getvalue()) == {
        "reencrypted": {
            "integrations.cartconnection.credentials": 2,
            "integrations.wmsconnection.credentials": 2,
            "integrations.webhooksubscription.secret": 0,  # a webhook subscription's signing secret
            "sync.job.secret": 0,  # an access grant's code, kept only until its job has used it
        },
        "unreadable": [],
        "failed": 0,
    }
    use_keys(NEW_KEY)
    for model, pk, values in written_under_old_key:
        assert model.objects.get(pk=pk).get_credentials() == values


def test_a_value_no_key_decrypts_is_named_left_as_is_and_fails_the_command(written_under_old_key, use_keys):
    use_keys(LOST_KEY)
    orphan = CartConnectionFactory(credentials_values={"api_key": "written-under-a-lost-key"})
    orphan_token = raw_credentials(CartConnection, orphan.pk)
    use_keys(NEW_KEY, OLD_KEY)
    out = StringIO()

    with pytest.raises(CommandError, match="not readable with the first key alone"):
        call_command("rotate_credentials_key", stdout=out, stderr=StringIO())

    assert f"integrations.cartconnection #{orphan.pk} credentials: no key in FERNET_KEYS decrypts it" in out.getvalue()
    assert "written-under-a-lost-key" not in out.getvalue()
    assert raw_credentials(CartConnection, orphan.pk) == orphan_token
    for model, pk, _ in written_under_old_key:  # the others are done all the same
        assert readable_with(NEW_KEY, raw_credentials(model, pk))
