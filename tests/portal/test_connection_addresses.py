"""A merchant gives an address only where the platform's setup asks for one (Bergen's Account Web
Address), and that address must be https and public: refused on the field when saved, and again on
every request should its name resolve elsewhere later."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import CartConnection, WMSConnection
from tests.admin_helpers import form_values, messages_of

FORM = "connection-form"
ADDRESS = "setting__bergen__account_web_address"


def bergen_form(client) -> tuple[str, dict[str, list[str]]]:
    url = reverse("portal:connection_create", args=["warehouse", "bergen"])
    data = form_values(client.get(url).content.decode(), FORM)
    data.update(
        name=["Bergen NJ"],
        credential__bergen__username=["api-user"],
        credential__bergen__password=["api-pass-0042"],
        setting__bergen__customer_name=["MINE"],
        action=["save"],
    )
    return url, data


@pytest.mark.parametrize(
    "address, says",
    [
        ("https://10.0.0.5", "10.0.0.5 is a private address"),
        ("https://wms.example", "wms.example resolves to a loopback address"),
        ("http://public.example", "Use an https:// address (not http://)."),
        ("https://169.254.169.254", "169.254.169.254 is a cloud metadata address"),
        ("https://[::ffff:10.0.0.5]", "private address (inside an IPv6 address)"),
        ("https://100.64.1.1", "shared (carrier-grade NAT) address"),
    ],
)
def test_an_account_web_address_that_is_not_public_https_is_refused_on_its_field(client, mine, fake_dns, address, says):
    fake_dns["wms.example"] = ["127.0.0.1"]
    fake_dns["public.example"] = ["93.184.216.34"]
    url, data = bergen_form(client)
    data[ADDRESS] = [address]

    response = client.post(url, data)

    assert response.status_code == 200
    assert says in " ".join(response.context["form"].errors[ADDRESS])
    assert not WMSConnection.objects.filter(name="Bergen NJ").exists()


def test_debug_and_the_sandbox_switch_give_a_merchant_no_exception(client, mine, settings):
    settings.DEBUG = True
    settings.SANDBOX_ENABLED = True
    url, data = bergen_form(client)
    data[ADDRESS] = ["https://127.0.0.1:8001"]

    response = client.post(url, data)

    assert "127.0.0.1 is a loopback address" in " ".join(response.context["form"].errors[ADDRESS])


def test_a_public_https_address_is_saved(client, mine, fake_dns):
    fake_dns["www.mine.atworkweb.example"] = ["93.184.216.34"]
    url, data = bergen_form(client)
    data[ADDRESS] = ["https://www.mine.atworkweb.example"]

    assert client.post(url, data).status_code == 302

    assert WMSConnection.objects.get(name="Bergen NJ").settings["account_web_address"] == (
        "https://www.mine.atworkweb.example"
    )


def test_a_host_listed_for_a_private_network_is_saved(client, mine, fake_dns, settings):
    settings.OUTBOUND_PRIVATE_HOSTS = ["wms.mine.internal"]
    fake_dns["wms.mine.internal"] = ["10.20.30.40"]
    url, data = bergen_form(client)
    data[ADDRESS] = ["https://wms.mine.internal"]

    assert client.post(url, data).status_code == 302


def test_a_name_that_resolves_to_loopback_after_the_save_is_refused_when_tested(client, mine, fake_dns, listener):
    fake_dns["wms.example"] = ["93.184.216.34"]
    url, data = bergen_form(client)
    data[ADDRESS] = [f"https://wms.example:{listener.port}"]
    assert client.post(url, data).status_code == 302
    wms = WMSConnection.objects.get(name="Bergen NJ")
    fake_dns["wms.example"] = ["127.0.0.1"]  # the DNS answer changed after the save

    response = client.post(reverse("portal:connection_test", args=["warehouse", wms.pk]), follow=True)

    [(level, text)] = [m for m in messages_of(response) if "Test connection" in m[1]]
    assert level == "error"
    assert "wms.example resolves to a loopback address" in text and "nothing was sent" in text
    assert listener.connections() == []


class TestNoApiBaseUrlForMerchants:
    def test_the_pages_have_no_api_base_url_field(self, client, mine):
        for url in (
            reverse("portal:connection_create", args=["cart", "squarespace"]),
            reverse("portal:connection_create", args=["warehouse", "bergen"]),
            reverse("portal:connection_edit", args=["cart", mine.cart.pk]),
            reverse("portal:connection_edit", args=["warehouse", mine.wms.pk]),
        ):
            page = client.get(url).content.decode()
            assert 'name="api_base_url"' not in page and "API base URL" not in page, url

    def test_a_crafted_api_base_url_is_ignored_on_a_new_connection(self, client, mine):
        url = reverse("portal:connection_create", args=["cart", "squarespace"])
        data = form_values(client.get(url).content.decode(), FORM)
        data.update(
            name=["Crafted"],
            credential__squarespace__api_key=["key-0042"],
            earliest_order_date=["2024-05-01"],
            api_base_url=["http://169.254.169.254/latest/meta-data/"],
        )

        assert client.post(url, data).status_code == 302

        assert CartConnection.objects.get(name="Crafted").api_base_url == ""

    def test_a_crafted_api_base_url_does_not_replace_the_one_staff_set(self, client, mine):
        CartConnection.objects.filter(pk=mine.cart.pk).update(api_base_url="https://api.test.supplieroasis.com")
        url = reverse("portal:connection_edit", args=["cart", mine.cart.pk])
        data = form_values(client.get(url).content.decode(), FORM)

        client.post(url, {**data, "name": ["Renamed"], "api_base_url": ["https://10.0.0.1"]})

        mine.cart.refresh_from_db()
        assert (mine.cart.name, mine.cart.api_base_url) == ("Renamed", "https://api.test.supplieroasis.com")
