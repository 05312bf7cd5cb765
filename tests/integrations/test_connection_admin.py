"""Connections in the admin show their health and retry state, and can be unblocked."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from integrations.models import CartConnection, WMSConnection
from orders.tasks import sync_orders_task
from tests.admin_helpers import messages_of

BLOCKED = "Stopped until a person acts (needs a person): 401: the API key was refused by Squarespace Commerce"


def block(wired) -> None:
    CartConnection.objects.filter(pk=wired.cart.pk).update(
        blocked_reason=BLOCKED,
        consecutive_failures=4,
        failing_since=timezone.now() - timedelta(hours=1),
        unhealthy=True,
        next_attempt_at=timezone.now() + timedelta(minutes=8),
        last_success_at=timezone.now() - timedelta(hours=2),
    )


def test_the_connection_list_shows_health_and_retry_state(admin_client, wired):
    block(wired)

    response = admin_client.get(reverse("admin:integrations_cartconnection_changelist"))

    page = response.content.decode()
    for header in ("health", "last success", "next attempt"):
        assert header in page.lower()
    assert "blocked: " in page, "the health column says it in words"
    assert "2\xa0hours ago" in page
    assert BLOCKED[:30] in page and f'title="{BLOCKED}"' in page
    assert "when unblocked" in page


def test_the_change_page_shows_health_and_retry_state(admin_client, wired):
    block(wired)

    page = admin_client.get(reverse("admin:integrations_cartconnection_change", args=[wired.cart.pk])).content.decode()

    assert "Health and retries" in page and "Schedule and alerts" in page
    assert BLOCKED in page
    for label in ("Consecutive failures", "Failing since", "Unhealthy", "Next attempt at", "Last success at"):
        assert label in page


def test_the_unblock_action_lets_scheduled_runs_go_on(admin_client, wired):
    block(wired)
    assert "waiting for a person" in sync_orders_task(wired.cart.pk)

    response = admin_client.post(
        reverse("admin:integrations_cartconnection_changelist"),
        {"action": "unblock_connections", "_selected_action": [wired.cart.pk]},
        follow=True,
    )

    assert messages_of(response) == [
        ("info", "1 connection(s) unblocked: their failure count is reset and the next scheduled run goes ahead.")
    ]
    wired.cart.refresh_from_db()
    cart = wired.cart
    assert (cart.blocked_reason, cart.consecutive_failures, cart.failing_since) == ("", 0, None)
    assert (cart.unhealthy, cart.next_attempt_at) == (False, None)
    assert sync_orders_task(cart.pk).endswith(": succeeded")


def test_the_unblock_action_on_a_warehouse(admin_client, wired):
    WMSConnection.objects.filter(pk=wired.wms.pk).update(blocked_reason="Gave up retrying after 24 hours")

    admin_client.post(
        reverse("admin:integrations_wmsconnection_changelist"),
        {"action": "unblock_connections", "_selected_action": [wired.wms.pk]},
    )

    wired.wms.refresh_from_db()
    assert wired.wms.blocked_reason == ""
