"""Staff may point a connection's API base URL elsewhere (a regional host; a sandbox while
SANDBOX_ENABLED is on), never at a private or metadata address otherwise; the Account Web Address
follows the merchant's rules wherever it is typed."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from integrations.models import CartConnection, WMSConnection
from integrations.services import connection_test
from tests.admin_helpers import form_values

ADD_CART = reverse("admin:integrations_cartconnection_add")


def add_cart(admin_client, wired, api_base_url: str, name: str = "Added in the admin"):
    data = form_values(admin_client.get(ADD_CART).content.decode(), "cartconnection_form")
    data.update(
        merchant=[str(wired.merchant.pk)],
        name=[name],
        platform=["squarespace"],
        api_base_url=[api_base_url],
        warehouse=[str(wired.wms.pk)],
        earliest_order_date=[date.today().isoformat()],
        credential__squarespace__api_key=[wired.squarespace.api_key],
        sandbox_tooling=["on"],  # not a field of the form: ignored
    )
    return admin_client.post(ADD_CART, data)


def field_errors(response, name: str) -> str:
    return " ".join(response.context["adminform"].form.errors.get(name, []))


@pytest.mark.parametrize(
    "url, says",
    [
        ("https://10.0.0.5/", "10.0.0.5 is a private address"),
        ("https://inside.example/", "inside.example resolves to a loopback address"),
        ("https://169.254.169.254/", "169.254.169.254 is a cloud metadata address"),
        ("http://regional.example/", "Use an https:// address (not http://)."),
    ],
)
def test_without_sandbox_enabled_staff_may_only_set_a_public_https_address(
    admin_client, wired, fake_dns, settings, url, says
):
    settings.SANDBOX_ENABLED = False
    fake_dns["inside.example"] = ["127.0.0.1"]
    fake_dns["regional.example"] = ["93.184.216.34"]

    response = add_cart(admin_client, wired, url)

    assert response.status_code == 200
    assert says in field_errors(response, "api_base_url")
    assert not CartConnection.objects.filter(name="Added in the admin").exists()


def test_a_public_regional_host_is_saved(admin_client, wired, fake_dns, settings):
    settings.SANDBOX_ENABLED = False
    fake_dns["api.eu.example"] = ["93.184.216.34"]

    assert add_cart(admin_client, wired, "https://api.eu.example/").status_code == 302

    added = CartConnection.objects.get(name="Added in the admin")
    assert (added.api_base_url, added.sandbox_tooling) == ("https://api.eu.example/", False)


def test_with_sandbox_enabled_staff_may_point_a_connection_at_a_loopback_sandbox(admin_client, wired, settings):
    settings.SANDBOX_ENABLED = True

    assert add_cart(admin_client, wired, wired.squarespace.base_url).status_code == 302

    added = CartConnection.objects.get(name="Added in the admin")
    assert added.sandbox_tooling is False
    assert connection_test(connection=added).ok is True


def test_even_with_sandbox_enabled_the_metadata_service_is_refused(admin_client, wired, settings):
    settings.SANDBOX_ENABLED = True

    response = add_cart(admin_client, wired, "http://169.254.169.254/latest/meta-data/")

    assert "cloud metadata address" in field_errors(response, "api_base_url")


def test_the_account_web_address_follows_the_merchants_rules_in_the_admin_too(admin_client, wired, settings):
    """It is called when no API base URL is set, with the public-only policy: a sandbox is an API base URL."""
    settings.SANDBOX_ENABLED = True
    url = reverse("admin:integrations_wmsconnection_change", args=[wired.wms.pk])
    data = form_values(admin_client.get(url).content.decode(), "wmsconnection_form")
    data["setting__bergen__account_web_address"] = ["https://127.0.0.2"]

    response = admin_client.post(url, data)

    assert "127.0.0.2 is a loopback address" in field_errors(response, "setting__bergen__account_web_address")
    assert WMSConnection.objects.get(pk=wired.wms.pk).settings["account_web_address"] == wired.bergen.base_url


def test_the_sandbox_tooling_mark_is_shown_and_cannot_be_set(admin_client, wired):
    page = admin_client.get(reverse("admin:integrations_cartconnection_change", args=[wired.cart.pk]))

    assert "field-sandbox_tooling" in page.content.decode()  # shown, read only
    assert 'name="sandbox_tooling"' not in page.content.decode()
