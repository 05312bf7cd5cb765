"""Connect a cart or a warehouse from the merchant pages: fields per platform, test, secrets, grant."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.db import connection as db_connection
from django.test import Client
from django.urls import reverse

from integrations.connectors.registry import CART_CONNECTORS, WAREHOUSE_CONNECTORS
from integrations.models import CartConnection, WMSConnection
from orders.models import OrderStatus, ShippingMethodMap
from sync.jobs import job_run
from sync.models import Job
from tests.admin_helpers import form_values, import_order, messages_of
from tests.credentials import raw_credentials
from tests.factories import CartConnectionFactory, WMSConnectionFactory
from tests.fixtures_tradegecko import oauth_app_settings
from tests.portal.conftest import client_of, merchant_user

FORM = "connection-form"


def new_page(client, kind: str, platform: str) -> tuple[str, dict[str, list[str]]]:
    url = reverse("portal:connection_create", args=[kind, platform])
    page = client.get(url)
    assert page.status_code == 200
    return url, form_values(page.content.decode(), FORM)


def test_connections_page_lists_both_kinds_and_the_firewall_note(client, mine, settings):
    settings.OUTBOUND_IP_ADDRESSES = []
    page = client.get(reverse("portal:connection_list")).content.decode()

    assert "MINE store" in page
    assert "Allow these addresses in your firewall" in page
    assert "None configured" in page


def test_firewall_addresses_from_settings_are_shown_on_every_connection_page(client, mine, settings):
    settings.OUTBOUND_IP_ADDRESSES = ["50.18.194.14", "54.241.171.180"]

    for url in (
        reverse("portal:connection_list"),
        reverse("portal:connection_create", args=["cart", "squarespace"]),
        reverse("portal:connection_edit", args=["warehouse", mine.wms.pk]),
    ):
        page = client.get(url).content.decode()
        assert "<code>50.18.194.14</code>" in page and "<code>54.241.171.180</code>" in page, url


@pytest.mark.parametrize("kind, connectors", [("cart", CART_CONNECTORS), ("warehouse", WAREHOUSE_CONNECTORS)])
def test_step_one_offers_every_platform_of_the_kind(client, kind, connectors):
    page = client.get(reverse("portal:connection_new", args=[kind])).content.decode()

    for key, connector in connectors.items():
        assert reverse("portal:connection_create", args=[kind, key]) in page
        assert connector.label in page


@pytest.mark.parametrize(
    "kind, platform, expected",
    [
        ("cart", "squarespace", ["API key", "Developer API Keys", "Earliest order date"]),
        ("cart", "overstock", ["API Username", "Warehouse Name", "Account Settings → Warehouse"]),
        ("cart", "tradegecko", ["Required Location ID", "Grant us API access", "Stock Locations tab"]),
        ("cart", "quickbooks_commerce", ["Required Location ID", "Grant us API access"]),
        ("warehouse", "bergen", ["Account Web Address", "API Password", "Bergen customer name"]),
        ("warehouse", "tradegecko", ["Stock location ID", "Grant us API access"]),
    ],
)
def test_step_two_shows_the_platforms_fields_with_setup_help(client, kind, platform, expected):
    page = client.get(reverse("portal:connection_create", args=[kind, platform])).content.decode()

    for text in expected:
        assert text in page, text
    assert 'name="merchant"' not in page
    assert 'name="platform"' not in page
    assert "watermark" not in page


def test_an_unknown_platform_or_kind_is_not_found(client):
    assert client.get(reverse("portal:connection_create", args=["cart", "bergen"])).status_code == 404
    assert client.get(reverse("portal:connection_new", args=["shop"])).status_code == 404


def point_at_sandbox(connection, base_url: str) -> None:
    """What support (or the sandbox tooling) does: the merchant pages cannot point a connection elsewhere."""
    type(connection).objects.filter(pk=connection.pk).update(api_base_url=base_url, sandbox_tooling=True)


def save_and_test(client, kind: str, connection) -> list[tuple[str, str]]:
    url = reverse("portal:connection_edit", args=[kind, connection.pk])
    data = form_values(client.get(url).content.decode(), FORM)
    return messages_of(client.post(url, {**data, "action": ["test"]}, follow=True))


def test_connect_a_squarespace_cart_save_and_test(wired_client, wired):
    url, data = new_page(wired_client, "cart", "squarespace")
    data.update(
        name=["Second store"],
        credential__squarespace__api_key=[wired.squarespace.api_key],
        earliest_order_date=["2024-05-01"],
        action=["save"],
    )

    response = wired_client.post(url, data, follow=True)

    cart = CartConnection.objects.get(name="Second store")
    assert cart.merchant == wired.merchant
    assert cart.platform == "squarespace"
    assert cart.api_base_url == ""  # Squarespace's own address
    assert str(cart.earliest_order_date) == "2024-05-01"
    assert response.redirect_chain[-1][0] == reverse("portal:connection_edit", args=["cart", cart.pk])
    texts = messages_of(response)
    assert ("success", "Squarespace Commerce saved.") in texts
    assert not any("connected." in text for _, text in texts)  # "connected" only after a passing test
    assert cart.get_credentials() == {"api_key": wired.squarespace.api_key}
    point_at_sandbox(cart, wired.squarespace.base_url)

    texts = save_and_test(wired_client, "cart", cart)

    assert any(
        level == "success" and text.startswith("Squarespace Commerce connected. Test connection: OK")
        for level, text in texts
    )
    cart.refresh_from_db()
    assert cart.last_test_ok is True


def test_a_wrong_key_is_saved_and_the_test_says_why_without_showing_it(wired_client, wired):
    url, data = new_page(wired_client, "cart", "squarespace")
    data.update(name=["Wrong key"], credential__squarespace__api_key=["wrong-key-0042"], action=["save"])
    wired_client.post(url, data)
    cart = CartConnection.objects.get(name="Wrong key")
    point_at_sandbox(cart, wired.squarespace.base_url)

    texts = save_and_test(wired_client, "cart", cart)

    [(level, text)] = [m for m in texts if "Test connection" in m[1]]
    assert level == "error"
    assert "401" in text
    assert "wrong-key-0042" not in text


def test_a_missing_required_field_is_reported_and_nothing_saved(client, mine):
    url, data = new_page(client, "cart", "squarespace")
    before = CartConnection.objects.count()

    response = client.post(url, data)

    assert response.status_code == 200
    assert "Squarespace Commerce needs API key." in response.content.decode()
    assert CartConnection.objects.count() == before


def test_the_stored_secret_is_never_shown_and_blank_keeps_it(client, mine):
    mine.cart.set_credentials({"api_key": "sq-secret-api-key-7777"})
    mine.cart.save()
    url = reverse("portal:connection_edit", args=["cart", mine.cart.pk])

    page = client.get(url).content.decode()
    assert "sq-secret-api-key-7777" not in page
    assert "api_key: set" in page
    data = form_values(page, FORM)
    assert data["credential__squarespace__api_key"] == [""]

    client.post(url, {**data, "name": ["Renamed"]})

    mine.cart.refresh_from_db()
    assert mine.cart.name == "Renamed"
    assert mine.cart.get_credentials() == {"api_key": "sq-secret-api-key-7777"}


def test_credentials_no_key_decrypts_show_as_unreadable_and_are_kept_until_entered_again(client, mine, use_keys):
    use_keys("a-key-nobody-kept")
    mine.cart.set_credentials({"api_key": "sq-under-a-lost-key"})
    mine.cart.save()
    use_keys("the-key-in-use")
    token = raw_credentials(CartConnection, mine.cart.pk)
    url = reverse("portal:connection_edit", args=["cart", mine.cart.pk])

    page = client.get(url).content.decode()
    assert "unreadable here: enter them again" in page
    data = form_values(page, FORM)
    client.post(url, {**data, "name": ["Renamed"]})  # no key typed: refused, nothing overwritten
    assert raw_credentials(CartConnection, mine.cart.pk) == token

    client.post(url, {**data, "credential__squarespace__api_key": ["typed-again"]})

    mine.cart.refresh_from_db()
    assert mine.cart.get_credentials()["api_key"] == "typed-again"


def test_a_secret_can_be_replaced(client, mine):
    url = reverse("portal:connection_edit", args=["cart", mine.cart.pk])
    data = form_values(client.get(url).content.decode(), FORM)

    client.post(url, {**data, "credential__squarespace__api_key": ["a-new-key"]})

    mine.cart.refresh_from_db()
    assert mine.cart.get_credentials()["api_key"] == "a-new-key"


def test_connect_a_bergen_warehouse_and_test_it(wired_client, wired):
    url, data = new_page(wired_client, "warehouse", "bergen")
    assert data["setting__bergen__facility"] == ["NJ"]
    data.update(
        name=["Bergen NJ"],
        credential__bergen__username=[wired.bergen.username],
        credential__bergen__password=[wired.bergen.password],
        setting__bergen__account_web_address=["https://www.mine.atworkweb.invalid"],
        setting__bergen__customer_name=[wired.bergen.customer],
        action=["save"],
    )

    wired_client.post(url, data)

    wms = WMSConnection.objects.get(name="Bergen NJ")
    assert wms.merchant == wired.merchant
    assert wms.settings["account_web_address"] == "https://www.mine.atworkweb.invalid"
    point_at_sandbox(wms, wired.bergen.base_url)
    texts = save_and_test(wired_client, "warehouse", wms)
    assert any(level == "success" and "credentials accepted" in text for level, text in texts)
    assert all(wired.bergen.password not in text for _, text in texts)


def test_the_test_button_tests_what_is_stored(wired_client, wired):
    response = wired_client.post(reverse("portal:connection_test", args=["cart", wired.cart.pk]), follow=True)

    [(level, text), (note_level, note)] = messages_of(response)
    assert level == "success"
    assert "connected" in text
    assert "credentials accepted" in text
    assert note_level == "info"
    assert note.startswith("Not checked: whether the key may write.")  # said plainly, not implied by "connected"
    assert wired_client.get(reverse("portal:connection_test", args=["cart", wired.cart.pk])).status_code == 405


def test_the_cart_can_name_one_of_the_merchants_warehouses(client, mine):
    second = WMSConnectionFactory(merchant=mine.merchant, name="Second warehouse")
    url = reverse("portal:connection_edit", args=["cart", mine.cart.pk])
    data = form_values(client.get(url).content.decode(), FORM)

    client.post(url, {**data, "warehouse": [str(second.pk)]})

    mine.cart.refresh_from_db()
    assert mine.cart.warehouse == second


def test_a_shipping_mapping_added_on_the_warehouse_releases_held_orders(wired_client, wired):
    held = import_order(wired, "3001", shipping="Express")
    assert held.status == OrderStatus.ERROR

    response = wired_client.post(
        reverse("portal:shipping_method_add", args=[wired.wms.pk]),
        {"cart_method": "Express", "ship_code": "FDX:2DAY"},
        follow=True,
    )

    texts = [text for _, text in messages_of(response)]
    assert "Shipping method 'Express' now goes as FDX:2DAY." in texts
    assert "1 held order(s) released and ready to send (the next sync sends them)." in texts
    held.refresh_from_db()
    assert held.status == OrderStatus.NEW
    assert held.ship_code == "FDX:2DAY"


def test_a_duplicate_shipping_mapping_is_refused(client, mine):
    response = client.post(
        reverse("portal:shipping_method_add", args=[mine.wms.pk]),
        {"cart_method": "mine express", "ship_code": "X"},
        follow=True,
    )

    assert any(level == "error" and "already has a mapping" in text for level, text in messages_of(response))
    assert ShippingMethodMap.objects.filter(warehouse=mine.wms).count() == 1


def test_a_shipping_mapping_can_be_deleted(client, mine):
    response = client.post(reverse("portal:shipping_method_delete", args=[mine.shipping.pk]), follow=True)

    assert response.status_code == 200
    assert not ShippingMethodMap.objects.filter(pk=mine.shipping.pk).exists()


class TestAccessGrant:
    """TradeGecko / QuickBooks Commerce: "Grant us API access" runs the OAuth flow from the merchant pages."""

    @pytest.fixture
    def oauth_app(self, settings, tradegecko_sandbox):
        settings.OAUTH_CLIENTS = {"tradegecko": oauth_app_settings(tradegecko_sandbox)}
        return tradegecko_sandbox

    def authorize(self, response) -> str:
        """Follow the redirect to the platform's authorize page; return the callback URL it sends back to."""
        assert response.status_code == 302
        answer = requests.get(response["Location"], allow_redirects=False, timeout=5)
        assert answer.status_code == 302
        parts = urlsplit(answer.headers["Location"])
        assert parts.path == reverse("oauth_callback")
        return f"{parts.path}?{parts.query}"

    def test_a_new_connection_is_saved_then_granted_without_pasting_a_token(self, client, mine, oauth_app):
        url, data = new_page(client, "cart", "tradegecko")
        assert "credential__tradegecko__refresh_token" not in data
        assert "credential__tradegecko__expires_at" not in data
        data.update(name=["Gecko"], action=["grant"])
        assert client.post(url, data).status_code == 302  # to the platform's own authorize page
        connection = CartConnection.objects.get(name="Gecko")
        assert connection.needs_new_grant is True
        point_at_sandbox(connection, oauth_app.base_url)
        edit = reverse("portal:connection_edit", args=["cart", connection.pk])
        data = form_values(client.get(edit).content.decode(), FORM)

        start = client.post(edit, {**data, "action": ["grant"]})
        callback = self.authorize(start)
        assert parse_qs(urlsplit(callback).query)["code"]
        done = client.get(callback, follow=True)

        [job] = Job.objects.filter(kind=Job.Kind.GRANT)  # the code is exchanged in the worker (inline here)
        edit_url = reverse("portal:connection_edit", args=["cart", connection.pk])
        assert done.redirect_chain[-1][0] == f"{edit_url}?job={job.pk}#job"
        assert any("Access granted" in text for _, text in messages_of(done))
        assert job.level == "success" and job.secret == "", "the one-time code is not kept once used"
        connection.refresh_from_db()
        assert connection.needs_new_grant is False
        assert set(connection.get_credentials()) == {"access_token", "refresh_token", "expires_at"}
        assert connection.get_credentials()["access_token"] not in done.content.decode()

    def test_the_callback_only_queues_the_exchange_with_the_code_encrypted(self, client, mine, oauth_app, settings):
        settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}  # a real worker would take it later
        url, data = new_page(client, "cart", "tradegecko")
        data.update(name=["Gecko"], action=["grant"])
        client.post(url, data)
        connection = CartConnection.objects.get(name="Gecko")
        point_at_sandbox(connection, oauth_app.base_url)
        edit = reverse("portal:connection_edit", args=["cart", connection.pk])
        start = client.post(edit, {**form_values(client.get(edit).content.decode(), FORM), "action": ["grant"]})
        callback = self.authorize(start)
        code = parse_qs(urlsplit(callback).query)["code"][0]
        oauth_app.reset()

        done = client.get(callback, follow=True)

        assert oauth_app.requests == [], "the code is exchanged by the worker, not in the request"
        [job] = Job.objects.filter(kind=Job.Kind.GRANT)
        assert job.state == Job.State.QUEUED and 'id="job"' in done.content.decode()
        with db_connection.cursor() as cursor:
            cursor.execute("SELECT secret FROM sync_job WHERE id = %s", [job.pk])
            assert code not in str(cursor.fetchone()[0]), "stored encrypted"
        job_run(job_id=job.pk)  # the worker's part
        job.refresh_from_db()
        connection.refresh_from_db()
        assert job.level == "success" and job.secret == ""
        assert set(connection.get_credentials()) == {"access_token", "refresh_token", "expires_at"}

    def test_the_grant_button_on_a_saved_connection(self, client, mine, oauth_app):
        connection = CartConnectionFactory(
            merchant=mine.merchant,
            platform="tradegecko",
            api_base_url=oauth_app.base_url,
            credentials_values={},
            sandbox_tooling=True,
        )
        connection.set_credentials({})
        connection.save()

        start = client.post(reverse("portal:connection_grant", args=["cart", connection.pk]))
        client.get(self.authorize(start))

        connection.refresh_from_db()
        assert connection.get_credentials()["access_token"]

    def test_the_callback_refuses_another_user(self, client, mine, oauth_app):
        connection = CartConnectionFactory(
            merchant=mine.merchant, platform="tradegecko", api_base_url=oauth_app.base_url, sandbox_tooling=True
        )
        start = client.post(reverse("portal:connection_grant", args=["cart", connection.pk]))
        callback = self.authorize(start)
        colleague = client_of(merchant_user(mine.merchant, "colleague"))

        response = colleague.get(callback)

        assert response.status_code == 400
        assert "started by someone else" in response.content.decode()

    def test_the_callback_refuses_a_user_who_left_the_merchant(self, client, user, mine, theirs, oauth_app):
        connection = CartConnectionFactory(
            merchant=mine.merchant, platform="tradegecko", api_base_url=oauth_app.base_url, sandbox_tooling=True
        )
        start = client.post(reverse("portal:connection_grant", args=["cart", connection.pk]))
        callback = self.authorize(start)
        user.merchant_membership.merchant = theirs.merchant
        user.merchant_membership.save()

        response = client.get(callback)

        assert response.status_code == 404
        connection.refresh_from_db()
        assert connection.get_credentials() == {"api_key": "sandbox-squarespace-key"}

    def test_a_tampered_state_is_refused(self, client):
        response = client.get(reverse("oauth_callback"), {"state": "forged", "code": "x"})

        assert response.status_code == 400

    def test_an_anonymous_callback_goes_to_the_merchant_login(self, client, mine, oauth_app):
        connection = CartConnectionFactory(
            merchant=mine.merchant, platform="tradegecko", api_base_url=oauth_app.base_url, sandbox_tooling=True
        )
        callback = self.authorize(client.post(reverse("portal:connection_grant", args=["cart", connection.pk])))

        response = Client().get(callback)

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("portal:login") + "?next=")

    def test_without_our_oauth_app_the_page_says_what_to_do(self, client, mine, settings):
        settings.OAUTH_CLIENTS = {}
        connection = CartConnectionFactory(merchant=mine.merchant, platform="tradegecko")

        response = client.post(reverse("portal:connection_grant", args=["cart", connection.pk]), follow=True)

        [(level, text)] = messages_of(response)
        assert level == "error"
        assert "paste a privileged access token" in text

    def test_a_platform_without_a_grant_has_no_grant_url(self, client, mine):
        connection = CartConnectionFactory(merchant=mine.merchant, platform="overstock")
        assert client.post(reverse("portal:connection_grant", args=["cart", connection.pk])).status_code == 404

    def test_the_staff_path_still_works_and_returns_to_the_admin(self, admin_client, mine, oauth_app):
        connection = CartConnectionFactory(
            merchant=mine.merchant, platform="tradegecko", api_base_url=oauth_app.base_url, sandbox_tooling=True
        )

        start = admin_client.post(reverse("oauth_start", args=["cart", connection.pk]))
        done = admin_client.get(self.authorize(start))

        [job] = Job.objects.filter(kind=Job.Kind.GRANT)
        admin_url = reverse("admin:integrations_cartconnection_change", args=[connection.pk])
        assert done["Location"] == f"{admin_url}?job={job.pk}#job"
        connection.refresh_from_db()
        assert connection.get_credentials()["access_token"]

    def test_a_merchant_user_cannot_use_the_staff_start(self, client, mine, oauth_app):
        response = client.post(reverse("oauth_start", args=["cart", mine.cart.pk]))

        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
