"""Login, the merchant requirement, CSRF and no-cache: enforced once for every merchant page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import URLPattern, get_resolver, reverse

from integrations.models import MerchantMembership
from tests.factories import JobFactory, WarehouseSKUListFactory
from tests.portal.conftest import PASSWORD, client_of, merchant_user

PUBLIC = {"login", "logout"}
STAFF_ONLY = {"view_as_start", "view_as_stop"}  # tested in test_view_as.py


def portal_patterns() -> list[URLPattern]:
    resolver = get_resolver()
    [portal] = [p for p in resolver.url_patterns if getattr(p, "namespace", None) == "portal"]
    return list(portal.url_patterns)


def sample_url(pattern: URLPattern) -> str:
    values = {"kind": "cart", "platform": "squarespace", "pk": 1}
    return reverse(f"portal:{pattern.name}", kwargs={k: values[k] for k in pattern.pattern.converters})


MERCHANT_PAGES = [p for p in portal_patterns() if p.name not in PUBLIC | STAFF_ONLY]


def test_every_merchant_page_is_wrapped_by_the_one_scope_decorator():
    unwrapped = [p.name for p in MERCHANT_PAGES if not getattr(p.callback, "merchant_scoped", False)]

    assert unwrapped == []
    assert len(MERCHANT_PAGES) >= 20


@pytest.mark.django_db
@pytest.mark.parametrize("pattern", MERCHANT_PAGES, ids=lambda p: p.name)
@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitors_are_sent_to_the_login_page(pattern, method):
    url = sample_url(pattern)

    response = getattr(Client(), method)(url)

    assert response.status_code == 302
    assert response["Location"] == f"{reverse('portal:login')}?next={url}"


@pytest.mark.parametrize("pattern", MERCHANT_PAGES, ids=lambda p: p.name)
def test_a_user_without_a_merchant_gets_403_everywhere(db, pattern):
    client = client_of(User.objects.create_user("nobody", password=PASSWORD))

    response = client.get(sample_url(pattern))

    assert response.status_code == 403
    assert "not linked to a merchant" in response.content.decode()


def test_staff_are_not_merchants_unless_linked(db, admin_user, mine):
    client = client_of(admin_user)

    refused = client.get(reverse("portal:home"))
    MerchantMembership.objects.create(user=admin_user, merchant=mine.merchant)
    allowed = client.get(reverse("portal:home"))

    assert refused.status_code == 403
    assert reverse("admin:index") in refused.content.decode()
    assert allowed.status_code == 200


def test_an_inactive_merchant_cannot_use_the_pages(client, mine):
    mine.merchant.active = False
    mine.merchant.save()

    assert client.get(reverse("portal:home")).status_code == 403


def test_merchant_pages_are_never_cached(client):
    response = client.get(reverse("portal:home"))

    assert "no-store" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]


def test_login_page_signs_in_and_goes_to_the_page_asked_for(user):
    client = Client()
    login_page = client.get(reverse("portal:login"))
    assert login_page.status_code == 200

    response = client.post(
        reverse("portal:login"),
        {"username": user.username, "password": PASSWORD, "next": reverse("portal:order_list")},
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:order_list")
    assert client.get(reverse("portal:order_list")).status_code == 200


def test_login_without_next_goes_to_the_overview(user):
    response = Client().post(reverse("portal:login"), {"username": user.username, "password": PASSWORD})

    assert response["Location"] == reverse("portal:home")


def test_a_wrong_password_is_refused(user):
    response = Client().post(reverse("portal:login"), {"username": user.username, "password": "nope"})

    assert response.status_code == 200
    assert "enter a correct username and password" in response.content.decode()


def test_sign_out_is_a_post_and_ends_the_session(client):
    assert client.get(reverse("portal:logout")).status_code == 405

    response = client.post(reverse("portal:logout"))

    assert response["Location"] == reverse("portal:login")
    assert client.get(reverse("portal:home")).status_code == 302


def test_password_change(client, user):
    page = client.get(reverse("portal:password_change"))
    assert page.status_code == 200

    response = client.post(
        reverse("portal:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-new-long-passphrase-77",
            "new_password2": "a-new-long-passphrase-77",
        },
        follow=True,
    )

    assert "Your password was changed." in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("a-new-long-passphrase-77")


class TestCsrf:
    """CSRF is Django's middleware: a POST without the page's token is refused, with it accepted."""

    def test_a_post_without_the_token_is_refused(self, user, mine):
        client = client_of(user, enforce_csrf_checks=True)

        response = client.post(reverse("portal:alias_create"), {"cart_sku": "A", "warehouse_sku": "B"})

        assert response.status_code == 403
        assert not mine.merchant.sku_aliases.filter(cart_sku="A").exists()

    def test_a_post_with_the_pages_token_is_accepted(self, user, mine):
        WarehouseSKUListFactory(warehouse=mine.wms, skus=["B"])  # the warehouse lists the SKU
        client = client_of(user, enforce_csrf_checks=True)
        client.get(reverse("portal:alias_create"))
        token = client.cookies["csrftoken"].value

        response = client.post(
            reverse("portal:alias_create"), {"cart_sku": "A", "warehouse_sku": "B", "csrfmiddlewaretoken": token}
        )

        assert response.status_code == 302
        assert mine.merchant.sku_aliases.filter(cart_sku="A", warehouse_sku="B").exists()

    def test_the_login_form_needs_the_token_too(self, user):
        client = Client(enforce_csrf_checks=True)

        response = client.post(reverse("portal:login"), {"username": user.username, "password": PASSWORD})

        assert response.status_code == 403


def test_a_second_user_of_the_same_merchant_sees_the_same_data(mine, client):
    other = client_of(merchant_user(mine.merchant, "colleague"))

    assert other.get(reverse("portal:order_detail", args=[mine.order.pk])).status_code == 200


def test_every_merchant_page_renders_for_the_merchant(client, mine):
    """GET on each page with the merchant's own ids: a page, or 405 for the POST-only actions."""
    pks = {
        "connection_edit": mine.wms.pk,
        "connection_test": mine.wms.pk,
        "connection_grant": mine.wms.pk,
        "shipping_method_add": mine.wms.pk,
        "shipping_method_delete": mine.shipping.pk,
        "alias_edit": mine.alias.pk,
        "alias_delete": mine.alias.pk,
        "order_detail": mine.order.pk,
        "order_retry": mine.order.pk,
        "order_send": mine.order.pk,
        "order_alias": mine.order.pk,
        "order_mapping": mine.order.pk,
        "order_ship_to": mine.order.pk,
        "order_hand_hold": mine.order.pk,
        "order_release": mine.order.pk,
        "order_payload": mine.order.pk,
        "connection_sync": mine.cart.pk,
        "job_status": JobFactory(cart_connection=mine.cart).pk,
    }
    order_actions = {
        "order_retry",
        "order_send",
        "order_alias",
        "order_mapping",
        "order_ship_to",
        "order_hand_hold",
        "order_release",
    }
    post_only = {
        "connection_test",
        "connection_sync",
        "connection_grant",
        "shipping_method_add",
        "shipping_method_delete",
    } | order_actions
    for pattern in MERCHANT_PAGES:
        values = {"kind": "warehouse", "platform": "bergen", "pk": pks.get(pattern.name)}
        kwargs = {k: values[k] for k in pattern.pattern.converters}
        url = reverse(f"portal:{pattern.name}", kwargs=kwargs)

        response = client.get(url)

        assert response.status_code == (405 if pattern.name in post_only else 200), url


def test_merchant_user_command_creates_and_links_a_user(db, mine):
    from django.core.management import call_command

    call_command("merchant_user", "new-shopkeeper", merchant="mine", password="a-long-enough-passphrase-9")

    user = User.objects.get(username="new-shopkeeper")
    assert user.check_password("a-long-enough-passphrase-9")
    assert user.merchant_membership.merchant == mine.merchant
    assert not user.is_staff


def test_staff_link_a_user_to_a_merchant_on_the_users_admin_page(admin_client, user):
    page = admin_client.get(reverse("admin:auth_user_change", args=[user.pk])).content.decode()

    assert "Merchant (for the merchant pages at /merchant/)" in page
    assert "Mine Ltd" in page
