"""Squarespace's webhook and OAuth payloads, read with payloads shaped like its documentation."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from integrations.connectors.errors import BadPayloadError
from integrations.connectors.squarespace.hooks import (
    parse_notification,
    parse_subscription,
    parse_subscriptions,
    signature_valid,
)
from integrations.connectors.squarespace.oauth import token_credentials
from integrations.connectors.webhooks import NotificationRefused

SECRET = "0123456789abcdef" * 4
BODY = json.dumps(
    {
        "id": "b9f1c9e2-0000-4000-8000-000000000001",
        "websiteId": "5e1f0a2b3c4d5e6f7a8b9c0d",
        "subscriptionId": "6f1f0a2b3c4d5e6f7a8b9c0d",
        "topic": "order.update",
        "createdOn": "2026-12-06T03:00:00.123Z",
        "data": {"orderId": "5f3e1a2b3c4d5e6f7a8b9c0d", "update": "CANCELED"},
    }
).encode()


def signed(body: bytes, secret: str = SECRET) -> str:
    return hmac.new(bytes.fromhex(secret), body, hashlib.sha256).hexdigest()


def test_the_signature_is_keyed_with_the_secret_decoded_from_hex():
    assert signature_valid(BODY, signed(BODY), SECRET)
    assert signature_valid(BODY, signed(BODY).upper(), SECRET)
    wrong_key = hmac.new(SECRET.encode(), BODY, hashlib.sha256).hexdigest()  # the hex text as the key
    assert not signature_valid(BODY, wrong_key, SECRET)


@pytest.mark.parametrize("signature", ["", "zz", "0" * 64, "é" * 64])
def test_a_wrong_signature_or_a_secret_that_is_not_hex_signs_nothing(signature):
    assert not signature_valid(BODY, signature, SECRET)
    assert not signature_valid(BODY, signed(BODY), "not hex")


def test_an_order_notification_names_the_order_and_its_time():
    notification = parse_notification(BODY)

    assert notification is not None
    assert notification.cart_order_id == "5f3e1a2b3c4d5e6f7a8b9c0d"
    assert notification.topic == "order.update"
    assert notification.event_at == datetime(2026, 12, 6, 3, 0, 0, 123000, tzinfo=UTC)


def test_a_topic_about_no_order_is_not_a_notification_to_store():
    body = json.dumps({"id": "n", "topic": "extension.uninstall", "createdOn": "2026-12-06T03:00:00Z", "data": {}})
    assert parse_notification(body.encode()) is None


@pytest.mark.parametrize(
    "payload",
    [
        {"topic": "order.create", "createdOn": "2026-12-06T03:00:00Z", "data": {"orderId": "o"}},
        {"id": "n", "topic": "order.create", "createdOn": "yesterday", "data": {"orderId": "o"}},
        {"id": "n", "topic": "order.create", "createdOn": "2026-12-06T03:00:00Z", "data": None},
        {"id": "n", "topic": "order.create", "createdOn": "2026-12-06T03:00:00Z", "data": {"orderId": "x" * 101}},
        {"id": "n", "createdOn": "2026-12-06T03:00:00Z", "data": {"orderId": "o"}},
    ],
)
def test_a_body_that_is_not_a_usable_notification_is_refused(payload):
    with pytest.raises(NotificationRefused):
        parse_notification(json.dumps(payload).encode())


def test_subscriptions_are_read_with_their_secret_only_when_made():
    made = parse_subscription(
        {"id": "s1", "endpointUrl": "https://x/hooks/1/", "topics": ["order.update", "order.create"], "secret": SECRET}
    )
    assert (made.platform_id, made.topics, made.secret) == ("s1", ("order.create", "order.update"), SECRET)
    [listed] = parse_subscriptions({"webhookSubscriptions": [{"id": "s1", "endpointUrl": "u", "topics": []}]})
    assert listed.secret == ""
    with pytest.raises(BadPayloadError):
        parse_subscriptions({"result": []})


def test_a_token_answer_gives_the_tokens_and_the_access_tokens_expiry():
    answer = {
        "token_type": "bearer",
        "access_token": "a",
        "access_token_expires_at": 1765000000.753,
        "refresh_token": "r",
        "refresh_token_expires_at": 1765600000.1,
    }
    assert token_credentials(answer) == {"access_token": "a", "refresh_token": "r", "expires_at": 1765000000}
    with pytest.raises(BadPayloadError):
        token_credentials({"token_type": "bearer"})
