"""Plain http for the webhook address only for the project's sandbox tooling on loopback (the fleet
benchmark's web process serves no TLS); everything else still needs https."""

from __future__ import annotations

import pytest

from integrations.models import CartConnection, WebhookSubscription
from integrations.webhooks import webhooks_ensure
from tests.webhooks.conftest import grant

LOOPBACK = "http://127.0.0.1:8000"


def test_a_sandbox_tooling_connection_subscribes_at_a_loopback_http_address(wired, public_site, settings):
    grant(wired.cart)
    settings.PUBLIC_BASE_URL = LOOPBACK
    wired.squarespace.http_endpoints_allowed = True

    outcome = webhooks_ensure(connection=wired.cart)

    assert outcome.live
    [remote] = wired.squarespace.subscriptions.values()
    assert remote["endpointUrl"].startswith(f"{LOOPBACK}/hooks/squarespace/")
    assert WebhookSubscription.objects.get().endpoint_url == remote["endpointUrl"]


@pytest.mark.parametrize(
    ("public_base_url", "tooling"),
    [(LOOPBACK, False), ("http://orderbridge.test", True), ("http://10.0.0.5:8000", True)],
)
def test_otherwise_http_keeps_webhooks_off(wired, public_site, settings, public_base_url, tooling):
    grant(wired.cart)
    CartConnection.objects.filter(pk=wired.cart.pk).update(sandbox_tooling=tooling)
    settings.PUBLIC_BASE_URL = public_base_url
    wired.squarespace.http_endpoints_allowed = True

    outcome = webhooks_ensure(connection=CartConnection.objects.get(pk=wired.cart.pk))

    assert not outcome.live and "https" in outcome.message
    assert not wired.squarespace.subscriptions


def test_without_the_sandbox_app_the_tooling_mark_does_not_count(wired, public_site, settings):
    grant(wired.cart)
    settings.PUBLIC_BASE_URL = LOOPBACK
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "sandbox"]
    wired.squarespace.http_endpoints_allowed = True

    outcome = webhooks_ensure(connection=wired.cart)

    assert not outcome.live
    assert not wired.squarespace.subscriptions
