"""`manage.py reconcile` against the sandboxes: one JSON object last with the issue's keys, gaps
named for people with what to do, filters, and a connection that cannot be read never clean."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from integrations.models import CartConnection
from tests.sync.test_reconcile import delivered

KEYS = {
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


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("reconcile", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def test_json_is_one_object_on_the_last_line_with_every_count(wired):
    delivered(wired, "8001", "8002")

    out, err = run("--json")

    result = last_json(out)
    assert set(result) >= KEYS
    assert result["connections"] == 1 and result["cart_orders"] == 2 and result["delivered_once"] == 2
    assert result["gaps"] == 0
    assert err == ""


def test_gaps_are_the_sum_of_the_four_gap_counts_and_named_for_people(wired):
    orders = delivered(wired, "8101", "8102")
    with wired.bergen.lock:
        wired.bergen.orders[:] = [o for o in wired.bergen.orders if o["referenceNum"] != orders["8101"].cust_ref]

    result = last_json(run("--json")[0])
    out, _ = run()

    assert result["missing_at_warehouse"] == 1 and result["gaps"] == 1
    assert result["gaps"] == sum(
        result[k] for k in ("missing_here", "missing_at_warehouse", "warehouse_duplicates", "tracking_missing")
    )
    assert "1 gap(s)" in out
    assert "#8101 missing at warehouse" in out and "what to do: " in out


def test_a_clean_run_says_every_order_is_accounted_for(wired):
    delivered(wired, "8201")

    out, _ = run("--days", "2")

    assert "all 1 order(s) accounted for" in out


def test_filters_select_the_connections(wired, second_merchant):
    assert last_json(run("--json")[0])["connections"] == 2

    only = last_json(run("--json", "--merchant", second_merchant.merchant.slug)[0])

    assert only["connections"] == 1
    assert [r["connection_id"] for r in only["results"]] == [second_merchant.pk]
    assert (
        last_json(run("--json", "--connection", str(wired.cart.pk))[0])["results"][0]["connection_id"] == wired.cart.pk
    )


def test_a_connection_that_cannot_be_read_is_reported_and_fails_the_command(wired):
    CartConnection.objects.filter(pk=wired.cart.pk).update(api_base_url=wired.bergen.base_url)
    out = StringIO()

    with pytest.raises(CommandError, match="could not be read"):
        call_command("reconcile", "--json", stdout=out, stderr=StringIO())

    result = last_json(out.getvalue())
    assert result["unreadable"] == 1
    assert result["results"][0]["readable"] is False and result["results"][0]["error"]
