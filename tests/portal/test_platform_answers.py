"""A platform's answer reaches a merchant's page (and the admin) only as its status and a short, clean
summary: never a page, a long body, markup or another host's links.

The sandboxes answer as a host that is not the platform would (an internal service's HTML page, a
long JSON body): the merchant presses Test connection, a sync runs, an order is sent, and every page
that shows the outcome is searched for what that host said.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from integrations.models import CartConnection
from orders.models import OrderStatus
from sync.cycle import cart_connection_sync_orders
from tests.admin_helpers import import_order, messages_of

INTERNAL = ("Internal build server", "Payroll export for all staff", "Jenkins", "10.1.2.3")
PAGE = (
    "<!DOCTYPE html><html><head><title>Jenkins</title></head><body><h1>Internal build server</h1>"
    "<p>Payroll export for all staff</p><a href='http://10.1.2.3/payroll'>download</a></body></html>"
)
HTML = {"Content-Type": "text/html; charset=utf-8"}
LONG = "Not here. " + "The resource you asked for has moved. " * 6 + "Payroll export for all staff"

ANSWERS = {
    "500-an-html-page": (500, PAGE, HTML, ["500", "Internal Server Error"]),
    "200-an-html-page": (200, PAGE, HTML, ["200", "not valid JSON", "text/html"]),
    "404-a-long-json-message": (404, json.dumps({"message": LONG}), {}, ["404", "Not here."]),
    "400-a-json-message-holding-a-page": (400, json.dumps({"message": PAGE}), {}, ["400", "Bad Request"]),
    "403-a-json-message-with-a-link": (
        403,
        json.dumps({"message": "Forbidden, see http://10.1.2.3/internal/payroll"}),
        {},
        ["403", "Forbidden, see [link]"],
    ),
}


def assert_only_the_summary(page: str, expected: list[str]) -> None:
    for said in INTERNAL:
        assert said not in page, said
    for text in expected:
        assert text in page, text


@pytest.fixture
def once(settings):
    settings.HTTP_MAX_RETRIES = 0  # one answer per call: the test reads what that answer became


@pytest.mark.parametrize("status, body, headers, expected", ANSWERS.values(), ids=ANSWERS.keys())
def test_test_connection_shows_the_status_and_a_short_summary_never_the_hosts_body(
    wired_client, wired, once, status, body, headers, expected
):
    wired.squarespace.fail_next(50, status=status, body=body, headers=headers, path_contains="/orders")

    response = wired_client.post(reverse("portal:connection_test", args=["cart", wired.cart.pk]), follow=True)

    [(level, message)] = [m for m in messages_of(response) if "Test connection" in m[1]]
    assert level == "error"
    assert_only_the_summary(message, expected)
    assert_only_the_summary(response.content.decode(), expected)
    cart = CartConnection.objects.get(pk=wired.cart.pk)
    assert_only_the_summary(cart.last_test_message, expected)


@pytest.mark.parametrize("status, body, headers, expected", ANSWERS.values(), ids=ANSWERS.keys())
def test_a_failed_sync_shows_the_status_and_a_short_summary_on_the_merchant_pages_and_the_admin(
    wired_client, wired, once, admin_client, status, body, headers, expected
):
    wired.squarespace.fail_next(50, status=status, body=body, headers=headers, path_contains="/orders")

    run = cart_connection_sync_orders(connection=wired.cart)

    assert run.status == "failed"
    assert_only_the_summary(run.error, expected)
    for page in (
        wired_client.get(reverse("portal:connection_list")),
        wired_client.get(reverse("portal:connection_edit", args=["cart", wired.cart.pk])),
        wired_client.get(reverse("portal:home")),
        admin_client.get(reverse("admin:integrations_cartconnection_change", args=[wired.cart.pk])),
    ):
        assert page.status_code == 200
        for said in INTERNAL:
            assert said not in page.content.decode(), (page.wsgi_request.path, said)


def test_a_warehouse_refusing_an_order_with_a_page_holds_it_with_the_status_only(wired_client, wired, admin_client):
    wired.bergen.fail_next(1, status=400, body=PAGE, headers=HTML, method="POST", path_contains="/orders")

    order = import_order(wired, "1001")

    assert order.status == OrderStatus.ERROR
    assert order.hold_reason  # the person sees why it is held...
    assert "400" in order.hold_reason and "Bad Request" in order.hold_reason
    for page in (
        wired_client.get(reverse("portal:order_detail", args=[order.pk])),
        wired_client.get(reverse("portal:order_list")),
        wired_client.get(reverse("portal:home")),
        admin_client.get(reverse("admin:orders_order_change", args=[order.pk])),
    ):
        assert page.status_code == 200
        for said in INTERNAL:  # ...and never what the host's page said
            assert said not in page.content.decode(), (page.wsgi_request.path, said)


def test_a_warehouse_token_endpoint_answering_a_page_shows_the_status_on_save_and_test(wired_client, wired, once):
    wired.bergen.fail_next(50, status=502, body=PAGE, headers=HTML, path_contains="Token")

    response = wired_client.post(reverse("portal:connection_test", args=["warehouse", wired.wms.pk]), follow=True)

    [(level, message)] = [m for m in messages_of(response) if "Test connection" in m[1]]
    assert level == "error"
    assert_only_the_summary(message, ["502", "Bad Gateway"])
    assert_only_the_summary(response.content.decode(), ["502"])
