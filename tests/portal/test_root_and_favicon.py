"""`/` leads each person to their home; the favicon is served."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from tests.portal.conftest import client_of


def test_root_sends_staff_to_the_admin_dashboard(db):
    response = client_of(UserFactory(is_staff=True)).get("/")

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_root_sends_a_merchants_user_to_the_merchant_pages(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == reverse("portal:home")


def test_root_sends_anonymous_visitors_and_unlinked_users_to_sign_in(db):
    for client in (Client(), client_of(UserFactory())):
        response = client.get("/")
        assert response.status_code == 302
        assert response["Location"] == reverse("portal:login")


def test_the_favicon_is_served_and_linked_from_the_pages(db):
    response = Client().get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(response)
    assert "max-age=86400" in response["Cache-Control"]
    assert '<link rel="icon" href="/favicon.ico"' in Client().get(reverse("portal:login")).content.decode()
