"""`connection_test` calls the platform with the stored credentials and records the answer on the row."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from integrations.models import CartConnection, WMSConnection
from integrations.services import connection_test
from tests.factories import CartConnectionFactory, WMSConnectionFactory


def stored(conn):
    return type(conn).objects.get(pk=conn.pk)


def test_a_good_cart_connection_is_recorded_as_ok(wired):
    before = timezone.now()

    result = connection_test(connection=wired.cart)

    assert result.ok is True
    assert "credentials accepted" in result.message
    row = stored(wired.cart)
    assert row.last_test_ok is True
    assert row.last_test_message == result.message
    assert before - timedelta(seconds=1) <= row.last_test_at <= timezone.now()
    assert wired.squarespace.requests_to("/1.0/commerce/orders", "GET")


def test_a_refused_api_key_is_recorded_as_failed_with_the_reason(wired):
    cart = CartConnectionFactory(
        merchant=wired.merchant,
        warehouse=wired.wms,
        api_base_url=wired.squarespace.base_url,
        sandbox_tooling=True,
        credentials_values={"api_key": "wrong-key-0042"},
    )

    result = connection_test(connection=cart)

    assert result.ok is False
    assert "401" in result.message
    assert "wrong-key-0042" not in result.message
    row = stored(cart)
    assert (row.last_test_ok, row.last_test_message) == (False, result.message)
    assert row.last_test_at is not None


def test_a_later_failure_replaces_an_earlier_success(wired):
    connection_test(connection=wired.cart)
    CartConnection.objects.filter(pk=wired.cart.pk).update(api_base_url="http://127.0.0.1:9")

    result = connection_test(connection=stored(wired.cart))

    assert result.ok is False
    assert "could not reach" in result.message
    assert stored(wired.cart).last_test_ok is False


def test_missing_credentials_are_reported_without_calling_the_platform(wired):
    cart = CartConnectionFactory(
        merchant=wired.merchant, warehouse=wired.wms, api_base_url=wired.squarespace.base_url, sandbox_tooling=True
    )
    cart.set_credentials({})
    cart.save()

    result = connection_test(connection=cart)

    assert result.ok is False
    assert "API key" in result.message
    assert stored(cart).last_test_message == result.message
    assert wired.squarespace.requests == []


def test_a_connection_missing_a_credential_names_it_without_calling_the_platform(db):
    cart = CartConnectionFactory(platform="tradegecko", credentials_values={"refresh_token": "r"})

    result = connection_test(connection=cart)

    assert result.ok is False
    assert "fill in Access token" in result.message
    assert stored(cart).last_test_ok is False


def test_a_good_warehouse_connection_is_recorded_as_ok(wired):
    result = connection_test(connection=wired.wms)

    assert result.ok is True
    assert "credentials accepted" in result.message
    assert stored(wired.wms).last_test_ok is True
    assert wired.bergen.tokens_issued == 1


def test_a_refused_warehouse_password_is_recorded_as_failed(wired):
    wms = WMSConnectionFactory(
        merchant=wired.merchant,
        api_base_url=wired.bergen.base_url,
        sandbox_tooling=True,
        credentials_values={"username": wired.bergen.username, "password": "wrong-pass-0042"},
    )

    result = connection_test(connection=wms)

    assert result.ok is False
    assert "401" in result.message
    assert "wrong-pass-0042" not in result.message
    row = WMSConnection.objects.get(pk=wms.pk)
    assert (row.last_test_ok, row.last_test_message) == (False, result.message)
