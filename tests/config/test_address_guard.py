"""Addresses the databases cannot search for are refused with a 400 that says why; the rest works as before."""

from __future__ import annotations

from django.contrib.auth import SESSION_KEY
from django.urls import reverse

from tests.factories import SKUAliasFactory


def text_of(response) -> str:
    return response.content.decode()


def test_a_nul_in_the_merchant_alias_search_is_refused_with_the_reason(client):
    response = client.get(reverse("portal:alias_list") + "?q=A%00B")

    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")
    assert text_of(response) == (
        "Bad request: the parameter 'q' in the address contains a NUL character (code 0), which text cannot hold. "
        "Correct the address or the form and try again.\n"
    )


def test_a_legit_search_with_unusual_text_still_works(client, mine):
    SKUAliasFactory(merchant=mine.merchant, cart_sku="ÜBER-€-👕", warehouse_sku="W")

    found = client.get(reverse("portal:alias_list"), {"q": "€-👕"})
    replaced = client.get(reverse("portal:alias_list") + "?q=%FF%ED%A0%80")  # not UTF-8: read as U+FFFD

    assert found.status_code == 200
    assert [a.cart_sku for a in found.context["page"]] == ["ÜBER-€-👕"]
    assert replaced.status_code == 200
    assert list(replaced.context["page"]) == []


def test_a_nul_in_an_admin_list_filter_is_refused(admin_client):
    response = admin_client.get(reverse("admin:orders_order_changelist") + "?status__exact=new%00")

    assert response.status_code == 400
    assert "the parameter 'status__exact' in the address contains a NUL character" in text_of(response)


def test_a_nul_in_a_parameter_name_or_the_path_is_refused(admin_client):
    by_name = admin_client.get(reverse("admin:orders_order_changelist") + "?status%00=new")
    in_path = admin_client.get("/admin/django_q/success/a%00b/change/")

    assert by_name.status_code == in_path.status_code == 400
    assert "a parameter name in the address contains a NUL character" in text_of(by_name)
    assert "the address contains a NUL character" in text_of(in_path)


def test_a_session_cookie_with_a_nul_is_ignored_so_the_visitor_is_not_signed_in(client):
    signed_in = client.get(reverse("portal:home"))
    client.cookies["sessionid"] = "\x00" * 32

    response = client.get(reverse("portal:home"))

    assert signed_in.status_code == 200
    assert response.status_code == 302 and response["Location"].startswith(reverse("portal:login"))
    assert SESSION_KEY not in response.wsgi_request.session


def test_bytes_that_are_not_utf8_in_the_path_or_a_parameter_name_find_nothing(client):
    in_path = client.get("/merchant/aliases/%FF%ED%A0%80/")
    in_name = client.get(reverse("portal:alias_list") + "?%FF%ED%A0%80=1")

    assert in_path.status_code == 404
    assert in_name.status_code == 200
