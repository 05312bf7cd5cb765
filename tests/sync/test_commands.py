"""`sync_shipments`, `sync_inventory` and `sync_all` against the sandboxes (one JSON object,
`--merchant`, a non-zero exit when a cart fails) and the demo's whole cycle."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from integrations.models import CartConnection
from orders.models import Order, OrderStatus, Shipment, SyncRun
from tests.factories import CartConnectionFactory, WMSConnectionFactory
from tests.orders.tracking_helpers import deliver, package, ship


def command_json(name: str, *args: str) -> dict:
    out = StringIO()
    call_command(name, "--json", *args, stdout=out, stderr=StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


def kinds_and_sides(result: dict) -> list[tuple[str, str]]:
    return [(run["kind"], run["side"]) for run in result["runs"]]


@pytest.fixture
def shipped(wired):
    """The wired merchant with one delivered order the warehouse has shipped, and stock at the cart."""
    order = deliver(wired)
    ship(wired, order.cust_ref, package("1ZCMD0001", ("SKU-1", 1)))
    wired.squarespace.add_inventory("6d1f0c2e-0000-4000-8000-000000000001", "SKU-1", 0)
    wired.order = order
    return wired


@pytest.fixture
def other_merchant(wired) -> CartConnection:
    """Another merchant's cart and warehouse, on the same sandboxes."""
    wms = WMSConnectionFactory(
        api_base_url=wired.bergen.base_url,
        sandbox_tooling=True,
        settings={
            "account_web_address": wired.bergen.base_url,
            "customer_name": wired.bergen.customer,
            "facility": "NJ",
        },
    )
    return CartConnectionFactory(
        merchant=wms.merchant, warehouse=wms, api_base_url=wired.squarespace.base_url, sandbox_tooling=True
    )


def break_the_cart_key(cart: CartConnection) -> None:
    cart.set_credentials({"api_key": "not-the-key"})
    cart.save()


def test_sync_shipments_json_is_one_object_with_the_warehouse_and_cart_runs(shipped):
    out, err = StringIO(), StringIO()
    call_command("sync_shipments", "--json", stdout=out, stderr=err)

    lines = out.getvalue().strip().splitlines()
    result = json.loads(lines[-1])
    assert len(lines) == 1 and err.getvalue() == ""
    assert kinds_and_sides(result) == [("shipments", "warehouse"), ("shipments", "cart")]
    assert result["failed"] == 0
    warehouse, cart = result["runs"]
    assert warehouse["connection_id"] == shipped.wms.pk and warehouse["counts"]["shipments"] == 1
    assert cart["connection_id"] == shipped.cart.pk and cart["counts"]["shipments_pushed"] == 1
    assert all(run["merchant"] == shipped.merchant.slug for run in result["runs"])
    shipped.order.refresh_from_db()
    assert shipped.order.status == OrderStatus.CONFIRMED


def test_sync_inventory_json_is_one_object_and_full_pushes_every_level(shipped):
    first = command_json("sync_inventory")
    again = command_json("sync_inventory")
    full = command_json("sync_inventory", "--full")

    assert kinds_and_sides(first) == [("inventory", "warehouse"), ("inventory", "cart")]
    assert first["failed"] == 0
    assert first["runs"][0]["counts"]["levels_read"] == 3
    assert first["runs"][1]["counts"]["inventory_pushed"] == 1
    assert again["runs"][1]["counts"]["inventory_pushed"] == 0
    assert full["runs"][1]["counts"]["inventory_pushed"] == 1
    assert len(shipped.squarespace.adjustments) == 2


def test_sync_inventory_read_catalog_reads_the_carts_item_list_even_when_it_was_read_recently(shipped):
    command_json("sync_inventory")
    listings = len(shipped.squarespace.requests_to("/commerce/inventory", "GET"))
    command_json("sync_inventory")
    assert len(shipped.squarespace.requests_to("/commerce/inventory", "GET")) == listings

    command_json("sync_inventory", "--read-catalog")

    assert len(shipped.squarespace.requests_to("/commerce/inventory", "GET")) > listings


def test_sync_all_runs_orders_then_shipments_then_inventory_in_one_json_object(shipped):
    shipped.squarespace.add_order(
        order_number="5009", lines=[{"sku": "SKU-2", "quantity": 1, "price": "1.00", "name": "Gadget"}]
    )

    result = command_json("sync_all")

    assert kinds_and_sides(result) == [
        ("orders", "cart"),
        ("shipments", "warehouse"),
        ("shipments", "cart"),
        ("inventory", "warehouse"),
        ("inventory", "cart"),
    ]
    assert result["failed"] == 0
    assert result["runs"][2]["counts"]["shipments_pushed"] == 1
    assert result["runs"][4]["counts"]["inventory_pushed"] == 1


@pytest.mark.parametrize("name", ["sync_shipments", "sync_inventory", "sync_all"])
def test_merchant_limits_a_command_to_that_merchants_connections(shipped, other_merchant, name):
    everyone = command_json(name)
    only = command_json(name, "--merchant", other_merchant.merchant.slug)

    assert {run["merchant"] for run in everyone["runs"]} == {shipped.merchant.slug, other_merchant.merchant.slug}
    assert only["runs"] and {run["merchant"] for run in only["runs"]} == {other_merchant.merchant.slug}
    ids = {(run["side"], run["connection_id"]) for run in only["runs"]}
    assert ("cart", other_merchant.pk) in ids
    assert ("cart", shipped.cart.pk) not in ids and ("warehouse", shipped.wms.pk) not in ids


@pytest.mark.parametrize("name", ["sync_shipments", "sync_inventory", "sync_all"])
def test_a_cart_with_a_wrong_api_key_makes_the_command_exit_non_zero(shipped, name):
    if name == "sync_shipments":
        call_command("sync_shipments", stdout=StringIO(), stderr=StringIO())  # tracking accepted once
        Shipment.objects.filter(order=shipped.order).update(push_status=Shipment.PushStatus.PENDING)
    break_the_cart_key(shipped.cart)
    out = StringIO()

    with pytest.raises(CommandError, match="failed"):
        call_command(name, "--json", stdout=out, stderr=StringIO())

    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["failed"] >= 1
    failed = [run for run in result["runs"] if run["status"] == "failed"]
    assert failed and all(run["side"] == "cart" for run in failed)
    assert any("401" in run["error"] for run in failed)


def test_the_human_summary_names_each_run_and_progress_goes_to_stderr(shipped):
    out, err = StringIO(), StringIO()

    call_command("sync_shipments", stdout=out, stderr=err)

    text = out.getvalue()
    assert f"shipments · {shipped.merchant.slug} · bergen #{shipped.wms.pk}: succeeded" in text
    assert f"shipments · {shipped.merchant.slug} · squarespace #{shipped.cart.pk}: succeeded" in text
    assert "shipments pushed 1" in text
    assert "…" in err.getvalue()


def demo_json() -> dict:
    out = StringIO()
    call_command("demo", "--json", stdout=out, stderr=StringIO())
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_the_demo_runs_the_whole_cycle_and_a_second_run_imports_and_delivers_nothing_new(db):
    first = demo_json()
    orders, shipments = Order.objects.count(), Shipment.objects.count()

    second = demo_json()

    reconciled = first.pop("reconcile"), second.pop("reconcile")
    for result in (first, second, *reconciled):
        assert all(type(value) is int for value in result.values()), result
    for result in (first, second):
        assert result["tracking_duplicates"] == 0
        assert result["warehouse_duplicates"] == 0
    assert first["shipments_pushed"] >= 3
    assert reconciled[0]["gaps"] == 0  # the reconciliation that ends the demo, while its sandboxes are up
    assert first["inventory_pushed"] >= 1
    assert (second["imported"], second["delivered"]) == (0, 0)
    assert (second["shipments_imported"], second["shipments_pushed"]) == (0, 0)
    assert second["warehouse_orders"] == 0
    assert Order.objects.count() == orders
    assert Shipment.objects.count() == shipments
    demo = Order.objects.filter(merchant__slug="demo")
    assert demo.get(order_number="1001").status == OrderStatus.CONFIRMED
    partial = demo.get(order_number="1004")
    assert (partial.status, partial.partially_shipped) == (OrderStatus.AT_WMS, True)
    assert not SyncRun.objects.filter(merchant__slug="demo", status="failed").exists()
