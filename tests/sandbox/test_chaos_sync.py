"""`manage.py chaos_sync`: worker processes SIGKILLed mid-run against faulty sandboxes in their own
process, the warehouse storing a repeated reference again, the cart canceling and editing orders at
random moments; every order still ends delivered once, held or canceled, every parcel's tracking at the
cart once, and every change the warehouse did not follow is flagged."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from integrations.models import CartConnection
from orders.models import Order


@pytest.mark.django_db(transaction=True)
def test_a_small_chaos_run_with_cart_changes_loses_nothing_duplicates_nothing_and_flags_what_ships_anyway(
    shared_database,
):
    # Seed 13 plans cancels before delivery, at the warehouse, once picking and after shipping, and edits
    # before delivery, at the warehouse, once picking and after shipping (scenario.chaos_changes).
    out, err = StringIO(), StringIO()
    call_command(
        "chaos_sync",
        "--orders=20",
        "--fault-rate=0.2",
        "--kills=1",
        "--seed=13",
        "--workers=2",
        "--cancel-rate=0.25",
        "--edit-rate=0.25",
        "--accept-duplicate-references",
        "--time-limit=120",
        "--json",
        stdout=out,
        stderr=err,
    )
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["problems"] == [], err.getvalue()
    assert result["settled"] is True
    assert result["orders"] == 20
    assert result["delivered"] + result["held"] + result["canceled"] + result["skipped_canceled"] == 20
    assert result["held"] == result["invalid"] == 2
    assert result["lost"] == 0
    assert result["accept_duplicate_references"] is True
    assert result["duplicate_canary_seen"] is True
    assert result["warehouse_duplicates"] == result["warehouse_duplicate_orders"] == 0
    assert result["tracking_duplicates"] == 0
    assert result["tracking_missing"] == 0
    assert result["shipments_pushed"] + result["tracking_refused_canceled"] == result["parcels_shipped"] > 0
    # The changes: 5 cancels and 8 edits planned, all made; the ones before the pick stopped or changed
    # the warehouse's order, the ones after it shipped anyway and are flagged; none shipped unflagged.
    assert result["cart_changes_made"] == 13
    assert result["canceled_at_cart"] == 5 and result["edited_at_cart"] == 8
    assert result["canceled_in_time"] >= 2  # the two canceled before delivery at least
    assert result["canceled_too_late_flagged"] >= 2  # once picking, after shipping
    assert result["canceled_in_time"] + result["canceled_too_late_flagged"] == 5
    assert result["edits_applied"] >= 2 and result["edits_too_late_flagged"] >= 3
    assert result["edits_applied"] + result["edits_too_late_flagged"] == 8
    assert result["shipped_after_cancel_unflagged"] == 0
    assert result["shipped_stale_unflagged"] == 0
    assert result["changes_unflagged_orders"] == []
    assert result["kills"] == 1
    assert result["faults_total"] > 0
    assert "killed worker" in err.getvalue()
    # The run left its merchant behind for a person to look at, its cart no longer scheduled.
    cart = CartConnection.objects.get(merchant__slug=result["merchant"])
    assert cart.active is False
    assert Order.objects.filter(cart_connection=cart).count() + result["skipped_canceled"] == 20


@pytest.mark.django_db
def test_an_in_memory_database_is_refused_with_the_reason():
    from django.db import connection

    if not (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        pytest.skip("only the SQLite test database lives in memory")
    with pytest.raises(CommandError, match="other processes"):
        call_command("chaos_sync", "--orders=5", "--json")
