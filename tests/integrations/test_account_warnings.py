"""Saving (or testing) a connection to a platform account another connection already reaches warns staff,
naming the other connection; a merchant is warned only when the other connection is their own, and never
learns that another merchant uses the account."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.accounts import connection_account_refresh
from integrations.models import WMSConnection
from tests.admin_helpers import form_values, messages_of
from tests.factories import MerchantFactory, WMSConnectionFactory
from tests.portal.conftest import client_of, merchant_user

SHARED = "reaches the same Bergen Logistics account as"
# The account's address as a merchant types it: a public https host (the fake DNS answers it), which is
# what names the account; the connection is never called in these tests but by Test connection.
ACCOUNT_HOST = "acme.atworkweb.example"
ACCOUNT_ADDRESS = f"https://{ACCOUNT_HOST}"


@pytest.fixture(autouse=True)
def public_account_address(fake_dns):
    fake_dns[ACCOUNT_HOST] = ["93.184.216.34"]  # a public address (nothing here can reach it)


def bergen_of(merchant, bergen, name: str) -> WMSConnection:
    wms = WMSConnectionFactory(
        merchant=merchant,
        name=name,
        api_base_url="",
        settings={"account_web_address": ACCOUNT_ADDRESS, "customer_name": bergen.customer, "facility": "NJ"},
    )
    connection_account_refresh(wms, reconfigured=False)
    return wms


def bergen_fields(bergen, name: str) -> dict[str, list[str]]:
    return {
        "name": [name],
        "credential__bergen__username": [bergen.username],
        "credential__bergen__password": [bergen.password],
        "setting__bergen__account_web_address": [ACCOUNT_ADDRESS],
        "setting__bergen__customer_name": [bergen.customer.lower()],  # the same customer, spelled otherwise
        "setting__bergen__facility": ["NJ"],
    }


@pytest.fixture
def other_merchants_warehouse(db, bergen_sandbox) -> WMSConnection:
    return bergen_of(MerchantFactory(name="Rival Goods"), bergen_sandbox, "Rival warehouse")


def admin_add(admin_client, merchant, bergen, name: str):
    url = reverse("admin:integrations_wmsconnection_add")
    data = form_values(admin_client.get(url).content.decode(), "wmsconnection_form")
    data.update(bergen_fields(bergen, name), merchant=[str(merchant.pk)], platform=["bergen"])
    return admin_client.post(url, data, follow=True)


def test_staff_saving_a_second_connection_to_an_account_are_told_which_connection_has_it(
    admin_client, bergen_sandbox, other_merchants_warehouse
):
    merchant = MerchantFactory(name="Acme Shop")

    response = admin_add(admin_client, merchant, bergen_sandbox, "Acme warehouse")

    added = WMSConnection.objects.get(name="Acme warehouse")
    assert added.platform_account == other_merchants_warehouse.platform_account != ""
    warnings = [text for level, text in messages_of(response) if level == "warning"]
    assert len(warnings) == 1 and SHARED in warnings[0]
    assert str(other_merchants_warehouse) in warnings[0]  # "Rival Goods · Bergen Logistics (Rival warehouse)"


def test_staff_saving_a_connection_to_an_account_of_its_own_hear_nothing(admin_client, bergen_sandbox):
    response = admin_add(admin_client, MerchantFactory(), bergen_sandbox, "Only warehouse")

    assert WMSConnection.objects.get(name="Only warehouse").platform_account
    assert not [text for level, text in messages_of(response) if level == "warning"]


def test_staff_testing_a_connection_are_told_too(admin_client, bergen_sandbox, other_merchants_warehouse):
    mine = bergen_of(MerchantFactory(), bergen_sandbox, "Tested warehouse")

    response = admin_client.post(reverse("admin:integrations_wmsconnection_test", args=[mine.pk]), follow=True)

    assert any(level == "warning" and SHARED in text for level, text in messages_of(response))


def portal_add(client, bergen, name: str):
    url = reverse("portal:connection_create", args=["warehouse", "bergen"])
    data = form_values(client.get(url).content.decode(), "connection-form")
    data.update(bergen_fields(bergen, name), action=["save"])
    return client.post(url, data, follow=True)


def test_a_merchant_is_warned_when_their_own_connection_has_the_account(db, bergen_sandbox):
    merchant = MerchantFactory()
    own = bergen_of(merchant, bergen_sandbox, "First warehouse")
    client = client_of(merchant_user(merchant))

    response = portal_add(client, bergen_sandbox, "Second warehouse")

    warnings = [text for level, text in messages_of(response) if level == "warning"]
    assert len(warnings) == 1 and SHARED in warnings[0] and "First warehouse" in warnings[0]
    assert str(own) in warnings[0]


def test_a_merchant_never_learns_that_another_merchant_uses_the_account(db, bergen_sandbox, other_merchants_warehouse):
    merchant = MerchantFactory()
    client = client_of(merchant_user(merchant))

    response = portal_add(client, bergen_sandbox, "My warehouse")

    added = WMSConnection.objects.get(name="My warehouse")
    assert added.platform_account == other_merchants_warehouse.platform_account  # shared, all the same
    assert not [text for level, text in messages_of(response) if level == "warning"]
    page = response.content.decode()
    assert "Rival" not in page and "same Bergen Logistics account" not in page
    tested = client.post(reverse("portal:connection_test", args=["warehouse", added.pk]), follow=True)
    assert not [text for level, text in messages_of(tested) if level == "warning"]
    assert "Rival" not in tested.content.decode()
