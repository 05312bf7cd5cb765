"""The webhook endpoint and its inbox, against the Squarespace sandbox's own signed notifications:
forged, replayed, duplicated and out-of-order notifications change nothing; bad input is a clear 4xx
with nothing stored; a notified order reaches the warehouse once."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest
from django.test import Client
from django.urls import reverse

from integrations.connectors.squarespace.hooks import signature_of
from integrations.models import WebhookSubscription
from orders.models import Order, SyncRun
from sync.models import WebhookNotification

LINE = [{"sku": "SKU-1", "quantity": 1, "price": "10.00", "name": "Widget"}]


def gets_of(sandbox, order_id: str) -> int:
    return len(sandbox.requests_to(f"/orders/{order_id}", method="GET"))


def test_a_new_order_is_notified_read_and_at_the_warehouse_once(hooked):
    order = hooked.squarespace.add_order(order_number="7001", lines=LINE)

    assert hooked.squarespace.notifications_deliver(hooked.send) == 1

    [row] = WebhookNotification.objects.all()
    assert (row.topic, row.cart_order_id, row.outcome) == ("order.create", order["id"], "imported")
    stored = Order.objects.get(cart_order_id=order["id"])
    assert stored.status == "at_wms"
    assert [o["referenceNum"] for o in hooked.bergen.orders] == [stored.cust_ref]  # the warehouse's own store
    assert "Webhook: 1 notified order(s) read by id." in row.sync_run.error


def test_a_duplicated_notification_is_stored_once_and_read_once(hooked):
    hooked.squarespace.duplicate_notifications = True
    order = hooked.squarespace.add_order(order_number="7002", lines=LINE)

    assert hooked.squarespace.notifications_deliver(hooked.send) == 2  # both answered 200

    assert WebhookNotification.objects.count() == 1
    assert gets_of(hooked.squarespace, order["id"]) == 1
    assert len(hooked.bergen.orders) == 1


def test_a_replayed_notification_changes_nothing(hooked):
    order = hooked.squarespace.add_order(order_number="7003", lines=LINE)
    hooked.squarespace.notifications_deliver(hooked.send)
    [sent] = hooked.squarespace.outbox
    runs = SyncRun.objects.count()

    assert hooked.send(sent.url, sent.body, sent.headers) == 200  # answered, so the sender stops

    assert WebhookNotification.objects.count() == 1
    assert SyncRun.objects.count() == runs
    assert gets_of(hooked.squarespace, order["id"]) == 1
    assert len(hooked.bergen.orders) == 1


def test_an_older_notification_after_a_newer_one_changes_nothing(hooked):
    hooked.squarespace.reorder_notifications = True
    order = hooked.squarespace.add_order(order_number="7004", lines=LINE)
    hooked.squarespace.update_order(order["id"], fulfillmentStatus="PENDING")  # MARKED_PENDING: notified

    assert hooked.squarespace.notifications_deliver(hooked.send) == 2  # the update first, then the create

    rows = {r.topic: r for r in WebhookNotification.objects.all()}
    assert rows["order.update"].outcome == "imported"
    assert rows["order.create"].outcome == "superseded"
    assert gets_of(hooked.squarespace, order["id"]) == 1  # the late one read nothing
    assert len(hooked.bergen.orders) == 1


@pytest.mark.parametrize("forgery", ["wrong secret", "altered body", "no signature"])
def test_a_forged_notification_is_refused_and_stores_nothing(hooked, forgery):
    hooked.squarespace.add_order(order_number="7005", lines=LINE)
    [sent] = hooked.squarespace.outbox
    body, signature = sent.body, sent.headers["Squarespace-Signature"]
    if forgery == "wrong secret":
        signature = signature_of(body, "ab" * 32)
    elif forgery == "altered body":
        body = body.replace(b"order.create", b"order.update")
    else:
        signature = ""

    assert hooked.send(sent.url, body, {"Squarespace-Signature": signature}) == 401

    assert not WebhookNotification.objects.exists()
    assert not Order.objects.exists()
    assert not hooked.bergen.orders


def post(path: str, body: bytes, signature: str = "", **extra) -> tuple[int, str]:
    response = Client().post(
        path, data=body, content_type="application/json", headers={"Squarespace-Signature": signature}, **extra
    )
    return response.status_code, response.content.decode()


def test_an_unknown_address_is_gone_and_stores_nothing(hooked):
    assert post(reverse("webhook_receive", args=["squarespace", "no-such-token"]), b"{}", "00")[0] == 410
    assert post(reverse("webhook_receive", args=["bergen", "x"]), b"{}")[0] == 404
    assert Client().get(reverse("webhook_receive", args=["squarespace", "x"])).status_code == 405
    assert not WebhookNotification.objects.exists()


def endpoint_and_secret(hooked) -> tuple[str, str]:
    sub = WebhookSubscription.objects.get(connection=hooked.cart)
    return sub.endpoint_url.removeprefix("https://orderbridge.test"), sub.secret


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        (b"not json at all <script>", 400, "not JSON"),
        (b"[1, 2]", 400, "not a JSON object"),
        (
            json.dumps({"id": "n1", "topic": "order.create", "createdOn": "2026-12-06T03:00:00Z"}).encode(),
            400,
            "no order",
        ),
        (json.dumps({"id": "n1", "topic": "order.create", "data": {"orderId": "o1"}}).encode(), 400, "createdOn"),
        (b"\xff\xfe", 400, "not JSON"),
    ],
)
def test_a_malformed_notification_is_a_clear_4xx_and_stores_nothing(hooked, body, status, says):
    path, secret = endpoint_and_secret(hooked)

    answered, text = post(path, body, signature_of(body, secret))

    assert answered == status and says in text
    assert body.decode("utf-8", "replace") not in text  # never echoed
    assert not WebhookNotification.objects.exists()


def test_an_oversized_body_is_413_and_stores_nothing(hooked):
    path, secret = endpoint_and_secret(hooked)
    body = b'{"pad": "' + b"x" * 70_000 + b'"}'

    assert post(path, body, signature_of(body, secret))[0] == 413
    assert not WebhookNotification.objects.exists()


def test_a_topic_that_names_no_order_is_answered_and_not_stored(hooked):
    path, secret = endpoint_and_secret(hooked)
    body = json.dumps({"id": "n9", "topic": "extension.uninstall", "createdOn": "2026-12-06T03:00:00Z"}).encode()

    assert post(path, body, signature_of(body, secret)) == (200, "Ignored: not about an order.")
    assert not WebhookNotification.objects.exists()


def test_a_secret_we_cannot_read_verifies_nothing(hooked):
    """An undecryptable secret reads as empty: a body signed with an empty key must not pass."""
    path, _secret = endpoint_and_secret(hooked)
    WebhookSubscription.objects.update(secret="")
    hooked.squarespace.add_order(order_number="7006", lines=LINE)
    [sent] = hooked.squarespace.outbox
    empty_key = hmac.new(b"", sent.body, hashlib.sha256).hexdigest()

    assert post(path, sent.body, empty_key)[0] == 401
    assert not WebhookNotification.objects.exists()
