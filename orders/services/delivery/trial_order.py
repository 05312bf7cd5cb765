"""Send a test order: check a new integration's SKUs and shipping codes through the whole flow.

The setup guides ask merchants to verify every new integration with test orders. This builds one
that says so everywhere a person looks (order number and warehouse reference start with TEST,
`is_test` is set, the ship-to name says "do not ship"), then runs it through the same
translate / validate / deliver steps as a real order.

A test order that does not reach the warehouse (held, refused, warehouse not usable) is closed as
canceled at once, its hold reason kept on it and in the history: no later sync may send it unattended, and it
does not hold back stock. Send another one once the cause is fixed. Only when a send may have
reached the warehouse (no clear answer) is it left to the next sync, which asks the warehouse
before sending again, as for any order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.connectors.base import WarehouseConnector
from integrations.connectors.canonical import CART_OPEN, Address
from integrations.connectors.errors import ConnectorError
from integrations.models import CartConnection, WMSConnection
from integrations.services import ConnectionNotConfigured, warehouse_connector_for
from integrations.tenancy import CrossMerchantLink
from orders.models import Order, OrderLine, OrderStatus
from orders.services.delivery.claims import DeliveryOutcome
from orders.services.delivery.deliver import order_deliver
from orders.services.intake.prepare import order_prepare
from orders.services.records.history import order_event, order_set_status
from orders.services.tracking.push import TEST_ORDER_MARK
from orders.services.translation.references import TEST_PREFIX
from orders.services.translation.translate import load_context, warehouse_skus

# Marks the rows this module creates (the cart never had these orders).
CART_PAYLOAD_MARK = TEST_ORDER_MARK


class TestOrderOutcome(StrEnum):
    """What `order_send_test` answers, besides the delivery outcomes it passes on."""

    __test__ = False  # not a test class, whatever its name says to pytest

    HELD = "held"
    NOT_SENT = "not_sent"


@dataclass(frozen=True)
class TestOrderLine:
    __test__ = False  # not a test class, whatever its name says to pytest

    sku: str
    quantity: int
    description: str = ""


@dataclass
class SentTestOrder:
    order: Order
    outcome: DeliveryOutcome | TestOrderOutcome  # DELIVERED, HELD, RETRY or NOT_SENT
    message: str

    @property
    def delivered(self) -> bool:
        return self.outcome == DeliveryOutcome.DELIVERED


def default_test_address(*, company: str = "") -> Address:
    """A ship-to that tells the warehouse not to ship it (a person may change it on the form)."""
    return Address(
        first_name="TEST ORDER",
        last_name="do not ship",
        company=company,
        address_1="1 Test Street",
        city="Newark",
        state="NJ",
        zip="07102",
        country="US",
    )


def order_send_test(
    *,
    cart_connection: CartConnection,
    lines: list[TestOrderLine],
    ship_method: str,
    ship_to: Address,
    email: str = "",
    requested_by: str = "",
) -> SentTestOrder:
    """Create a clearly marked test order for the cart connection and send it to its warehouse."""
    if not lines:
        raise ValueError("a test order needs at least one line")
    try:
        warehouse, refused = cart_connection.resolved_warehouse(), ""
    except CrossMerchantLink as exc:
        warehouse, refused = None, str(exc)
    order = _create(cart_connection, lines, ship_method, ship_to, email, warehouse)
    who = f" by {requested_by}" if requested_by else ""
    order_event(
        order=order,
        message=f"Test order created{who} to check SKUs and shipping codes (not from the cart).",
        code="test_order",
        to_status=OrderStatus.NEW,
    )
    if refused:
        return _close(order, TestOrderOutcome.NOT_SENT, refused)
    connector: WarehouseConnector | None = None
    problem = ""
    if warehouse is not None:
        try:
            connector = warehouse_connector_for(connection=warehouse)
        except ConnectionNotConfigured as exc:
            problem = f"The warehouse connection cannot be used: {exc}."
    skus, _note = warehouse_skus(connector=connector)
    ctx = load_context(
        merchant_id=order.merchant_id, warehouse=warehouse, warehouse_skus=skus, warehouse_connector=connector
    )
    order_lines = list(order.lines.all())
    if order_prepare(order=order, lines=order_lines, ctx=ctx) == OrderStatus.ERROR:
        return _close(order, TestOrderOutcome.HELD, f"Held: {order.hold_reason}")
    if connector is None:
        return _close(order, TestOrderOutcome.NOT_SENT, problem or "No warehouse is connected for this cart.")
    try:
        outcome = order_deliver(order_id=order.pk, connector=connector)
    except ConnectorError as exc:  # refused credentials or a long rate limit: the warehouse did not take it
        return _close(order, TestOrderOutcome.NOT_SENT, f"The warehouse did not take it: {exc}")
    order.refresh_from_db()
    if outcome == DeliveryOutcome.DELIVERED:
        return SentTestOrder(order, outcome, f"Delivered to {warehouse.platform_label} as {order.cust_ref}.")
    if outcome == DeliveryOutcome.RETRY and not order.delivery_uncertain:
        return _close(order, TestOrderOutcome.NOT_SENT, f"The warehouse could not take it now: {order.last_error}")
    if outcome == DeliveryOutcome.RETRY:
        return SentTestOrder(
            order,
            DeliveryOutcome.RETRY,
            f"No clear answer from the warehouse ({order.last_error}). The next sync asks the warehouse for "
            f"{order.cust_ref} before sending it again.",
        )
    reason = f"Held: {order.hold_reason}" if order.hold_reason else f"Not delivered ({outcome})."
    return _close(order, TestOrderOutcome.HELD, reason)


def _create(
    cart_connection: CartConnection,
    lines: list[TestOrderLine],
    ship_method: str,
    ship_to: Address,
    email: str,
    warehouse: WMSConnection | None,
) -> Order:
    today = timezone.localdate()
    first = _next_number(cart_connection, today)
    for number in range(first, first + 100):
        order_number = f"{TEST_PREFIX}-{today:%Y%m%d}-{number}"
        order = Order(
            merchant_id=cart_connection.merchant_id,
            cart_connection=cart_connection,
            warehouse=warehouse,
            cart_order_id=order_number,
            order_number=order_number,
            cust_po_no=order_number,
            is_test=True,
            cart_status=CART_OPEN,
            ordered_at=timezone.now(),
            customer_email=email,
            orig_ship_code=ship_method.strip(),
            cart_payload={CART_PAYLOAD_MARK: True},
            ship_first_name=ship_to.first_name,
            ship_last_name=ship_to.last_name,
            ship_company=ship_to.company,
            ship_address_1=ship_to.address_1,
            ship_address_2=ship_to.address_2,
            ship_address_3=ship_to.address_3,
            ship_city=ship_to.city,
            ship_state=ship_to.state,
            ship_zip=ship_to.zip,
            ship_country=ship_to.country,
            ship_phone=ship_to.phone,
            ship_e_mail=ship_to.email or email,
        )
        try:
            with transaction.atomic():
                order.save()
                OrderLine.objects.bulk_create(
                    OrderLine(
                        order=order,
                        line_no=index,
                        cart_sku=line.sku.strip(),
                        description=line.description or f"Test item {line.sku.strip()}",
                        quantity=line.quantity,
                        price=Decimal("0"),
                    )
                    for index, line in enumerate(lines, 1)
                )
        except IntegrityError:  # another test order took this number a moment ago
            continue
        return order
    raise RuntimeError(f"no free test order number for cart connection {cart_connection.pk} today")


def _next_number(cart_connection: CartConnection, day: date) -> int:
    prefix = f"{TEST_PREFIX}-{day:%Y%m%d}-"
    taken = Order.objects.filter(cart_connection=cart_connection, cart_order_id__startswith=prefix).values_list(
        "cart_order_id", flat=True
    )
    numbers = [int(value[len(prefix) :]) for value in taken if value[len(prefix) :].isdigit()]
    return max(numbers, default=0) + 1


def _close(order: Order, outcome: TestOrderOutcome, message: str) -> SentTestOrder:
    """Cancel a test order that did not reach the warehouse, so that no sync sends it later."""
    order.refresh_from_db()
    if order.status in (OrderStatus.NEW, OrderStatus.ERROR) and not order.delivery_uncertain:
        # The hold code and reason stay on the row: they say why it was closed (and offer the fix).
        order.next_attempt_at = None
        order_set_status(
            order=order,
            status=OrderStatus.CANCELED,
            message=f"Test order not delivered: {message.removeprefix('Held: ')} "
            "Closed, so that no sync sends it later: "
            "send a new test order once this is fixed.",
            code="test_order_closed",
        )
    return SentTestOrder(order, outcome, message)
