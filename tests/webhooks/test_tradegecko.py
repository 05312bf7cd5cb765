"""TradeGecko webhooks against the TradeGecko sandbox's own signed notifications: one webhook per
event, signed with our OAuth app's secret; forged, replayed, duplicated and out-of-order notifications
change nothing; a webhook TradeGecko deleted is made again by the check; an unknown address is 410."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from integrations.connectors.tradegecko.hooks import signature_of
from integrations.models import WebhookSubscription
from integrations.webhooks import webhooks_ensure, webhooks_status
from orders.models import Order
from sync.models import WebhookNotification
from tests.factories import CartConnectionFactory
from tests.fixtures_tradegecko import oauth_app_settings
from tests.webhooks.conftest import PUBLIC, grant

LINES = [{"sku": "SKU-1", "quantity": 1, "price": "10.0"}]


@pytest.fixture
def gecko(wired, tradegecko_sandbox, settings, django_capture_on_commit_callbacks):
    """A TradeGecko cart granted through our app, delivering to the Bergen warehouse, its webhooks made."""
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    settings.OAUTH_CLIENTS = {**settings.OAUTH_CLIENTS, "tradegecko": oauth_app_settings(tradegecko_sandbox)}
    cart = CartConnectionFactory(
        merchant=wired.merchant,
        warehouse=wired.wms,
        platform="tradegecko",
        api_base_url=tradegecko_sandbox.base_url,
        sandbox_tooling=True,
        credentials_values={"access_token": tradegecko_sandbox.access_token},
    )
    grant(cart)
    client = Client()

    def send(url: str, body: bytes, headers: dict[str, str]) -> int:
        assert url.startswith(PUBLIC)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                url.removeprefix(PUBLIC), data=body, content_type="application/json", headers=headers
            )
        return response.status_code

    tradegecko_sandbox.send = send
    tradegecko_sandbox.cart = cart
    tradegecko_sandbox.bergen = wired.bergen
    return tradegecko_sandbox


def test_a_privileged_token_keeps_polling_and_says_why(wired, tradegecko_sandbox, settings):
    settings.PUBLIC_BASE_URL = PUBLIC
    cart = CartConnectionFactory(
        merchant=wired.merchant,
        platform="tradegecko",
        api_base_url=tradegecko_sandbox.base_url,
        sandbox_tooling=True,
        credentials_values={"access_token": tradegecko_sandbox.access_token},
    )
    outcome = webhooks_ensure(connection=cart)
    assert not outcome.live and "privileged access token" in outcome.message
    assert tradegecko_sandbox.webhooks == {}


def test_the_grant_makes_one_webhook_per_event_with_no_secret_stored(gecko):
    assert webhooks_ensure(connection=gecko.cart).live
    assert sorted(w["event"] for w in gecko.webhooks.values()) == ["order.create", "order.finalized"]
    subs = list(WebhookSubscription.objects.filter(connection=gecko.cart))
    assert sorted(s.topics[0] for s in subs) == ["order.create", "order.finalized"]
    assert {s.secret for s in subs} == {""}
    assert {w["address"] for w in gecko.webhooks.values()} == {s.endpoint_url for s in subs}
    assert "Webhooks: live" in webhooks_status(connection=gecko.cart)


def test_a_new_order_is_notified_read_and_at_the_warehouse_once(gecko):
    webhooks_ensure(connection=gecko.cart)
    order = gecko.add_order(lines=LINES)

    assert gecko.notifications_deliver(gecko.send) == 1

    [row] = WebhookNotification.objects.all()
    assert (row.topic, row.cart_order_id, row.outcome) == ("order.create", str(order["id"]), "imported")
    stored = Order.objects.get(cart_connection=gecko.cart, cart_order_id=str(order["id"]))
    assert stored.status == "at_wms"
    assert [o["referenceNum"] for o in gecko.bergen.orders] == [stored.cust_ref]  # the warehouse's own store


def test_duplicated_replayed_and_late_notifications_change_nothing(gecko):
    webhooks_ensure(connection=gecko.cart)
    gecko.duplicate_notifications = True
    gecko.reorder_notifications = True
    order = gecko.add_order(lines=LINES)
    gecko.update_order(order["id"], status="finalized")

    assert gecko.notifications_deliver(gecko.send) == 4  # every copy answered 200
    first = gecko.deliveries[0]
    assert gecko.send(first.url, first.body, first.headers) == 200  # a replay

    rows = {r.topic: r for r in WebhookNotification.objects.all()}
    assert set(rows) == {"order.create", "order.finalized"}
    assert {r.outcome for r in rows.values()} <= {"imported", "superseded"}
    reads = [r for r in gecko.requests_to("/orders", method="GET") if "ids[]" in r.query]
    assert len(reads) == 1  # one read of the order by id, whatever came in
    assert len(gecko.bergen.orders) == 1


@pytest.mark.parametrize("forgery", ["wrong secret", "altered body", "no signature"])
def test_a_forged_notification_is_refused_and_stores_nothing(gecko, forgery):
    webhooks_ensure(connection=gecko.cart)
    gecko.add_order(lines=LINES)
    [delivery] = gecko.deliveries
    body, headers = delivery.body, dict(delivery.headers)
    if forgery == "wrong secret":
        headers["X-Gecko-Signature"] = signature_of(body, "not-our-app-secret")
    elif forgery == "altered body":
        body = body.replace(b'"order.create"', b'"order.finalized"')
    else:
        del headers["X-Gecko-Signature"]

    assert gecko.send(delivery.url, body, headers) == 401
    assert not WebhookNotification.objects.exists()


def test_a_webhook_deleted_at_tradegecko_is_made_again_by_the_check(gecko):
    webhooks_ensure(connection=gecko.cart)
    gecko.add_order(lines=LINES)
    gecko.notifications_deliver(lambda url, body, headers: 500)  # our site down for three days
    deleted = gecko.fail_for_three_days()
    assert deleted and not any(w["event"] == "order.create" for w in gecko.webhooks.values())

    outcome = webhooks_ensure(connection=gecko.cart)  # the daily check

    assert outcome.live and "1 subscription(s) made" in outcome.message
    assert sorted(w["event"] for w in gecko.webhooks.values()) == ["order.create", "order.finalized"]
    assert WebhookSubscription.objects.filter(connection=gecko.cart).count() == 2


def test_an_unknown_address_answers_410_so_tradegecko_deletes_its_webhook(gecko):
    webhooks_ensure(connection=gecko.cart)
    sub = WebhookSubscription.objects.get(connection=gecko.cart, topics=["order.create"])
    sub.delete()  # gone here (say, removed while TradeGecko could not be reached)
    gecko.add_order(lines=LINES)

    assert gecko.notifications_deliver(gecko.send) == 0

    assert gecko.deliveries[0].statuses == [410]
    assert [w["event"] for w in gecko.webhooks.values()] == ["order.finalized"]
    assert (
        Client().post(reverse("webhook_receive", args=["tradegecko", "nope"]), b"{}", "application/json").status_code
        == 410
    )
