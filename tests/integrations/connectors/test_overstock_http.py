"""The real Overstock connector against the Overstock sandbox, over loopback HTTP."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest

from integrations.connectors.canonical import CartShipment, CartShipmentLine, InventoryUpdate
from integrations.connectors.errors import (
    AuthenticationError,
    BadPayloadError,
    CallTurnedOffError,
    PermanentError,
    TemporaryError,
)
from integrations.connectors.overstock.connector import OverstockCart
from integrations.connectors.overstock.wire import OTHER_WAREHOUSE
from integrations.outbound import SANDBOX_TOOLING
from sandbox.overstock import OverstockSandbox
from tests.integrations.connectors.builders import shipment

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
SETTINGS = {"warehouse_name": "Main Warehouse"}
INVENTORY_ON = {"enable_inventory_upload": True}  # the unconfirmed upload, turned on
LOOKUP_ON = {"enable_order_lookup": True}  # the unconfirmed lookup by number, turned on


def connector(sandbox: OverstockSandbox, password: str = "sandbox-pass", **settings) -> OverstockCart:
    return OverstockCart(
        base_url=sandbox.base_url,
        outbound=SANDBOX_TOOLING,
        credentials={"username": "sandbox-user", "password": password},
        settings=SETTINGS | settings,
    )


def read(cart: OverstockCart, start: datetime = T0, end: datetime = T0 + timedelta(hours=3)):
    pages = list(cart.iter_order_pages(modified_after=start, modified_before=end, open_only=True))
    return pages, [order for page in pages for order in page.orders]


def test_a_three_hour_range_is_read_in_three_one_hour_windows_with_basic_auth(overstock_sandbox):
    for hour in range(3):
        overstock_sandbox.add_order(f"OS-{hour}", created=T0 + timedelta(hours=hour, minutes=20))
    overstock_sandbox.add_order("OS-LATER", created=T0 + timedelta(hours=5))

    pages, orders = read(connector(overstock_sandbox))

    assert len(pages) == 3
    assert sorted(o.order_number for o in orders) == ["OS-0", "OS-1", "OS-2"]
    listing = overstock_sandbox.requests_to("/salesorders", "GET")
    assert [(r.param("startTime"), r.param("endTime")) for r in listing] == [
        ("2024-05-01T12:00:00Z", "2024-05-01T13:00:00Z"),
        ("2024-05-01T13:00:00Z", "2024-05-01T14:00:00Z"),
        ("2024-05-01T14:00:00Z", "2024-05-01T15:00:00Z"),
    ]
    expected = "Basic " + base64.b64encode(b"sandbox-user:sandbox-pass").decode()
    assert {r.header("Authorization") for r in listing} == {expected}
    assert {r.header("Accept") for r in listing} == {"application/xml"}


def test_orders_read_from_the_sandbox_are_complete(overstock_sandbox):
    overstock_sandbox.add_order(
        "OS-1001",
        created=T0 + timedelta(minutes=5),
        lines=[
            {"partner_sku": "SKU-A", "option_sku": "OPT-A", "quantity": 2, "item_name": "Lamp", "unit_cost": "12.50"},
            {"partner_sku": "SKU-B", "option_sku": "OPT-B", "status": "CANCELLED"},
        ],
        carrier="FEDEX",
        service_level="TWO_DAY",
    )

    _, [order] = read(connector(overstock_sandbox), end=T0 + timedelta(hours=1))

    assert order.cart_order_id == order.order_number == "OS-1001"
    assert order.skip_code == ""
    assert order.ship_method == "FEDEX TWO_DAY"
    assert order.ship_to.missing_fields() == []
    assert [(ln.sku, ln.cart_item_key, ln.quantity, ln.canceled) for ln in order.lines] == [
        ("SKU-A", "OPT-A", 2, False),
        ("SKU-B", "OPT-B", 1, True),
    ]
    assert all(ln.cart_line_id for ln in order.lines)


def test_an_order_for_another_warehouse_comes_back_skipped():
    with OverstockSandbox(warehouses=("Main Warehouse", "Reno DC")) as sandbox:
        sandbox.add_order("OS-MAIN", created=T0 + timedelta(minutes=1))
        sandbox.add_order("OS-RENO", created=T0 + timedelta(minutes=2), warehouse="Reno DC")

        _, orders = read(connector(sandbox), end=T0 + timedelta(hours=1))

    skips = {o.order_number: o.skip_code for o in orders}
    assert skips == {"OS-MAIN": "", "OS-RENO": OTHER_WAREHOUSE}


def test_the_list_wrapper_variant_reads_the_same():
    with OverstockSandbox(list_wrapper=True) as sandbox:
        sandbox.add_order("OS-1", created=T0 + timedelta(minutes=1))

        _, orders = read(connector(sandbox), end=T0 + timedelta(hours=1))

    assert [o.order_number for o in orders] == ["OS-1"]


def test_a_wrong_password_is_refused_with_a_message_that_names_the_credentials(overstock_sandbox):
    with pytest.raises(AuthenticationError) as caught:
        read(connector(overstock_sandbox, password="wrong"))

    assert str(caught.value) == "401: the API username or password was refused by Overstock Supplier Oasis"
    assert "wrong" not in str(caught.value)


def test_test_connection_reads_a_small_window(overstock_sandbox):
    message = connector(overstock_sandbox).test_connection()

    assert message.startswith("credentials accepted:")
    [request] = overstock_sandbox.requests_to("/salesorders", "GET")
    assert request.param("startTime") < request.param("endTime")


def test_a_null_body_fails_the_window_loudly(overstock_sandbox):
    overstock_sandbox.null_body_next(path_contains="/salesorders")

    with pytest.raises(BadPayloadError, match="literally `null`"):
        read(connector(overstock_sandbox))


def test_a_truncated_body_fails_the_window_loudly(overstock_sandbox):
    overstock_sandbox.fail_next(status=200, path_contains="/salesorders", mode="truncated")

    with pytest.raises(BadPayloadError, match="not valid XML"):
        read(connector(overstock_sandbox))


def test_a_window_longer_than_overstock_takes_is_refused_with_what_to_change(overstock_sandbox):
    with pytest.raises(PermanentError) as caught:
        read(connector(overstock_sandbox, window_hours="3"))

    assert "Overstock refused the orders window 2024-05-01T12:00:00Z – 2024-05-01T15:00:00Z (400: " in str(caught.value)
    assert "lower the connection's Window hours" in str(caught.value)


def shipped(lines, tracking="1Z999AA10123456784") -> CartShipment:
    return shipment(tracking, shipped_at=T0 + timedelta(days=1), lines=lines)


def test_tracking_goes_back_one_confirmation_per_line(overstock_sandbox):
    order = overstock_sandbox.add_order(
        "OS-2001",
        created=T0,
        lines=[{"partner_sku": "SKU-A", "quantity": 2}, {"partner_sku": "SKU-B", "quantity": 1}],
    )
    cart = connector(overstock_sandbox)
    _, [read_order] = read(cart, end=T0 + timedelta(hours=1))
    ids = {ln.sku: ln.cart_line_id for ln in read_order.lines}
    assert len(order.lines) == 2

    assert cart.existing_tracking_numbers("OS-2001", ordered_at=T0) == set()  # read in its creation window
    cart.push_shipment(
        "OS-2001",
        shipped(
            [
                CartShipmentLine(cart_line_id=ids["SKU-A"], line_no=1, sku="SKU-A", quantity=2),
                CartShipmentLine(cart_line_id=ids["SKU-B"], line_no=2, sku="SKU-B", quantity=1),
            ]
        ),
        notify_customer=True,
    )

    confirmations = overstock_sandbox.shipments_for("OS-2001")
    assert [(c["line_number"], c["quantity"], c["carrier"], c["tracking_number"]) for c in confirmations] == [
        (1, 2, "UPS", "1Z999AA10123456784"),
        (2, 1, "UPS", "1Z999AA10123456784"),
    ]
    [post] = overstock_sandbox.requests_to("/shipments", "POST")
    assert post.header("Content-Type") == "application/xml"
    assert post.body.count(b"<supplierShipment>") == 2
    assert overstock_sandbox.tracking_duplicate_count() == 0


def test_a_refused_confirmation_names_overstock_s_reason(overstock_sandbox):
    overstock_sandbox.add_order("OS-3001", created=T0, lines=[{"partner_sku": "SKU-A", "quantity": 1}])

    with pytest.raises(PermanentError) as caught:
        connector(overstock_sandbox).push_shipment(
            "OS-3001",
            shipped([CartShipmentLine(cart_line_id="99", line_no=99, sku="SKU-A", quantity=1)]),
            notify_customer=False,
        )

    assert "Overstock refused the tracking for order OS-3001 (400" in str(caught.value)
    assert "INVALID_LINE" in str(caught.value)
    assert overstock_sandbox.shipments_for("OS-3001") == []


def test_stock_levels_are_set_per_option_sku_and_unknown_ones_reported(overstock_sandbox):
    overstock_sandbox.add_product("OPT-A", "SKU-A")
    updates = [InventoryUpdate(key="OPT-A", sku="SKU-A", quantity=7), InventoryUpdate("OPT-NOPE", "SKU-X", 1)]

    result = connector(overstock_sandbox, **INVENTORY_ON).set_inventory(updates, idempotency_key="run-1:batch-1")

    assert result.accepted == ["OPT-A"]
    assert list(result.refused) == ["OPT-NOPE"]
    assert overstock_sandbox.inventory[("OPT-A", "Main Warehouse")] == 7


def test_an_inventory_path_overstock_does_not_have_says_it_is_unconfirmed(overstock_sandbox):
    overstock_sandbox.add_product("OPT-A")
    cart = connector(overstock_sandbox, inventory_path="/nowhere", **INVENTORY_ON)

    with pytest.raises(PermanentError, match="unconfirmed"):
        cart.set_inventory([InventoryUpdate("OPT-A", "SKU-A", 1)], idempotency_key="k")


def test_an_inventory_path_on_another_host_is_refused_before_sending_the_password(overstock_sandbox):
    cart = connector(overstock_sandbox, inventory_path="https://elsewhere.example/inventory", **INVENTORY_ON)

    with pytest.raises(PermanentError, match="must be a path on the Overstock host"):
        cart.set_inventory([InventoryUpdate("OPT-A", "SKU-A", 1)], idempotency_key="k")
    assert overstock_sandbox.requests == []


def test_a_lookup_by_number_turned_on_that_overstock_cannot_answer_falls_back_to_the_creation_window(
    overstock_sandbox,
):
    overstock_sandbox.add_order("OS-1", order_date=T0, created=T0, lines=[{"partner_sku": "SKU-A"}])
    cart = connector(overstock_sandbox, **LOOKUP_ON)
    cart.push_shipment("OS-1", shipped([CartShipmentLine("1", 1, "SKU-A", 1)], tracking="T-1"), notify_customer=False)

    assert cart.existing_tracking_numbers("OS-1", ordered_at=T0) == {"T-1"}
    asked = overstock_sandbox.requests_to("/salesorders", "GET")
    assert asked[0].param("salesChannelOrderNumber") == "OS-1"  # refused by this Overstock (400)
    assert all(r.param("startTime") for r in asked[1:])


def test_inventory_has_no_listing():
    assert OverstockCart.inventory_listing is False
    assert list(OverstockCart(settings=SETTINGS).iter_inventory()) == []


def test_when_overstock_answers_a_lookup_by_number_its_tracking_and_channel_are_used(overstock_sandbox):
    overstock_sandbox.add_order("OS-4001", created=T0, lines=[{"partner_sku": "SKU-A"}, {"partner_sku": "SKU-B"}])
    cart = OverstockCart(  # the connection's sales channel is left at its default
        base_url=overstock_sandbox.base_url,
        outbound=SANDBOX_TOOLING,
        credentials={"username": "sandbox-user", "password": "sandbox-pass"},
        settings={"warehouse_name": "main warehouse", **LOOKUP_ON},
    )
    # An Overstock that does filter by order number (unconfirmed; the sandbox does not) answers so:
    answer = (
        '<ns2:processedSalesOrderMessage xmlns:ns2="api.supplieroasis.com"><ns2:processedSalesOrder>'
        "<ns2:salesChannelOrderNumber>OS-4001</ns2:salesChannelOrderNumber>"
        "<ns2:salesChannelName>OSTK</ns2:salesChannelName>"
        "<ns2:warehouseName><ns2:code>Main Warehouse</ns2:code></ns2:warehouseName>"
        "<ns2:processedSalesOrderLine><ns2:salesChannelLineNumber>1</ns2:salesChannelLineNumber>"
        "<ns2:shipConfirmationDetail><ns2:packageDetail><ns2:trackingNumber>EARLIER-1</ns2:trackingNumber>"
        "</ns2:packageDetail></ns2:shipConfirmationDetail></ns2:processedSalesOrderLine>"
        "</ns2:processedSalesOrder></ns2:processedSalesOrderMessage>"
    )
    overstock_sandbox.fail_next(status=200, path_contains="/salesorders", method="GET", body=answer)

    assert cart.existing_tracking_numbers("OS-4001") == {"EARLIER-1"}
    cart.push_shipment(
        "OS-4001", shipped([CartShipmentLine("2", 2, "SKU-B", 1)], tracking="NEW-2"), notify_customer=False
    )

    [confirmation] = overstock_sandbox.shipments_for("OS-4001")
    assert (confirmation["line_number"], confirmation["tracking_number"]) == (2, "NEW-2")


def test_a_confirmation_whose_reply_was_lost_is_not_resent_by_the_client(overstock_sandbox):
    overstock_sandbox.add_order("OS-5001", created=T0, lines=[{"partner_sku": "SKU-A"}])
    overstock_sandbox.fail_next(path_contains="/shipments", mode="after_drop")

    with pytest.raises(TemporaryError) as caught:
        connector(overstock_sandbox).push_shipment(
            "OS-5001", shipped([CartShipmentLine("1", 1, "SKU-A", 1)]), notify_customer=False
        )

    assert caught.value.maybe_delivered is True
    assert len(overstock_sandbox.requests_to("/shipments", "POST")) == 1
    assert len(overstock_sandbox.shipments_for("OS-5001")) == 1


def test_an_outage_page_is_retried_then_temporary(overstock_sandbox):
    overstock_sandbox.fail_next(count=10, status=503, path_contains="/salesorders")

    with pytest.raises(TemporaryError, match="503"):
        read(connector(overstock_sandbox))


def test_tracking_already_at_overstock_is_found_again_in_the_orders_creation_window(overstock_sandbox):
    overstock_sandbox.add_order("OS-6001", order_date=T0, created=T0, lines=[{"partner_sku": "SKU-A"}])
    cart = OverstockCart(
        base_url=overstock_sandbox.base_url,
        outbound=SANDBOX_TOOLING,
        credentials={"username": "sandbox-user", "password": "sandbox-pass"},
        settings=SETTINGS,
    )
    cart.push_shipment(
        "OS-6001", shipped([CartShipmentLine("1", 1, "SKU-A", 1)], tracking="ONCE-1"), notify_customer=False
    )

    assert cart.existing_tracking_numbers("OS-6001", ordered_at=T0) == {"ONCE-1"}
    listing = overstock_sandbox.requests_to("/salesorders", "GET")
    assert listing and not [r for r in listing if r.param("salesChannelOrderNumber")]  # off by default
    assert all(r.param("startTime") and r.param("endTime") for r in listing)


def test_inventory_is_not_supported_by_default_and_nothing_is_sent(overstock_sandbox):
    overstock_sandbox.add_product("OPT-A", "SKU-A")
    cart = connector(overstock_sandbox)

    with pytest.raises(CallTurnedOffError) as caught:
        cart.set_inventory([InventoryUpdate("OPT-A", "SKU-A", 7)], idempotency_key="k")

    assert str(caught.value) == (
        "Inventory: not supported for this platform (Overstock publishes no inventory endpoint; CartRover's guide "
        "names OptionSku but no path; turn it on in the connection if your Overstock rep gave you the path)"
    )
    with pytest.raises(CallTurnedOffError):
        cart.inventory_check()
    assert overstock_sandbox.requests == []
    assert ("OPT-A", "Main Warehouse") not in overstock_sandbox.inventory


def test_the_unconfirmed_calls_are_switches_off_by_default_with_their_reason():
    cart = OverstockCart(settings=SETTINGS)
    switches = {f.name: f for f in OverstockCart.setting_fields if f.switch}

    assert set(switches) == {"enable_inventory_upload", "enable_order_lookup"}
    assert all(f.default is False and not f.required for f in switches.values())
    assert not cart.call_enabled("inventory_upload") and not cart.call_enabled("order_lookup")
    assert switches["enable_inventory_upload"].help_text == (
        "Unconfirmed: Overstock publishes no inventory endpoint; CartRover's guide names OptionSku but no path. "
        "Turn on only if your Overstock rep gave you the path."
    )
    assert OverstockCart(settings=SETTINGS | INVENTORY_ON).call_enabled("inventory_upload")
    assert (
        OverstockCart(settings=SETTINGS | {"enable_inventory_upload": False}).call_enabled("inventory_upload") is False
    )
    assert cart.call_enabled("a_confirmed_call")


def test_tracking_of_an_order_whose_date_is_unknown_is_said_to_be_unreadable_not_guessed(overstock_sandbox):
    with pytest.raises(PermanentError, match="OS-7001 has no known order date"):
        connector(overstock_sandbox).existing_tracking_numbers("OS-7001")

    assert overstock_sandbox.requests == []
