"""The merchant's overview shows each day's reconciliation: all orders accounted for, or the gaps with
what to do; never another merchant's."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from sync.reconcile.run import reconcile
from tests.factories import ReconciliationFactory
from tests.sync.test_reconcile import delivered


def home(client) -> str:
    response = client.get(reverse("portal:home"))
    assert response.status_code == 200
    return response.content.decode()


def test_a_clean_day_says_every_order_is_accounted_for_with_thousands_grouped(client, mine):
    ReconciliationFactory(
        cart_connection=mine.cart,
        counts={"cart_orders": 1284, "delivered_once": 1200, "held": 4, "skipped": 80, "in_progress": 0, "gaps": 0},
    )

    text = home(client)

    assert "All 1,284 orders accounted for" in text
    assert "1200 delivered once, 4 held, 80 skipped" in text


def test_gaps_found_in_the_sandboxes_are_named_with_what_to_do(wired, wired_client):
    orders = delivered(wired, "9001", "9002")
    with wired.bergen.lock:
        wired.bergen.orders[:] = [o for o in wired.bergen.orders if o["referenceNum"] != orders["9001"].cust_ref]
    reconcile(connection_id=wired.cart.pk)

    text = home(wired_client)

    assert "1 gap" in text and "among 2 orders" in text
    assert "#9001" in text and "the warehouse has no order under that reference" in text
    assert "ask the warehouse whether it was deleted" in text
    assert "orders accounted for" not in text


def test_each_day_has_its_result_and_an_unreadable_day_proves_nothing(client, mine):
    now = timezone.now()
    ReconciliationFactory(cart_connection=mine.cart, finished_at=now - timedelta(days=2))
    ReconciliationFactory(
        cart_connection=mine.cart,
        finished_at=now - timedelta(days=1),
        counts={"cart_orders": 5, "gaps": 1},
        gap_list=[{"order_number": "55", "reason": "r", "action": "a", "category": "tracking_missing"}],
    )
    ReconciliationFactory(cart_connection=mine.cart, finished_at=now, error="Squarespace refused the API key (401)")

    text = home(client)

    assert "Not checked: a platform could not be read" in text and "refused the API key" in text
    assert "Each day:" in text and "not checked" in text and "1 gap" in text and "all 3 accounted for" in text


def test_another_merchants_reconciliation_is_not_shown(client, mine, theirs):
    ReconciliationFactory(
        cart_connection=theirs.cart,
        counts={"cart_orders": 777, "gaps": 1},
        gap_list=[{"order_number": "THEIRS-1", "reason": "r", "action": "a", "category": "missing_here"}],
    )

    text = home(client)

    assert "THEIRS-1" not in text and "777" not in text
