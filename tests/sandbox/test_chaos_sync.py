"""`manage.py chaos_sync`: worker processes SIGKILLed mid-run against faulty sandboxes in their own
process, the warehouse storing a repeated reference again; every order still ends delivered once or held,
every parcel's tracking at the cart once."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from integrations.models import CartConnection
from orders.models import Order


@pytest.mark.django_db(transaction=True)
def test_a_small_chaos_run_loses_nothing_and_duplicates_nothing(shared_database):
    out, err = StringIO(), StringIO()
    call_command(
        "chaos_sync",
        "--orders=20",
        "--fault-rate=0.2",
        "--kills=1",
        "--seed=5",
        "--workers=2",
        "--accept-duplicate-references",
        "--time-limit=90",
        "--json",
        stdout=out,
        stderr=err,
    )
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["problems"] == [], err.getvalue()
    assert result["settled"] is True
    assert result["orders"] == 20
    assert result["delivered"] + result["held"] == 20
    assert result["held"] == result["invalid"] == 2
    assert result["lost"] == 0
    assert result["accept_duplicate_references"] is True
    assert result["duplicate_canary_seen"] is True
    assert result["warehouse_duplicates"] == result["warehouse_duplicate_orders"] == 0
    assert result["warehouse_orders"] == result["delivered"]  # the canary is not among them
    assert result["tracking_duplicates"] == 0
    assert result["tracking_missing"] == 0
    assert result["shipments_pushed"] == result["parcels_shipped"] > 0
    assert result["kills"] == 1
    assert result["faults_total"] > 0
    assert "killed worker" in err.getvalue()
    # The run left its merchant behind for a person to look at, its cart no longer scheduled.
    cart = CartConnection.objects.get(merchant__slug=result["merchant"])
    assert cart.active is False
    assert Order.objects.filter(cart_connection=cart).count() == 20


@pytest.mark.django_db
def test_an_in_memory_database_is_refused_with_the_reason():
    from django.db import connection

    if not (connection.vendor == "sqlite" and connection.is_in_memory_db()):
        pytest.skip("only the SQLite test database lives in memory")
    with pytest.raises(CommandError, match="other processes"):
        call_command("chaos_sync", "--orders=5", "--json")
