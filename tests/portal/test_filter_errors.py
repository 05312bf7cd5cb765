"""A filter of the merchant's order list that cannot be applied says so, instead of listing every order silently."""

from __future__ import annotations

from django.urls import reverse


def test_an_unknown_status_or_another_merchants_cart_is_named_and_not_applied(client, mine, theirs):
    response = client.get(reverse("portal:order_list"), {"status": "bogus", "connection": theirs.cart.pk})

    page = response.content.decode()
    assert response.status_code == 200
    assert 'id="filter-errors"' in page
    assert "Status: Select a valid choice. bogus is not one of the available choices." in page
    assert "Cart: Select a valid choice. That choice is not one of the available choices." in page
    assert "THEIR-1001" not in page


def test_valid_filters_show_no_error(client, mine):
    response = client.get(reverse("portal:order_list"), {"status": "error", "q": "MINE-1001"})

    assert 'id="filter-errors"' not in response.content.decode()
    assert [order.order_number for order in response.context["page"]] == ["MINE-1001"]
