"""A notification that arrives while a run holds the connection's orders lock is handled within the
same drain or as soon as the lock is free, never left for the one-minute sweep."""

from __future__ import annotations

from django.test import Client
from urllib3.connectionpool import HTTPConnectionPool

from orders.models import Order, SyncRun
from orders.services.records.locks import lock_key, sync_lock_acquire, sync_lock_release
from sync.cycle import cart_connection_sync_orders
from sync.models import WebhookNotification
from sync.webhooks.drain import inbox_drain
from tests.webhooks.conftest import PUBLIC

LINE = [{"sku": "SKU-1", "quantity": 1, "price": "10.00", "name": "Widget"}]


def post(outgoing) -> int:
    """The sandbox's notification posted to our endpoint; what it queues is not run (the test plays the workers)."""
    return (
        Client()
        .post(
            outgoing.url.removeprefix(PUBLIC),
            data=outgoing.body,
            content_type="application/json",
            headers={"Squarespace-Signature": outgoing.headers["Squarespace-Signature"]},
        )
        .status_code
    )


def test_a_notification_arriving_mid_drain_is_read_by_the_running_drain(hooked, monkeypatch):
    first = hooked.squarespace.add_order(order_number="7101", lines=LINE)
    second = hooked.squarespace.add_order(order_number="7102", lines=LINE)
    out_first, out_second = hooked.squarespace.outbox
    real_urlopen = HTTPConnectionPool.urlopen
    mid_drain: list[str] = []

    def urlopen(pool, method, url, *args, **kwargs):
        # While the first drain's run reads its order (the lock held), the second notification arrives
        # and a second worker runs its drain: it finds the lock taken.
        if method == "GET" and url.split("?")[0].endswith(f"/orders/{first['id']}") and not mid_drain:
            assert post(out_second) == 200
            mid_drain.append(inbox_drain(connection_id=hooked.cart.pk))
        return real_urlopen(pool, method, url, *args, **kwargs)

    monkeypatch.setattr(HTTPConnectionPool, "urlopen", urlopen)  # the HTTP library, under our client

    assert post(out_first) == 200
    inbox_drain(connection_id=hooked.cart.pk)  # the first worker's drain (the queued tasks are not run here)

    assert len(mid_drain) == 1 and "another orders run is in progress" in mid_drain[0]
    rows = {r.cart_order_id: r for r in WebhookNotification.objects.select_related("sync_run")}
    assert {rows[first["id"]].outcome, rows[second["id"]].outcome} == {"imported"}
    assert rows[first["id"]].sync_run != rows[second["id"]].sync_run  # the second read by a second round
    assert SyncRun.objects.filter(status="skipped").count() == 1  # the second's own drain, skipped
    assert Order.objects.filter(cart_order_id__in=[first["id"], second["id"]], status="at_wms").count() == 2
    assert len(hooked.bergen.orders) == 2  # the warehouse's own store


def test_a_notification_waiting_behind_a_polling_run_is_drained_when_the_run_lets_the_lock_go(
    hooked, django_capture_on_commit_callbacks
):
    order = hooked.squarespace.add_order(order_number="7103", lines=LINE)
    key = lock_key(SyncRun.Kind.ORDERS, hooked.cart)
    token = sync_lock_acquire(key=key)  # a polling run holds the lock
    assert hooked.squarespace.notifications_deliver(hooked.send) == 1
    [row] = WebhookNotification.objects.all()
    assert row.handled_at is None  # its drain was skipped
    sync_lock_release(key=key, token=token)
    hooked.squarespace.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        cart_connection_sync_orders(connection=hooked.cart)  # the next polling run, ending: queues the drain

    row.refresh_from_db()
    assert row.outcome == "imported"
    assert Order.objects.get(cart_order_id=order["id"]).status == "at_wms"
