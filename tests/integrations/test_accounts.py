"""The platform account behind a connection: what each connector says identifies it, when it is learned
and stored, and how the orders' references follow it (one namespace of references per warehouse account)."""

from __future__ import annotations

import pytest

from integrations.accounts import connection_account_key, connection_account_refresh
from integrations.connectors.base import account_identity_of, url_host
from integrations.services import connection_test, warehouse_connector_for
from orders.models import HoldCode, OrderEvent, OrderStatus
from orders.services.delivery.deliver import pending_orders_deliver
from orders.services.delivery.holds import orders_retry
from orders.services.translation.translate import warehouse_order_for
from tests.factories import CartConnectionFactory, OrderFactory, ShippingMethodMapFactory, WMSConnectionFactory
from tests.orders.helpers import import_only, order_for, seed, sync

pytestmark = pytest.mark.django_db


def bergen_at(url: str, customer: str = "DEMO", **kwargs):
    return WMSConnectionFactory(
        api_base_url="", settings={"account_web_address": url, "customer_name": customer, "facility": "NJ"}, **kwargs
    )


def test_the_host_of_an_address_is_what_it_reaches():
    assert url_host("https://WWW.Client.AtWorkWeb.com/") == "client.atworkweb.com"
    assert url_host("client.atworkweb.com") == "client.atworkweb.com"
    assert url_host("http://127.0.0.1:8123/x") == "127.0.0.1:8123"
    assert url_host("https://client.atworkweb.com:443") == "client.atworkweb.com"
    assert url_host("not a url:99999") == ""


def test_a_long_identity_fits_its_column_and_stays_unique():
    a = account_identity_of("bergen", "host", "x" * 300 + "a")
    b = account_identity_of("bergen", "host", "x" * 300 + "b")
    assert len(a) == len(b) == 200 and a != b


def test_bergen_connections_with_the_same_host_and_customer_reach_one_account():
    one = bergen_at("https://www.client.atworkweb.com")
    two = bergen_at("client.atworkweb.com/", customer="demo")  # another merchant's, spelled otherwise
    other_customer = bergen_at("https://client.atworkweb.com", customer="ACME")
    other_host = bergen_at("https://other.atworkweb.com")

    keys = [connection_account_refresh(c, reconfigured=False) for c in (one, two, other_customer, other_host)]

    assert keys[0] == keys[1] == "bergen:client.atworkweb.com:demo"
    assert len(set(keys)) == 3
    one.refresh_from_db()
    assert one.platform_account == keys[0]  # stored


def test_an_unknown_account_is_the_connection_alone():
    wms = WMSConnectionFactory(platform="tradegecko", credentials_values={"access_token": "t"}, settings={})

    assert connection_account_refresh(wms, reconfigured=False) == f"wmsconnection:{wms.pk}"
    assert wms.platform_account == ""


def test_cart_accounts_come_from_their_configuration_without_revealing_a_secret():
    squarespace = CartConnectionFactory(credentials_values={"api_key": "sq-secret-key-4242"})
    same_key = CartConnectionFactory(credentials_values={"api_key": "sq-secret-key-4242"})
    overstock = CartConnectionFactory(
        platform="overstock", api_base_url="", credentials_values={"username": "Supplier7", "password": "pw"}
    )

    key = connection_account_refresh(squarespace, reconfigured=False)

    assert key.startswith("squarespace:127.0.0.1:9:key-") and "4242" not in key
    assert connection_account_refresh(same_key, reconfigured=False) == key
    assert connection_account_refresh(overstock, reconfigured=False) == "overstock:api.supplieroasis.com:supplier7"


@pytest.fixture
def tradegecko_wms(tradegecko_sandbox):
    location = tradegecko_sandbox.add_location("Orderbridge DC")
    tradegecko_sandbox.add_variant("SKU-1", stock=50, location_id=location)
    return WMSConnectionFactory(
        platform="tradegecko",
        api_base_url=tradegecko_sandbox.base_url,
        sandbox_tooling=True,
        credentials_values={"access_token": tradegecko_sandbox.access_token},
        settings={"stock_location_id": str(location)},
    )


def test_tradegecko_learns_its_account_from_the_api_at_test_connection(tradegecko_sandbox, tradegecko_wms):
    assert connection_account_key(tradegecko_wms) == f"wmsconnection:{tradegecko_wms.pk}"  # not known yet

    assert connection_test(connection=tradegecko_wms).ok

    tradegecko_wms.refresh_from_db()
    host = tradegecko_sandbox.base_url.split("://")[1]
    assert tradegecko_wms.platform_account == f"tradegecko:{host}:1"  # `GET /accounts/current` says id 1
    assert [r.path for r in tradegecko_sandbox.requests_to("/accounts/current", "GET")]


def test_tradegecko_and_quickbooks_commerce_are_one_api_with_one_account(tradegecko_sandbox, tradegecko_wms):
    cart = CartConnectionFactory(
        merchant=tradegecko_wms.merchant,
        platform="quickbooks_commerce",
        api_base_url=tradegecko_sandbox.base_url,
        sandbox_tooling=True,
        credentials_values={"access_token": tradegecko_sandbox.access_token},
    )
    connection_test(connection=tradegecko_wms)
    connection_test(connection=cart)

    tradegecko_wms.refresh_from_db()
    cart.refresh_from_db()
    assert cart.platform_account == tradegecko_wms.platform_account != ""


def test_a_pasted_token_may_open_another_account_so_it_is_learned_again(tradegecko_sandbox, tradegecko_wms):
    connection_test(connection=tradegecko_wms)

    connection_account_refresh(tradegecko_wms, reconfigured=False)  # renamed: the account stays
    assert tradegecko_wms.platform_account
    connection_account_refresh(tradegecko_wms, reconfigured=True)  # a new token typed
    assert tradegecko_wms.platform_account == ""


def wire_squarespace_to(wms, squarespace_sandbox):
    ShippingMethodMapFactory(warehouse=wms, cart_method="Standard", ship_code="UPS Ground")
    return CartConnectionFactory(
        merchant=wms.merchant,
        warehouse=wms,
        api_base_url=squarespace_sandbox.base_url,
        sandbox_tooling=True,
        credentials_values={"api_key": squarespace_sandbox.api_key},
    )


def test_tradegecko_learns_its_account_at_the_start_of_a_run_before_references_are_chosen(
    tradegecko_sandbox, tradegecko_wms, squarespace_sandbox
):
    cart = wire_squarespace_to(tradegecko_wms, squarespace_sandbox)
    cart_order = seed(squarespace_sandbox, "1001", lines=[{"sku": "SKU-1", "quantity": 1, "price": "10.00"}])

    run = sync(cart)

    tradegecko_wms.refresh_from_db()
    order = order_for(cart, cart_order)
    assert tradegecko_wms.platform_account.startswith("tradegecko:")
    assert order.warehouse_account == tradegecko_wms.platform_account
    assert order.status == OrderStatus.AT_WMS, run.error


def test_a_run_whose_warehouse_cannot_say_its_account_keeps_references_per_connection_and_says_so(
    tradegecko_sandbox, tradegecko_wms, squarespace_sandbox
):
    cart = wire_squarespace_to(tradegecko_wms, squarespace_sandbox)
    cart_order = seed(squarespace_sandbox, "1001", lines=[{"sku": "SKU-1", "quantity": 1, "price": "10.00"}])
    tradegecko_sandbox.fail_next(1, status=404, path_contains="/accounts/current", method="GET")

    run = sync(cart)

    order = order_for(cart, cart_order)
    assert order.warehouse_account == f"wmsconnection:{tradegecko_wms.pk}"
    assert "warehouse account could not be identified" in run.error


def test_tradegecko_another_order_under_the_reference_holds_ours_and_retry_sends_it_under_a_new_one(
    tradegecko_sandbox, tradegecko_wms, squarespace_sandbox
):
    cart = wire_squarespace_to(tradegecko_wms, squarespace_sandbox)
    tradegecko_sandbox.add_order(reference_number="1001", lines=[{"sku": "SKU-1", "quantity": 3}])  # not ours
    cart_order = seed(squarespace_sandbox, "1001", lines=[{"sku": "SKU-1", "quantity": 1, "price": "10.00"}])

    sync(cart)

    order = order_for(cart, cart_order)
    assert (order.status, order.hold_code) == (OrderStatus.ERROR, HoldCode.REFERENCE_TAKEN)
    assert "its order number and lines differ" in order.hold_reason  # the same Ada ships both
    proposed = order.cust_ref
    assert proposed != "1001"

    assert orders_retry(order_ids=[order.pk])["delivered"] == 1

    assert order_for(cart, cart_order).status == OrderStatus.AT_WMS
    assert [o["reference_number"] for o in tradegecko_sandbox.orders] == ["1001", proposed]


def test_tradegecko_this_very_order_under_the_reference_counts_as_delivered(
    tradegecko_sandbox, tradegecko_wms, squarespace_sandbox
):
    cart = wire_squarespace_to(tradegecko_wms, squarespace_sandbox)
    cart_order = seed(squarespace_sandbox, "1001", lines=[{"sku": "SKU-1", "quantity": 1, "price": "10.00"}])
    import_only(cart, tradegecko_wms)
    order = order_for(cart, cart_order)
    connector = warehouse_connector_for(connection=tradegecko_wms)
    connector.submit_order(warehouse_order_for(order=order, lines=list(order.lines.all())))  # an earlier send we forgot

    counts = pending_orders_deliver(cart_connection_id=cart.pk, connector=connector, run=None)

    order.refresh_from_db()
    assert counts["delivered"] == 1 and order.status == OrderStatus.AT_WMS and order.cust_ref == "1001"
    assert "it is this order" in OrderEvent.objects.filter(order=order, code="delivered").last().message
    assert len(tradegecko_sandbox.orders_by_reference()["1001"]) == 1


def of(wms) -> dict:
    """OrderFactory arguments for an order of a cart of the warehouse's merchant that sends to it."""
    return {"cart_connection__merchant": wms.merchant, "cart_connection__warehouse": wms}


def test_orders_move_into_the_account_once_it_is_known_and_an_unsent_clash_gets_a_new_reference():
    known = bergen_at("https://client.atworkweb.com")
    connection_account_refresh(known, reconfigured=False)
    OrderFactory(**of(known), cust_ref="1001", status=OrderStatus.AT_WMS)
    late = WMSConnectionFactory(merchant=known.merchant, api_base_url="", settings={"customer_name": "DEMO"})
    sent = OrderFactory(**of(late), cust_ref="2002", status=OrderStatus.AT_WMS)
    clash = OrderFactory(**of(late), cust_ref="1001", order_number="1001", status=OrderStatus.NEW)
    assert sent.warehouse_account == clash.warehouse_account == f"wmsconnection:{late.pk}"

    late.settings["account_web_address"] = "https://client.atworkweb.com"
    late.save()
    connection_account_refresh(late, reconfigured=True)

    sent.refresh_from_db()
    clash.refresh_from_db()
    assert sent.warehouse_account == known.platform_account  # it went there: the account was only unknown
    assert clash.warehouse_account == known.platform_account and clash.cust_ref.startswith("1001-")
    assert OrderEvent.objects.filter(order=clash, code="reference_changed").exists()


def test_a_connection_moved_to_another_account_takes_only_its_unsent_orders():
    wms = bergen_at("https://client.atworkweb.com")
    connection_account_refresh(wms, reconfigured=False)
    sent = OrderFactory(**of(wms), cust_ref="1", status=OrderStatus.AT_WMS)
    held = OrderFactory(**of(wms), cust_ref="2", status=OrderStatus.ERROR, hold_code=HoldCode.UNKNOWN_SKU)
    old = wms.platform_account

    wms.settings["customer_name"] = "ACME"
    wms.save()
    connection_account_refresh(wms, reconfigured=True)

    sent.refresh_from_db()
    held.refresh_from_db()
    assert sent.warehouse_account == old  # the warehouse has it under the old account
    assert held.warehouse_account == wms.platform_account == "bergen:client.atworkweb.com:acme"
