"""The connection makes, checks and removes its subscriptions itself, counted from the sandbox's store;
the OAuth grant beside the API key, and its refresh."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

import requests
from django.db import connection as db
from django.urls import reverse
from django_q.models import Schedule

from integrations.models import CartConnection, WebhookSubscription
from integrations.services import cart_connector_for
from integrations.webhooks import webhooks_ensure, webhooks_status
from sync.models import Job
from sync.schedules import schedule_name, schedules_reconcile
from sync.tasks import webhooks_check_task
from tests.factories import CartConnectionFactory
from tests.portal.conftest import client_of, merchant_user
from tests.webhooks.conftest import PUBLIC, grant


def creates(sandbox) -> int:
    return len(sandbox.requests_to("/1.0/webhook_subscriptions", method="POST"))


def test_an_api_key_alone_keeps_polling_and_the_page_says_why(wired, public_site):
    outcome = webhooks_ensure(connection=wired.cart)

    assert not outcome.live and "API key" in outcome.message
    assert not wired.squarespace.subscriptions and not WebhookSubscription.objects.exists()
    assert "Grant us API access" in webhooks_status(connection=wired.cart)


def test_the_grant_makes_one_subscription_with_its_secret_stored_encrypted(wired, public_site):
    grant(wired.cart)
    webhooks_ensure(connection=wired.cart)

    [remote] = wired.squarespace.subscriptions.values()
    sub = WebhookSubscription.objects.get()
    assert sub.platform_id == remote["id"] and sub.secret == remote["secret"]
    assert remote["endpointUrl"] == sub.endpoint_url and sub.endpoint_url.startswith(f"{PUBLIC}/hooks/squarespace/")
    assert sorted(remote["topics"]) == ["order.create", "order.update"]
    with db.cursor() as cursor:
        cursor.execute("SELECT secret FROM integrations_webhooksubscription")
        [(stored,)] = cursor.fetchall()
    assert remote["secret"].encode() not in bytes(stored)
    assert "Webhooks: live" in webhooks_status(connection=wired.cart)


def test_checking_again_keeps_it_and_a_subscription_gone_at_the_platform_is_made_again(wired, public_site):
    grant(wired.cart)
    webhooks_ensure(connection=wired.cart)
    first = WebhookSubscription.objects.get()

    webhooks_check_task()
    assert creates(wired.squarespace) == 1 and WebhookSubscription.objects.get().pk == first.pk

    wired.squarespace.subscriptions.clear()  # the merchant's site lost it
    webhooks_check_task()

    [remote] = wired.squarespace.subscriptions.values()
    assert creates(wired.squarespace) == 2
    assert WebhookSubscription.objects.get().platform_id == remote["id"] != first.platform_id


def test_a_leftover_subscription_at_our_address_is_removed(wired, public_site):
    grant(wired.cart)
    webhooks_ensure(connection=wired.cart)
    WebhookSubscription.objects.all().delete()  # e.g. a grant made again: the old secret is lost

    webhooks_ensure(connection=wired.cart)

    [remote] = wired.squarespace.subscriptions.values()
    assert WebhookSubscription.objects.get().platform_id == remote["id"]


def test_without_https_there_are_no_webhooks_and_the_page_says_so(wired, public_site, settings):
    grant(wired.cart)
    webhooks_ensure(connection=wired.cart)
    settings.PUBLIC_BASE_URL = "http://orderbridge.test"

    outcome = webhooks_ensure(connection=wired.cart)

    assert not outcome.live and "https" in outcome.message
    assert not wired.squarespace.subscriptions and not WebhookSubscription.objects.exists()


def test_deactivating_or_deleting_the_connection_removes_them(wired, public_site, django_capture_on_commit_callbacks):
    grant(wired.cart)
    webhooks_ensure(connection=wired.cart)
    with django_capture_on_commit_callbacks(execute=True):
        cart = CartConnection.objects.get(pk=wired.cart.pk)
        cart.active = False
        cart.save()
    assert not wired.squarespace.subscriptions and not WebhookSubscription.objects.exists()

    other = CartConnectionFactory(
        merchant=wired.merchant, api_base_url=wired.squarespace.base_url, sandbox_tooling=True
    )
    grant(other)
    webhooks_ensure(connection=other)
    assert len(wired.squarespace.subscriptions) == 1
    other.delete()
    assert not wired.squarespace.subscriptions


def test_polling_slows_down_while_webhooks_are_live(wired, public_site, settings):
    settings.WEBHOOK_POLL_MINUTES = 15
    schedules_reconcile()
    assert Schedule.objects.get(name=schedule_name("orders", wired.cart.pk)).minutes == 5

    grant(wired.cart)
    webhooks_ensure(connection=wired.cart)
    schedules_reconcile()

    assert Schedule.objects.get(name=schedule_name("orders", wired.cart.pk)).minutes == 15


def test_an_access_token_that_ran_out_is_refreshed_and_stored(wired, public_site):
    grant(wired.cart)
    cart = CartConnection.objects.get(pk=wired.cart.pk)
    old = cart.get_credentials()
    cart.update_credentials({"expires_at": int(time.time()) - 1})
    cart.save()
    wired.squarespace.expire_access_tokens()

    connector = cart_connector_for(connection=cart)
    assert connector.webhook_subscriptions() == []

    fresh = CartConnection.objects.get(pk=cart.pk).get_credentials()
    assert fresh["access_token"] != old["access_token"] and fresh["refresh_token"] != old["refresh_token"]
    assert fresh["expires_at"] > time.time() + 1000
    assert fresh["api_key"] == old["api_key"]  # the key stays, unused while the grant works


def test_the_connection_pages_say_whether_webhooks_are_live(wired, public_site, admin_client):
    page = admin_client.get(f"/admin/integrations/cartconnection/{wired.cart.pk}/change/").content.decode()
    assert "Webhooks: off. This connection uses an API key" in page

    grant(wired.cart)
    webhooks_ensure(connection=wired.cart)

    page = admin_client.get(f"/admin/integrations/cartconnection/{wired.cart.pk}/change/").content.decode()
    assert "Webhooks: live since" in page
    shopkeeper = client_of(merchant_user(wired.merchant, "hooked-shopkeeper"))
    page = shopkeeper.get(reverse("portal:connection_edit", args=["cart", wired.cart.pk])).content.decode()
    assert 'id="webhooks-status">Webhooks: live since' in page


def test_granting_from_the_connection_page_makes_the_subscription(wired, public_site, admin_client):
    start = admin_client.post(reverse("oauth_start", args=["cart", wired.cart.pk]))
    authorize = urlsplit(start["Location"])
    assert parse_qs(authorize.query)["scope"] == ["website.orders,website.inventory"]
    assert parse_qs(authorize.query)["access_type"] == ["offline"]
    back = requests.get(start["Location"], allow_redirects=False, timeout=5)
    callback = urlsplit(back.headers["Location"])

    admin_client.get(f"{callback.path}?{callback.query}")

    [job] = Job.objects.filter(kind=Job.Kind.GRANT)
    assert job.level == "success" and "Webhooks: live" in job.summary
    assert CartConnection.objects.get(pk=wired.cart.pk).get_credentials()["access_token"]
    [remote] = wired.squarespace.subscriptions.values()
    assert WebhookSubscription.objects.get().platform_id == remote["id"]


def test_two_connections_to_the_same_site_keep_each_its_own_subscription(wired, public_site):
    other = CartConnectionFactory(
        merchant=wired.merchant, api_base_url=wired.squarespace.base_url, sandbox_tooling=True
    )
    grant(wired.cart)
    grant(other)

    webhooks_ensure(connection=wired.cart)
    webhooks_ensure(connection=other)
    webhooks_check_task()

    assert len(wired.squarespace.subscriptions) == 2
    assert {s.platform_id for s in WebhookSubscription.objects.all()} == set(wired.squarespace.subscriptions)
