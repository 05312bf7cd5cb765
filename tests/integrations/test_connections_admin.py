"""Connections in the admin: Test connection (action and button), and secrets that are never shown back."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection as db
from django.urls import reverse

from integrations.forms import WMSConnectionForm
from integrations.models import CartConnection
from tests.admin_helpers import form_values, messages_of
from tests.factories import CartConnectionFactory, WMSConnectionFactory

UNREACHABLE = "http://127.0.0.1:9"


def run_test(admin_client, conn, via: str):
    """Test one connection the way a person does: the changelist action, or the change page's button."""
    name = conn._meta.model_name
    if via == "action":
        response = admin_client.post(
            reverse(f"admin:integrations_{name}_changelist"),
            {"action": "test_connections", "_selected_action": [conn.pk]},
            follow=True,
        )
    else:
        response = admin_client.post(reverse(f"admin:integrations_{name}_test", args=[conn.pk]), follow=True)
        change = reverse(f"admin:integrations_{name}_change", args=[conn.pk])
        assert response.redirect_chain[-1][0].split("?")[0] == change  # ?job= follows the test run in the worker
    assert response.status_code == 200
    return messages_of(response), response.content.decode()


def cart_to(wired, *, url: str | None = None, api_key: str | None = None) -> CartConnection:
    return CartConnectionFactory(
        merchant=wired.merchant,
        warehouse=wired.wms,
        api_base_url=url or wired.squarespace.base_url,
        sandbox_tooling=True,
        credentials_values={"api_key": api_key or wired.squarespace.api_key},
    )


via_action_and_button = pytest.mark.parametrize("via", ["action", "button"])


@via_action_and_button
def test_cart_connection_with_good_credentials_is_accepted(admin_client, wired, via):
    messages, _ = run_test(admin_client, wired.cart, via)

    assert len(messages) == 1
    level, text = messages[0]
    assert level == "success"
    assert "credentials accepted" in text
    wired.cart.refresh_from_db()
    assert wired.cart.last_test_ok is True


@via_action_and_button
def test_cart_connection_with_a_wrong_api_key_says_401_without_showing_the_key(admin_client, wired, via):
    cart = cart_to(wired, api_key="wrong-key-0042")

    messages, page = run_test(admin_client, cart, via)

    [(level, text)] = messages
    assert level == "error"
    assert "401" in text
    assert "wrong-key-0042" not in page


@via_action_and_button
def test_cart_behind_a_basic_auth_wall_names_the_challenge(admin_client, wired, via):
    wired.squarespace.basic_auth_challenge = True

    messages, _ = run_test(admin_client, wired.cart, via)

    [(level, text)] = messages
    assert level == "error"
    assert "Basic Auth" in text


@via_action_and_button
def test_unreachable_cart_says_it_could_not_reach_it(admin_client, wired, via):
    cart = cart_to(wired, url=UNREACHABLE)

    messages, _ = run_test(admin_client, cart, via)

    [(level, text)] = messages
    assert level == "error"
    assert "could not reach" in text
    assert "127.0.0.1:9" in text


@via_action_and_button
def test_warehouse_connection_with_good_credentials_is_accepted(admin_client, wired, via):
    messages, _ = run_test(admin_client, wired.wms, via)

    [(level, text)] = messages
    assert level == "success"
    assert "credentials accepted" in text


@via_action_and_button
def test_warehouse_connection_with_a_wrong_password_says_401_without_showing_it(admin_client, wired, via):
    wms = WMSConnectionFactory(
        merchant=wired.merchant,
        api_base_url=wired.bergen.base_url,
        sandbox_tooling=True,
        credentials_values={"username": wired.bergen.username, "password": "wrong-pass-0042"},
    )

    messages, page = run_test(admin_client, wms, via)

    [(level, text)] = messages
    assert level == "error"
    assert "401" in text
    assert "wrong-pass-0042" not in page


def test_the_action_tests_every_selected_connection(admin_client, wired):
    broken = cart_to(wired, api_key="wrong-key-0042")

    response = admin_client.post(
        reverse("admin:integrations_cartconnection_changelist"),
        {"action": "test_connections", "_selected_action": [wired.cart.pk, broken.pk]},
        follow=True,
    )

    levels = sorted(level for level, _ in messages_of(response))
    assert levels == ["error", "success"]


def test_the_test_button_does_nothing_on_get(admin_client, wired):
    response = admin_client.get(reverse("admin:integrations_cartconnection_test", args=[wired.cart.pk]))

    assert response.status_code == 302
    assert wired.squarespace.requests == []


@pytest.mark.parametrize("model", ["cart", "wms"])
def test_stored_secrets_never_appear_on_the_change_page(admin_client, db, model):
    if model == "cart":
        conn = CartConnectionFactory(credentials_values={"api_key": "sq-secret-api-key-7777"})
        secret, shown = "sq-secret-api-key-7777", "api_key: set"
    else:
        conn = WMSConnectionFactory(credentials_values={"username": "bergen-user", "password": "bergen-pass-7777"})
        secret, shown = "bergen-pass-7777", "password: set"

    response = admin_client.get(reverse(f"admin:integrations_{conn._meta.model_name}_change", args=[conn.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert secret not in page
    assert shown in page


def _raw_credentials(model, pk: int) -> bytes:
    with db.cursor() as cursor:
        cursor.execute(f"SELECT credentials FROM {model._meta.db_table} WHERE id = %s", [pk])  # noqa: S608
        value = cursor.fetchone()[0]
    return bytes(value) if not isinstance(value, str) else value.encode()


def test_the_add_form_saves_the_api_key_encrypted(admin_client, wired, settings):
    settings.SANDBOX_ENABLED = True  # staff may point a connection at a loopback sandbox
    page = admin_client.get(reverse("admin:integrations_cartconnection_add"))
    assert page.status_code == 200
    data = form_values(page.content.decode(), "cartconnection_form")
    assert "credential__squarespace__api_key" in data, "the add page has no input for the API key"
    data.update(
        merchant=[str(wired.merchant.pk)],
        name=["Added in the admin"],
        platform=["squarespace"],
        api_base_url=[wired.squarespace.base_url],
        warehouse=[str(wired.wms.pk)],
        earliest_order_date=[date.today().isoformat()],
        credential__squarespace__api_key=["sq-added-secret-5150"],
    )

    response = admin_client.post(reverse("admin:integrations_cartconnection_add"), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    added = CartConnection.objects.get(name="Added in the admin")
    assert added.get_credentials() == {"api_key": "sq-added-secret-5150"}
    raw = _raw_credentials(CartConnection, added.pk)
    assert raw and b"sq-added-secret-5150" not in raw and b"api_key" not in raw


def test_leaving_the_secret_blank_on_edit_keeps_the_stored_one(admin_client, wired):
    url = reverse("admin:integrations_cartconnection_change", args=[wired.cart.pk])
    page = admin_client.get(url)
    assert page.status_code == 200
    data = form_values(page.content.decode(), "cartconnection_form")
    assert data.get("credential__squarespace__api_key") == [""], "an empty API key input (never shown back)"
    data["name"] = ["Renamed store"]

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    wired.cart.refresh_from_db()
    assert wired.cart.name == "Renamed store"
    assert wired.cart.get_credentials() == {"api_key": wired.squarespace.api_key}


def test_typing_a_new_secret_on_edit_replaces_the_stored_one(admin_client, wired):
    url = reverse("admin:integrations_cartconnection_change", args=[wired.cart.pk])
    data = form_values(admin_client.get(url).content.decode(), "cartconnection_form")
    assert "credential__squarespace__api_key" in data, "the change page has no input for the API key"
    data["credential__squarespace__api_key"] = ["sq-rotated-key-9999"]

    response = admin_client.post(url, data)

    assert response.status_code == 302
    wired.cart.refresh_from_db()
    assert wired.cart.get_credentials() == {"api_key": "sq-rotated-key-9999"}


def test_the_edit_form_shows_the_stored_username_but_never_the_password(wired):
    """The username is not secret: a person editing the connection sees which login it uses."""
    form = WMSConnectionForm(instance=wired.wms)

    assert form["credential__bergen__password"].value() in (None, "")
    assert form["credential__bergen__username"].value() == wired.bergen.username


def test_resubmitting_the_warehouse_edit_form_as_shown_keeps_its_credentials(wired):
    form = WMSConnectionForm(instance=wired.wms)
    data = {name: form[name].value() for name in form.fields}
    data = {name: ("" if value is None else value) for name, value in data.items()}
    data["default_ship_code"] = "UPS:Ground"

    resubmitted = WMSConnectionForm(data=data, instance=wired.wms)

    assert resubmitted.is_valid(), resubmitted.errors
    resubmitted.save()
    wired.wms.refresh_from_db()
    assert wired.wms.default_ship_code == "UPS:Ground"
    assert wired.wms.get_credentials() == {"username": wired.bergen.username, "password": wired.bergen.password}


def test_pasting_a_privileged_token_drops_the_old_grants_refresh_token(db):
    from integrations.forms import CartConnectionForm
    from tests.factories import CartConnectionFactory

    cart = CartConnectionFactory(
        platform="tradegecko",
        credentials_values={"access_token": "old-access", "refresh_token": "old-refresh", "expires_at": "1"},
    )
    form_class = CartConnectionForm.for_platform("tradegecko")
    data = {
        "merchant": cart.merchant.pk,
        "platform": "tradegecko",
        "active": "on",
        "earliest_order_date": cart.earliest_order_date.isoformat(),
        "inventory_buffer": "0",
        "inventory_min_level": "0",
        "credential__tradegecko__access_token": "pasted-privileged-token",
    }
    form = form_class(data=data, instance=cart)
    assert form.is_valid(), form.errors
    form.save()

    cart.refresh_from_db()
    assert cart.get_credentials() == {"access_token": "pasted-privileged-token"}


def test_the_cart_connection_page_edits_the_tracking_and_inventory_settings(admin_client, db):
    from tests.factories import CartConnectionFactory

    cart = CartConnectionFactory()
    page = admin_client.get(f"/admin/integrations/cartconnection/{cart.pk}/change/").content.decode()

    for field in ("notify_customer_on_shipment", "inventory_sync_enabled", "inventory_buffer", "inventory_min_level"):
        assert f'name="{field}"' in page, field


def test_changing_the_platform_shows_the_new_platforms_fields_and_what_it_needs(admin_client, wired):
    """A change of platform is answered with the new platform's inputs and what they lack, not an error page."""
    url = reverse("admin:integrations_cartconnection_change", args=[wired.cart.pk])
    data = form_values(admin_client.get(url).content.decode(), "cartconnection_form")
    data["platform"] = ["tradegecko"]

    response = admin_client.post(url, data)

    assert response.status_code == 200
    form = response.context["adminform"].form
    assert "TradeGecko needs" in str(form.errors)
    assert any(name.startswith("credential__tradegecko__") for name in form.fields)
    wired.cart.refresh_from_db()
    assert wired.cart.platform == "squarespace"
