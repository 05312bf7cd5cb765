"""`order_send_test`: a clearly marked test order through the real pipeline to the Bergen sandbox."""

from __future__ import annotations

from django.utils import timezone

from integrations.connectors.canonical import Address
from orders.models import HoldCode, Order, OrderStatus
from orders.services.delivery.claims import DeliveryOutcome
from orders.services.delivery.trial_order import (
    CART_PAYLOAD_MARK,
    TestOrderLine,
    TestOrderOutcome,
    default_test_address,
    order_send_test,
)
from tests.factories import CartConnectionFactory

DELIVERED, RETRY = DeliveryOutcome.DELIVERED, DeliveryOutcome.RETRY
HELD, NOT_SENT = TestOrderOutcome.HELD, TestOrderOutcome.NOT_SENT


def send(cart, *lines: tuple[str, int], ship_method: str = "Standard", ship_to: Address | None = None):
    return order_send_test(
        cart_connection=cart,
        lines=[TestOrderLine(sku, qty) for sku, qty in lines or [("SKU-1", 1)]],
        ship_method=ship_method,
        ship_to=ship_to or default_test_address(company="Shop"),
        requested_by="shopkeeper",
    )


def today() -> str:
    return timezone.localdate().strftime("%Y%m%d")


def test_a_test_order_goes_through_the_whole_flow_marked_as_a_test(wired):
    sent = send(wired.cart, ("SKU-1", 2), ("WMS-SKU-9", 1))

    order = sent.order
    assert sent.outcome == DELIVERED and sent.delivered
    assert (order.order_number, order.cust_po_no, order.cust_ref) == (f"TEST-{today()}-1",) * 3
    assert order.is_test is True
    assert order.status == OrderStatus.AT_WMS
    assert order.cart_payload == {CART_PAYLOAD_MARK: True}
    received = wired.bergen.order(order.cust_ref)
    assert received["poNum"] == order.order_number
    assert received["shipTo"]["name"] == "TEST ORDER do not ship"
    assert [(i["itemIdentifier"]["sku"], i["qty"]) for i in received["orderItems"]] == [("SKU-1", 2), ("WMS-SKU-9", 1)]
    assert [e.code for e in order.events.all()] == ["test_order", "delivered", "verified"]
    assert "by shopkeeper" in order.events.first().message


def test_numbers_count_up_per_day_and_cart(wired):
    first, second = send(wired.cart), send(wired.cart)

    assert first.order.order_number == f"TEST-{today()}-1"
    assert second.order.order_number == f"TEST-{today()}-2"
    assert wired.bergen.duplicate_count() == 0


def test_the_reference_starts_with_test_within_the_warehouses_limits(wired):
    wired.wms.cust_ref_max_length = 10
    wired.wms.cust_ref_prefix = "AB"
    wired.wms.save()

    sent = send(wired.cart)

    assert sent.outcome == DELIVERED
    assert sent.order.cust_ref.startswith("ABTEST-")
    assert len(sent.order.cust_ref) <= 10
    assert sent.order.order_number == f"TEST-{today()}-1"


def test_aliases_and_shipping_mappings_are_applied(wired):
    wired.merchant.sku_aliases.create(cart_sku="CART-TEE", warehouse_sku="SKU-2")

    sent = send(wired.cart, ("CART-TEE", 1))

    assert sent.outcome == DELIVERED
    line = sent.order.lines.get()
    assert (line.cart_sku, line.warehouse_sku) == ("CART-TEE", "SKU-2")
    assert sent.order.ship_code == "UPS:Ground"


def test_an_unknown_sku_is_held_then_closed_so_no_sync_sends_it(wired):
    sent = send(wired.cart, ("NOPE", 1))

    order = Order.objects.get(pk=sent.order.pk)
    assert sent.outcome == HELD
    assert sent.message.startswith("Held: The warehouse does not know SKU 'NOPE'")
    assert order.status == OrderStatus.CANCELED
    assert order.hold_code == HoldCode.UNKNOWN_SKU  # kept: says why, and offers the alias to add
    assert order.events.last().code == "test_order_closed"
    assert wired.bergen.orders == []


def test_a_cart_without_a_warehouse_is_held(db):
    cart = CartConnectionFactory(warehouse=None)

    sent = send(cart)

    assert sent.outcome == HELD
    assert "No warehouse is connected" in sent.message
    assert sent.order.status == OrderStatus.CANCELED


def test_refused_warehouse_credentials_are_reported_and_nothing_left_to_send(wired):
    wired.wms.set_credentials({"username": wired.bergen.username, "password": "wrong"})
    wired.wms.save()

    sent = send(wired.cart)

    assert sent.outcome == NOT_SENT
    assert "401" in sent.message
    assert sent.order.status == OrderStatus.CANCELED


def test_a_lost_reply_is_left_to_the_sync_which_asks_before_resending(wired):
    wired.bergen.fail_next(1, status=500, mode="after", path_contains="/orders", method="POST")

    sent = send(wired.cart)

    assert sent.outcome == RETRY
    assert sent.order.status == OrderStatus.NEW
    assert sent.order.delivery_uncertain is True
    assert "asks the warehouse" in sent.message


def test_a_long_rate_limit_means_the_warehouse_did_not_take_it_and_it_is_closed(wired):
    wired.bergen.fail_next(1, status=429, headers={"Retry-After": "120"}, path_contains="/orders", method="POST")

    sent = send(wired.cart)

    assert sent.outcome == NOT_SENT
    assert "rate limiting" in sent.message
    assert sent.order.status == OrderStatus.CANCELED
    assert sent.order.delivery_uncertain is False
