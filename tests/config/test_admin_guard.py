"""Parameters and values the Django admin was not written for are refused with a reason, on every ModelAdmin."""

from __future__ import annotations

from django.urls import reverse

from orders.models import SKUAlias
from tests.factories import SKUAliasFactory


def test_a_date_drill_down_beyond_what_the_admin_computes_is_refused(admin_client):
    changelist = reverse("admin:orders_order_changelist")

    last_year = admin_client.get(changelist, {"created_at__year": "9999"})
    huge_month = admin_client.get(changelist, {"created_at__year": "2024", "created_at__month": "9" * 30})
    leap_day = admin_client.get(
        changelist, {"created_at__year": "2024", "created_at__month": "2", "created_at__day": "29"}
    )
    not_a_day = admin_client.get(
        changelist, {"created_at__year": "2023", "created_at__month": "2", "created_at__day": "29"}
    )

    assert last_year.status_code == huge_month.status_code == 400
    assert "the parameter 'created_at__year' in the address must be between 1 and 9998." in last_year.content.decode()
    assert leap_day.status_code == 200
    assert not_a_day.status_code == 302 and not_a_day["Location"].endswith("?e=1")  # the admin's own refusal


def test_a_range_filter_is_refused_and_the_lookups_it_stands_for_work(admin_client, db):
    changelist = reverse("admin:orders_order_changelist")

    by_range = admin_client.get(changelist, {"status__range": "a,z"})
    by_bounds = admin_client.get(changelist, {"status__gte": "a", "status__lt": "z"})

    assert by_range.status_code == 400
    assert "the list cannot filter by 'status__range': use __gte and __lt instead." in by_range.content.decode()
    assert by_bounds.status_code == 200


def test_an_empty_to_field_is_refused_on_a_change_page(admin_client, db):
    alias = SKUAliasFactory()
    change = reverse("admin:orders_skualias_change", args=[alias.pk])

    response = admin_client.get(change, {"_to_field": ""})

    assert response.status_code == 400
    assert "the parameter '_to_field' is empty." in response.content.decode()
    assert admin_client.get(change, {"_to_field": "id"}).status_code == 200


def test_an_autocomplete_value_that_is_no_key_is_a_form_error(admin_client, db):
    alias = SKUAliasFactory(cart_sku="KEEP", warehouse_sku="W")
    change = reverse("admin:orders_skualias_change", args=[alias.pk])

    for value in ["not-a-number", "9" * 30, "-1", "1.5"]:
        response = admin_client.post(change, {"merchant": value, "cart_sku": "CHANGED", "warehouse_sku": "W"})

        assert response.status_code == 200, value
        assert response.context["adminform"].form.errors["merchant"] == [
            "Select a valid choice. That choice is not one of the available choices."
        ]
    assert SKUAlias.objects.get(pk=alias.pk).cart_sku == "KEEP"


def test_an_action_on_rows_that_are_no_keys_is_refused(admin_client, db):
    alias = SKUAliasFactory()
    changelist = reverse("admin:orders_skualias_changelist")

    for value in ["not-a-number", "1\x00"]:
        response = admin_client.post(
            changelist, {"action": "delete_selected", "_selected_action": [str(alias.pk), value], "index": "0"}
        )

        assert response.status_code == 400, value
        assert "a selected row is not one of this list's." in response.content.decode()
    assert SKUAlias.objects.filter(pk=alias.pk).exists()


def test_an_action_on_a_key_beyond_any_integer_column_selects_nothing(admin_client, db):
    alias = SKUAliasFactory()
    changelist = reverse("admin:orders_skualias_changelist")

    response = admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": ["9" * 30, str(alias.pk)], "index": "0"}
    )

    assert response.status_code == 200
    assert list(response.context["queryset"]) == [alias]  # the confirmation page, for the one real row


def test_a_number_beyond_any_integer_column_in_a_multiple_choice_is_a_form_error(admin_client, db):
    response = admin_client.post(reverse("admin:auth_group_add"), {"name": "ops", "permissions": ["9" * 20]})

    assert response.status_code == 200
    assert "permissions" in response.context["adminform"].form.errors
