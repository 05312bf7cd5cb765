"""Two warehouse connections that reach one Bergen account (the same address and customer), each fed by
a store with its own order #1001, one merchant's or two: one namespace of references. Both orders are
delivered, under different references, and the warehouse refuses nothing and loses nothing."""

from __future__ import annotations

import threading

import pytest
from django.db import connection as db

from integrations.models import CartConnection
from orders.models import HoldCode, Order, OrderEvent, OrderStatus, Shipment
from sandbox.squarespace import SquarespaceSandbox
from sync.return_path import warehouse_sync_shipments
from tests.factories import CartConnectionFactory, MerchantFactory, ShippingMethodMapFactory, WMSConnectionFactory
from tests.orders.helpers import ago, order_posts, seed, sync


def store_to_bergen(bergen, merchant, squarespace: SquarespaceSandbox) -> CartConnection:
    """A store of `merchant` sending to a warehouse connection of its own at the Bergen sandbox's customer."""
    wms = WMSConnectionFactory(
        merchant=merchant,
        api_base_url=bergen.base_url,
        sandbox_tooling=True,
        credentials_values={"username": bergen.username, "password": bergen.password},
        settings={"account_web_address": bergen.base_url, "customer_name": bergen.customer, "facility": "NJ"},
    )
    ShippingMethodMapFactory(warehouse=wms, cart_method="Standard", ship_code="UPS:Ground")
    return CartConnectionFactory(
        merchant=merchant,
        warehouse=wms,
        api_base_url=squarespace.base_url,
        sandbox_tooling=True,
        credentials_values={"api_key": squarespace.api_key},
    )


@pytest.fixture
def second_store():
    sandbox = SquarespaceSandbox(rate_limit_per_minute=None)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


@pytest.fixture(params=["one merchant", "two merchants"])
def two_stores(request, db, bergen_sandbox, squarespace_sandbox, second_store):
    bergen_sandbox.add_item("SKU-1", on_hand=50)
    first = MerchantFactory()
    second = first if request.param == "one merchant" else MerchantFactory()
    a = store_to_bergen(bergen_sandbox, first, squarespace_sandbox)
    b = store_to_bergen(bergen_sandbox, second, second_store)
    seed(squarespace_sandbox, "1001", shipping_address={"firstName": "Ada", "lastName": "Lovelace"})
    seed(second_store, "1001", shipping_address={"firstName": "Grace", "lastName": "Hopper"})
    return a, b


def assert_both_delivered_once(bergen, a: CartConnection, b: CartConnection) -> None:
    mine, theirs = Order.objects.get(cart_connection=a), Order.objects.get(cart_connection=b)
    assert (mine.status, theirs.status) == (OrderStatus.AT_WMS, OrderStatus.AT_WMS)
    assert mine.cust_ref.lower() != theirs.cust_ref.lower()
    assert mine.warehouse_account == theirs.warehouse_account == a.warehouse.platform_account != ""
    stored = bergen.orders_by_reference()
    assert sorted(stored) == sorted([mine.cust_ref, theirs.cust_ref])
    assert [o["shipTo"]["name"] for o in stored[mine.cust_ref]] == ["Ada Lovelace"]
    assert [o["shipTo"]["name"] for o in stored[theirs.cust_ref]] == ["Grace Hopper"]
    assert all(o["poNum"] == "1001" for o in bergen.orders)
    assert len(order_posts(bergen)) == 2  # nothing refused, nothing sent twice
    assert not OrderEvent.objects.filter(code=HoldCode.REFERENCE_TAKEN).exists()


def test_two_connections_to_one_account_deliver_both_orders_1001_under_different_references(two_stores, bergen_sandbox):
    a, b = two_stores

    runs = [sync(a), sync(b)]

    assert [run.counts.get("delivered") for run in runs] == [1, 1]
    assert all(run.status == "succeeded" for run in runs), [run.error for run in runs]
    a.warehouse.refresh_from_db()
    assert_both_delivered_once(bergen_sandbox, a, b)


@pytest.mark.django_db(transaction=True)
def test_two_connections_syncing_at_once_still_never_share_a_reference(two_stores, bergen_sandbox):
    if db.vendor != "postgresql":
        pytest.skip("concurrent writers: SQLite serialises them (run with DATABASE_URL=postgres://…)")
    a, b = two_stores
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def run(connection: CartConnection) -> None:
        try:
            start.wait()
            sync(connection)
        except BaseException as exc:  # reported by the test thread
            errors.append(exc)
        finally:
            db.close()  # this thread's own connection

    threads = [threading.Thread(target=run, args=(c,)) for c in (a, b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert not errors
    a.warehouse.refresh_from_db()
    assert_both_delivered_once(bergen_sandbox, a, b)


def test_each_connection_takes_the_tracking_of_its_own_orders_from_the_accounts_feed(two_stores, bergen_sandbox):
    a, b = two_stores
    sync(a), sync(b)
    for cart in (a, b):
        order = Order.objects.get(cart_connection=cart)
        parcel = {"carrier": "UPS", "service": "Ground", "tracking_number": f"1Z{order.pk}", "lines": []}
        bergen_sandbox.ship_order(order.cust_ref, [parcel], ship_date=ago(minutes=5))

    runs = [warehouse_sync_shipments(warehouse=cart.warehouse) for cart in (a, b)]

    assert [(run.status, run.counts["shipments"], run.counts["other_connection"]) for run in runs] == [
        ("succeeded", 1, 1),
        ("succeeded", 1, 1),
    ]
    assert not Shipment.objects.filter(push_status=Shipment.PushStatus.UNMATCHED).exists()
    for cart in (a, b):
        order = Order.objects.get(cart_connection=cart)
        assert [s.tracking_numbers for s in order.shipments.all()] == [[f"1Z{order.pk}"]]
        assert order.shipments.get().warehouse == cart.warehouse
