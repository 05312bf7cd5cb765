"""The admin offers a cart connection only its merchant's warehouses, and refuses another merchant's
on the field, whatever the page was made to send."""

from __future__ import annotations

from datetime import date

import pytest
from django.urls import reverse

from integrations.models import CartConnection, Merchant, WMSConnection
from orders.models import Problem
from tests.admin_helpers import form_values, messages_of
from tests.factories import CartConnectionFactory, MerchantFactory, WMSConnectionFactory

REFUSAL = "belongs to another merchant"


@pytest.fixture
def mine(db) -> CartConnection:
    return CartConnectionFactory(merchant=MerchantFactory(slug="mine", name="Mine"), name="My store")


@pytest.fixture
def their_wms(db) -> WMSConnection:
    return WMSConnectionFactory(merchant=MerchantFactory(slug="theirs", name="Theirs"), name="Their warehouse")


def field_errors(response, name: str) -> str:
    return " ".join(response.context["adminform"].form.errors.get(name, []))


def test_the_change_page_refuses_their_warehouse_on_the_field(admin_client, mine, their_wms):
    url = reverse("admin:integrations_cartconnection_change", args=[mine.pk])
    data = form_values(admin_client.get(url).content.decode(), "cartconnection_form")
    assert data["warehouse"] == [str(mine.warehouse_id)]
    data["warehouse"] = [str(their_wms.pk)]

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert f"Warehouse connection #{their_wms.pk} {REFUSAL}" in field_errors(response, "warehouse")
    assert REFUSAL in response.content.decode()
    assert CartConnection.objects.get(pk=mine.pk).warehouse_id == mine.warehouse_id


def test_the_add_page_refuses_their_warehouse_on_the_field(admin_client, mine, their_wms):
    url = reverse("admin:integrations_cartconnection_add")
    data = form_values(admin_client.get(url).content.decode(), "cartconnection_form")
    data.update(
        merchant=[str(mine.merchant_id)],
        name=["Crossed wires"],
        platform=["squarespace"],
        warehouse=[str(their_wms.pk)],
        earliest_order_date=[date.today().isoformat()],
        credential__squarespace__api_key=["sq-key"],
    )

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert REFUSAL in field_errors(response, "warehouse")
    assert not CartConnection.objects.filter(name="Crossed wires").exists()

    data["warehouse"] = [str(mine.warehouse_id)]  # the same page, with the merchant's own: saved
    assert admin_client.post(url, data).status_code == 302
    assert CartConnection.objects.get(name="Crossed wires").warehouse_id == mine.warehouse_id


def test_a_warehouse_in_use_cannot_be_moved_to_another_merchant(admin_client, mine, their_wms):
    url = reverse("admin:integrations_wmsconnection_change", args=[mine.warehouse_id])
    data = form_values(admin_client.get(url).content.decode(), "wmsconnection_form")
    data["merchant"] = [str(their_wms.merchant_id)]

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert "cannot move to another merchant: cart connections" in field_errors(response, "merchant")
    assert WMSConnection.objects.get(pk=mine.warehouse_id).merchant_id == mine.merchant_id


def _warehouse_choices(admin_client, **extra) -> set[int]:
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "integrations", "model_name": "cartconnection", "field_name": "warehouse", "term": "", **extra},
    )
    assert response.status_code == 200
    return {int(result["id"]) for result in response.json()["results"]}


def test_the_warehouse_choices_are_the_chosen_merchants_own(admin_client, mine, their_wms):
    second = WMSConnectionFactory(merchant=mine.merchant, name="Second warehouse")

    assert _warehouse_choices(admin_client, merchant=mine.merchant_id) == {mine.warehouse_id, second.pk}
    assert _warehouse_choices(admin_client, merchant=their_wms.merchant_id) == {their_wms.pk}
    assert _warehouse_choices(admin_client, merchant=mine.merchant_id, term="Second") == {second.pk}
    assert _warehouse_choices(admin_client, merchant=mine.merchant_id, term="Their") == set()
    assert _warehouse_choices(admin_client) == set()  # no merchant chosen yet: nothing to choose
    assert _warehouse_choices(admin_client, merchant="x") == set()


def test_other_autocompletes_are_not_narrowed(admin_client, mine, their_wms):
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {
            "app_label": "integrations",
            "model_name": "cartconnection",
            "field_name": "merchant",
            "term": "",
            "merchant": mine.merchant_id,
        },
    )

    assert len(response.json()["results"]) == Merchant.objects.count() == 2


def test_the_page_forwards_the_chosen_merchant_to_the_warehouse_autocomplete(admin_client, mine):
    page = admin_client.get(reverse("admin:integrations_cartconnection_change", args=[mine.pk])).content.decode()

    select = page[page.index('name="warehouse"') - 400 : page.index('name="warehouse"') + 400]
    assert 'data-merchant-scoped="true"' in select
    assert "admin-autocomplete" in select
    assert "integrations/admin/merchant_scoped.js" in page


def test_retrying_a_warehouse_problem_skips_a_cart_wired_to_another_merchant(admin_client, mine, their_wms):
    problem = Problem.objects.create(
        key=f"wms:{mine.warehouse_id}:failing",
        merchant=mine.merchant,
        warehouse=mine.warehouse,
        reason_code="failing",
        message="failing",
        last_seen_at=mine.created_at,
    )
    CartConnection.objects.filter(pk=mine.pk).update(warehouse=their_wms)

    response = admin_client.post(
        reverse("admin:orders_problem_changelist"),
        {"action": "retry_problems", "_selected_action": [problem.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert any("Nothing to retry" in text for _, text in messages_of(response))
