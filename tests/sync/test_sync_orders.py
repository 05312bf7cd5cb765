"""`manage.py sync_orders` against the sandboxes: summaries, --json, filters, and the exit status."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from integrations.models import CartConnection
from orders.models import Order, OrderStatus
from tests.factories import CartConnectionFactory


def sync(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("sync_orders", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def sync_json(*args: str) -> dict:
    out, _ = sync("--json", *args)
    return json.loads(out.strip().splitlines()[-1])


def synced_ids(result: dict) -> list[int]:
    return [run["connection_id"] for run in result["runs"]]


def test_prints_a_summary_per_connection_with_counts(seeded):
    out, err = sync()

    cart = seeded.cart
    assert f"{seeded.merchant.slug} · squarespace #{cart.pk}: succeeded" in out
    assert "imported 2" in out and "delivered 2" in out and "held 0" in out
    assert "page 1" in err  # progress goes to stderr
    assert Order.objects.filter(cart_connection=cart, status=OrderStatus.AT_WMS).count() == 2
    assert len(seeded.bergen.orders) == 2


def test_json_prints_one_object_with_each_connections_status_and_counts(seeded):
    result = sync_json()

    [conn] = result["runs"]
    assert conn["connection_id"] == seeded.cart.pk
    assert conn["connection"] == f"squarespace #{seeded.cart.pk}"
    assert conn["merchant"] == seeded.merchant.slug
    assert conn["status"] == "succeeded"
    assert conn["counts"]["imported"] == 2
    assert conn["counts"]["delivered"] == 2
    assert result["failed"] == 0


def test_json_output_is_only_the_json_object(seeded):
    out, err = sync("--json")

    assert len(out.strip().splitlines()) == 1
    assert err == ""


def test_a_second_run_imports_and_delivers_nothing_new(seeded):
    sync()

    [conn] = sync_json()["runs"]

    assert conn["counts"].get("imported", 0) == 0
    assert conn["counts"].get("delivered", 0) == 0
    assert len(seeded.bergen.orders) == 2
    assert seeded.bergen.duplicate_count() == 0


def test_merchant_filter_syncs_only_that_merchants_connections(seeded, second_merchant):
    assert set(synced_ids(sync_json())) == {seeded.cart.pk, second_merchant.pk}

    only = sync_json("--merchant", second_merchant.merchant.slug)

    assert synced_ids(only) == [second_merchant.pk]


def test_connection_filter_syncs_only_that_connection(seeded, second_merchant):
    only = sync_json("--connection", str(seeded.cart.pk))

    assert synced_ids(only) == [seeded.cart.pk]
    assert only["runs"][0]["counts"]["imported"] == 2
    assert not second_merchant.sync_runs.exists()


def test_no_matching_connection_is_an_error(seeded):
    with pytest.raises(CommandError, match="No active cart connection"):
        sync("--merchant", "nobody-has-this-slug")
    with pytest.raises(CommandError, match="No active cart connection"):
        sync("--connection", "999999")


def test_merchant_and_connection_filters_combine(seeded, second_merchant):
    """--merchant A --connection <B's cart> matches nothing: the filters narrow together."""
    with pytest.raises(CommandError, match="No active cart connection"):
        sync("--merchant", seeded.merchant.slug, "--connection", str(second_merchant.pk))
    assert not second_merchant.sync_runs.exists()


def test_an_inactive_connection_is_not_synced_even_when_named(seeded):
    """The model says: inactive connections are never synced."""
    CartConnection.objects.filter(pk=seeded.cart.pk).update(active=False)

    with pytest.raises(CommandError, match="No active cart connection"):
        sync("--connection", str(seeded.cart.pk))
    assert not Order.objects.exists()


def test_inactive_connections_are_left_out_of_a_full_run(seeded, second_merchant):
    CartConnection.objects.filter(pk=second_merchant.pk).update(active=False)

    assert synced_ids(sync_json()) == [seeded.cart.pk]


def test_a_connection_that_cannot_be_synced_fails_the_command_and_says_why(seeded):
    CartConnectionFactory(
        merchant=seeded.merchant,
        warehouse=seeded.wms,
        api_base_url=seeded.squarespace.base_url,
        sandbox_tooling=True,
        credentials_values={"api_key": "wrong-key-0042"},
    )
    out = StringIO()

    with pytest.raises(CommandError, match=r"\b1\b.*failed"):
        call_command("sync_orders", stdout=out, stderr=StringIO())

    text = out.getvalue()
    assert "failed" in text
    assert "401" in text
    assert "wrong-key-0042" not in text
    assert "imported 2" in text  # the good connection was still synced


def test_a_failed_connection_shows_in_the_json_before_the_error(seeded):
    broken = CartConnectionFactory(
        merchant=seeded.merchant,
        warehouse=seeded.wms,
        api_base_url=seeded.squarespace.base_url,
        sandbox_tooling=True,
        credentials_values={"api_key": "wrong-key-0042"},
    )
    out = StringIO()

    with pytest.raises(CommandError):
        call_command("sync_orders", "--json", stdout=out, stderr=StringIO())

    result = json.loads(out.getvalue().strip().splitlines()[-1])
    statuses = {run["connection_id"]: run["status"] for run in result["runs"]}
    assert statuses == {seeded.cart.pk: "succeeded", broken.pk: "failed"}
    assert result["failed"] == 1
    failed = next(run for run in result["runs"] if run["connection_id"] == broken.pk)
    assert "401" in failed["error"]


def test_an_unreachable_cart_fails_the_command(seeded):
    CartConnection.objects.filter(pk=seeded.cart.pk).update(api_base_url="http://127.0.0.1:9")

    with pytest.raises(CommandError, match="failed"):
        sync()
