"""`manage.py demo` on the test database: counts, a second run that changes nothing, the human report."""

from __future__ import annotations

import json
from io import StringIO

from django.core.management import call_command

from integrations.models import CartConnection, Merchant, WMSConnection
from orders.models import Order, OrderStatus


def demo_json() -> dict:
    out = StringIO()
    call_command("demo", "--json", stdout=out, stderr=StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


RECONCILE_KEYS = {
    "connections",
    "cart_orders",
    "delivered_once",
    "held",
    "skipped",
    "in_progress",
    "missing_here",
    "missing_at_warehouse",
    "warehouse_duplicates",
    "tracking_missing",
    "gaps",
}


def test_json_counts_are_integers_and_show_imports_deliveries_and_holds(db):
    result = demo_json()

    reconciled = result.pop("reconcile")
    assert result and all(type(value) is int for value in result.values()), result
    assert result["imported"] >= 5
    assert result["delivered"] >= 1
    assert result["held"] >= 1
    assert result["warehouse_duplicates"] == 0
    assert result["warehouse_orders"] == result["delivered"]
    # The demo ends with a reconciliation against its sandboxes: the same keys as `reconcile --json`.
    assert set(reconciled) >= RECONCILE_KEYS
    assert reconciled["gaps"] == 0 and reconciled["cart_orders"] == 8
    assert reconciled["delivered_once"] == result["delivered"] and reconciled["held"] == result["held"]


def test_a_second_run_reconciles_against_its_new_empty_warehouse_and_names_what_it_lacks(db):
    demo_json()

    second = demo_json()["reconcile"]

    # Each run starts fresh sandboxes: the new warehouse holds none of the orders sent by the first run,
    # and the counts come from its answers, not from our database.
    assert (
        second["missing_at_warehouse"] == Order.objects.filter(merchant__slug="demo", warehouse_order_id__gt="").count()
    )
    assert second["gaps"] == second["missing_at_warehouse"]


def test_a_second_run_imports_and_delivers_nothing_and_reuses_the_merchant(db):
    first = demo_json()
    orders_after_first = Order.objects.count()

    second = demo_json()

    assert first["imported"] >= 5
    assert second["imported"] == 0
    assert second["delivered"] == 0
    assert second["warehouse_duplicates"] == 0
    assert Order.objects.count() == orders_after_first
    assert Merchant.objects.filter(slug="demo").count() == 1
    demo = Merchant.objects.get(slug="demo")
    assert CartConnection.objects.filter(merchant=demo).count() == 1
    assert WMSConnection.objects.filter(merchant=demo).count() == 1


def test_the_report_names_held_orders_with_their_reasons_and_how_to_open_the_admin(db):
    out = StringIO()

    call_command("demo", stdout=out, stderr=StringIO())

    text = out.getvalue()
    held = Order.objects.filter(merchant__slug="demo", status=OrderStatus.ERROR)
    assert held.exists()
    assert "Held orders" in text
    for order in held:
        assert f"#{order.order_number} [{order.hold_code}]" in text
        assert order.hold_reason[:40] in text
    assert "unknown_sku" in text and "POSTER-XL" in text
    assert "reconciliation: 8 cart order(s): 3 delivered once, 3 held, 2 skipped, 0 in progress, 0 gap(s)" in text
    assert "runserver" in text
    assert "/admin/" in text
