"""What stays around the inbox: the endpoint calls no one, handled rows are pruned after the stated
retention, and polling counts what the notifications missed."""

from __future__ import annotations

import time
from datetime import timedelta

import requests
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ

from orders.tasks import prune_task
from sync.cycle import cart_connection_sync_orders
from sync.models import WebhookNotification
from sync.tasks import webhook_inbox_drain_task

LINE = [{"sku": "SKU-1", "quantity": 1, "price": "10.00", "name": "Widget"}]


def test_the_endpoint_stores_and_queues_without_any_outbound_request(hooked, monkeypatch):
    """Measured, not timed: the requests the endpoint sends (none), and its time printed."""
    monkeypatch.setattr(Conf, "SYNC", False)  # queued for a worker, as in production
    sent: list[str] = []
    real_send = requests.Session.send
    monkeypatch.setattr(
        requests.Session, "send", lambda self, req, **kw: sent.append(req.url) or real_send(self, req, **kw)
    )
    hooked.squarespace.add_order(order_number="7101", lines=LINE)
    [outgoing] = hooked.squarespace.outbox
    seen_by_sandboxes = len(hooked.squarespace.requests) + len(hooked.bergen.requests)

    started = time.perf_counter()
    status = hooked.send(outgoing.url, outgoing.body, outgoing.headers)
    elapsed_ms = (time.perf_counter() - started) * 1000

    print(f"webhook endpoint answered {status} in {elapsed_ms:.1f} ms with {len(sent)} outbound request(s)")
    assert status == 200 and sent == []
    assert len(hooked.squarespace.requests) + len(hooked.bergen.requests) == seen_by_sandboxes
    assert WebhookNotification.objects.get().outcome == ""  # waiting for the worker
    assert OrmQ.objects.count() == 1

    webhook_inbox_drain_task(connection_id=hooked.cart.pk)  # the worker's turn
    assert WebhookNotification.objects.get().outcome == "imported"
    assert len(hooked.bergen.orders) == 1


def test_handled_notifications_are_pruned_after_the_retention_and_waiting_ones_kept(hooked, settings):
    settings.WEBHOOK_INBOX_RETENTION_DAYS = 7
    old = timezone.now() - timedelta(days=8)
    common = {"platform": "squarespace", "cart_connection": hooked.cart, "topic": "order.create"}
    WebhookNotification.objects.create(**common, notification_id="a", cart_order_id="a", event_at=old, handled_at=old)
    recent = WebhookNotification.objects.create(
        **common, notification_id="b", cart_order_id="b", event_at=old, handled_at=timezone.now() - timedelta(days=6)
    )
    waiting = WebhookNotification.objects.create(**common, notification_id="c", cart_order_id="c", event_at=old)

    assert "1 handled webhook notification(s) pruned" in prune_task()

    assert set(WebhookNotification.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}


def test_polling_counts_the_orders_no_notification_announced(hooked, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)  # notifications stay in the inbox: polling comes first
    hooked.squarespace.add_order(order_number="7201", lines=LINE)
    hooked.squarespace.notifications_deliver(hooked.send)  # announced
    hooked.squarespace.add_order(order_number="7202", lines=LINE)
    hooked.squarespace.outbox.clear()  # this one's notification never arrives

    run = cart_connection_sync_orders(connection=hooked.cart)

    assert run.counts["imported"] == 2
    assert run.counts["missed_by_webhooks"] == 1
    assert "1 order(s) new or changed at the cart were found by polling, not announced by a webhook" in run.error
    assert len(hooked.bergen.orders) == 2


def test_polling_without_webhooks_counts_nothing_missed(wired, public_site):
    wired.squarespace.add_order(order_number="7301", lines=LINE)

    run = cart_connection_sync_orders(connection=wired.cart)

    assert run.counts["imported"] == 1 and "missed_by_webhooks" not in run.counts
