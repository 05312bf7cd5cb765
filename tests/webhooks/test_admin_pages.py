"""The admin's read-only pages of the webhook subscriptions (the secret never shown) and the inbox
(filtered by connection and status); a granted Squarespace connection's test speaks of its grant."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from integrations.services import connection_test
from tests.factories import CartConnectionFactory, WebhookNotificationFactory, WebhookSubscriptionFactory
from tests.webhooks.conftest import grant

SECRET = "5ec7e7" * 10


def test_the_subscription_pages_never_show_the_secret(admin_client, db):
    sub = WebhookSubscriptionFactory(secret=SECRET)

    listing = admin_client.get(reverse("admin:integrations_webhooksubscription_changelist"))
    page = admin_client.get(reverse("admin:integrations_webhooksubscription_change", args=[sub.pk]))

    for response in (listing, page):
        assert response.status_code == 200
        assert SECRET not in response.content.decode()
        assert ">set<" in response.content.decode()
    assert sub.platform_id in page.content.decode() and "order.create, order.update" in listing.content.decode()
    assert b'name="_save"' not in page.content  # read only


def test_the_inbox_filters_by_status_and_connection(admin_client, db):
    cart, other = CartConnectionFactory(), CartConnectionFactory()
    waiting = WebhookNotificationFactory(cart_connection=cart, cart_order_id="waiting-1")
    WebhookNotificationFactory(
        cart_connection=cart, cart_order_id="done-1", handled_at=timezone.now(), outcome="imported"
    )
    WebhookNotificationFactory(cart_connection=other, cart_order_id="elsewhere-1")
    url = reverse("admin:sync_webhooknotification_changelist")

    pending = admin_client.get(url, {"status": "waiting", "cart_connection__id__exact": cart.pk})
    imported = admin_client.get(url, {"status": "imported"})

    assert [r.cart_order_id for r in pending.context["cl"].result_list] == ["waiting-1"]
    assert [r.cart_order_id for r in imported.context["cl"].result_list] == ["done-1"]
    page = admin_client.get(reverse("admin:sync_webhooknotification_change", args=[waiting.pk]))
    assert page.status_code == 200 and "not stored (yet)" in page.content.decode()


def test_a_granted_squarespace_connection_is_tested_as_a_grant(wired, public_site):
    assert "the API key can read" in connection_test(connection=wired.cart).message
    grant(wired.cart)

    message = connection_test(connection=wired.cart).message

    assert message.startswith("credentials accepted: the access grant can read orders")
    assert "API key" not in message
