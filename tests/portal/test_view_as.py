"""View as merchant: staff with the permission see a merchant's pages read only, and it is logged."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from orders.models import OrderStatus, SKUAlias
from tests.factories import UserFactory
from tests.portal.conftest import client_of, merchant_user


def staff(*, allowed: bool = True, username: str = "support") -> User:
    user = UserFactory(username=username, is_staff=True)
    if allowed:
        user.user_permissions.add(Permission.objects.get(codename="view_as_merchant"))
    return user


def viewing_as(user: User, merchant) -> Client:
    client = client_of(user)
    response = client.post(reverse("portal:view_as_start", args=[merchant.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")
    return client


def test_staff_with_the_permission_see_the_merchants_pages_with_the_banner(mine, theirs):
    client = viewing_as(staff(), mine.merchant)

    home = client.get(reverse("portal:home")).content.decode()
    orders = client.get(reverse("portal:order_list")).content.decode()

    assert 'id="view-as-banner"' in home
    assert "Viewing as <strong>Mine Ltd</strong> (read only)" in home
    assert "back to admin" in home
    assert "MINE-1001" in orders
    assert "THEIR-1001" not in orders
    assert client.get(reverse("portal:order_detail", args=[theirs.order.pk])).status_code == 404


def test_every_change_is_refused_with_the_reason_and_nothing_changes(mine):
    client = viewing_as(staff(), mine.merchant)

    alias = client.post(reverse("portal:alias_create"), {"cart_sku": "NEW", "warehouse_sku": "W"})
    retry = client.post(reverse("portal:order_retry", args=[mine.order.pk]))
    delete = client.post(reverse("portal:alias_delete", args=[mine.alias.pk]))

    for response in (alias, retry, delete):
        assert response.status_code == 403
        assert "Nothing was changed: you are viewing as Mine Ltd (read only)" in response.content.decode()
    assert list(SKUAlias.objects.filter(merchant=mine.merchant).values_list("cart_sku", flat=True)) == ["MINE-CART-SKU"]
    mine.order.refresh_from_db()
    assert mine.order.status == OrderStatus.ERROR


def test_starting_and_stopping_are_recorded_on_the_merchants_admin_history(mine):
    user = staff()
    client = viewing_as(user, mine.merchant)

    stop = client.post(reverse("portal:view_as_stop"))

    assert stop["Location"] == reverse("admin:integrations_merchant_change", args=[mine.merchant.pk])
    messages = list(
        LogEntry.objects.filter(user=user, object_id=str(mine.merchant.pk))
        .order_by("pk")
        .values_list("change_message", flat=True)
    )
    assert messages == [
        "Viewed the merchant pages as this merchant (read only).",
        "Stopped viewing the merchant pages as this merchant.",
    ]
    assert client.get(reverse("portal:home")).status_code == 403  # staff without a merchant of their own


def test_the_confirmation_page_changes_nothing_until_posted(mine):
    client = client_of(staff())

    page = client.get(reverse("portal:view_as_start", args=[mine.merchant.pk]))

    assert page.status_code == 200
    assert "Start viewing as Mine Ltd" in page.content.decode()
    assert not LogEntry.objects.exists()
    assert client.get(reverse("portal:home")).status_code == 403


@pytest.mark.parametrize("who", ["staff without the permission", "merchant user", "merchant user given the permission"])
def test_only_staff_with_the_permission_may_view_as(mine, theirs, who):
    if who == "staff without the permission":
        user = staff(allowed=False)
    else:
        user = merchant_user(mine.merchant, "shop")
        if who == "merchant user given the permission":
            user.user_permissions.add(Permission.objects.get(codename="view_as_merchant"))
    client = client_of(user)

    response = client.post(reverse("portal:view_as_start", args=[theirs.merchant.pk]))

    assert response.status_code == 403
    assert "Only staff with the permission" in response.content.decode()
    assert "THEIR-1001" not in client.get(reverse("portal:order_list")).content.decode()
    assert not LogEntry.objects.exists()


def test_taking_the_permission_away_ends_the_view_at_once(mine):
    user = staff()
    client = viewing_as(user, mine.merchant)
    user.user_permissions.clear()

    response = client.get(reverse("portal:order_list"))

    assert response.status_code == 403
    assert "MINE-1001" not in response.content.decode()


def test_anonymous_visitors_are_sent_to_the_admin_sign_in(mine):
    response = Client().post(reverse("portal:view_as_start", args=[mine.merchant.pk]))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    assert not LogEntry.objects.exists()


def test_the_admin_merchant_page_links_view_as_for_staff_with_the_permission(mine):
    allowed, refused = staff(), staff(allowed=False, username="other")
    for user in (allowed, refused):
        user.user_permissions.add(Permission.objects.get(codename="change_merchant"))
    url = reverse("admin:integrations_merchant_change", args=[mine.merchant.pk])
    link = reverse("portal:view_as_start", args=[mine.merchant.pk])

    assert link in client_of(allowed).get(url).content.decode()
    assert link not in client_of(refused).get(url).content.decode()
