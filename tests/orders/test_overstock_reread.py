"""Overstock lists orders by creation window only: its orders not yet shipped are read again by their
windows once a day, so that a line it cancels later reaches the warehouse as fewer units (Overstock and
Bergen sandboxes over HTTP, counted from Bergen's own store)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django_q.models import Schedule

from integrations.models import CartConnection
from orders.models import Order, OrderChange, OrderStatus
from orders.services.intake.reread import reread_windows
from sync.reread import cart_connection_reread_orders
from sync.schedules import schedule_name, schedules_reconcile
from tests.factories import CartConnectionFactory, ShippingMethodMapFactory
from tests.orders.helpers import ago, sync

LINES = [
    {"partner_sku": "SKU-1", "option_sku": "OPT-1", "quantity": 1},
    {"partner_sku": "SKU-2", "option_sku": "OPT-2", "quantity": 1},
]


@pytest.fixture
def overstock_cart(wired, overstock_sandbox, settings) -> CartConnection:
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    ShippingMethodMapFactory(warehouse=wired.wms, cart_method="UPS GROUND", ship_code="UPS:Ground")
    return CartConnectionFactory(
        merchant=wired.merchant,
        warehouse=wired.wms,
        platform="overstock",
        api_base_url=overstock_sandbox.base_url,
        sandbox_tooling=True,
        credentials_values={"username": overstock_sandbox.username, "password": overstock_sandbox.password},
        settings={"warehouse_name": overstock_sandbox.warehouses[0]},
        earliest_order_date=(ago(days=20)).date(),
    )


def delivered(overstock_cart, overstock_sandbox, number: str = "OS-5001", hours: float = 3) -> Order:
    overstock_sandbox.add_order(number, lines=LINES, created=ago(hours=hours))
    run = sync(overstock_cart)
    order = Order.objects.get(cart_connection=overstock_cart, cart_order_id=number)
    assert order.status == OrderStatus.AT_WMS, (run.error, order.hold_reason)
    return order


def units_at_bergen(wired, order: Order) -> list[tuple[str, int]]:
    return [(i["itemIdentifier"]["sku"], i["qty"]) for i in wired.bergen.order(order.cust_ref)["orderItems"]]


def test_a_line_overstock_cancels_later_reaches_the_bergen_order_as_fewer_units(
    wired, overstock_cart, overstock_sandbox
):
    order = delivered(overstock_cart, overstock_sandbox)
    assert units_at_bergen(wired, order) == [("SKU-1", 1), ("SKU-2", 1)]
    overstock_sandbox.cancel_line("OS-5001", 2)

    sync(overstock_cart)  # the next import reads a later window: the order is not listed again
    assert not order.changes.exists()

    run = cart_connection_reread_orders(connection=overstock_cart)

    assert run.counts["reread_changed"] == 1 and run.counts["changes_applied"] == 1, run.error
    assert units_at_bergen(wired, order) == [("SKU-1", 1)]
    change = order.changes.get()
    assert (change.kind, change.status) == (OrderChange.Kind.CANCEL_LINES, OrderChange.Status.APPLIED)
    assert wired.bergen.duplicate_count() == 0

    again = cart_connection_reread_orders(connection=overstock_cart)  # the next day: nothing new

    assert again.counts["reread_changed"] == 0 and order.changes.count() == 1


def test_a_line_canceled_before_delivery_is_left_out_of_the_send_by_itself_and_said(
    wired, overstock_cart, overstock_sandbox
):
    overstock_sandbox.add_order("OS-5101", lines=LINES, created=ago(hours=3))
    overstock_sandbox.cancel_line("OS-5101", 2)

    run = sync(overstock_cart)

    order = Order.objects.get(cart_connection=overstock_cart, cart_order_id="OS-5101")
    assert order.status == OrderStatus.AT_WMS, (run.error, order.hold_reason)
    assert units_at_bergen(wired, order) == [("SKU-1", 1)]
    delivered_line = order.events.get(code="delivered").message
    assert "Sent without what was canceled at the cart: line 2 (SKU-2)" in delivered_line
    assert not order.problems.filter(resolved_at__isnull=True).exists()


def test_only_recent_orders_not_yet_shipped_are_read_again_by_their_hours(wired, overstock_cart, overstock_sandbox):
    for number, hours in (("OS-6001", 3), ("OS-6002", 15 * 24), ("OS-6003", 30)):
        overstock_sandbox.add_order(number, lines=LINES, created=ago(hours=hours))
    sync(overstock_cart)
    recent, old, shipped = (Order.objects.get(cart_order_id=n) for n in ("OS-6001", "OS-6002", "OS-6003"))
    assert {o.status for o in (recent, old, shipped)} == {OrderStatus.AT_WMS}
    Order.objects.filter(pk=shipped.pk).update(status=OrderStatus.SHIPPED)

    windows = reread_windows(connection=overstock_cart, now=recent.ordered_at + timedelta(hours=3))

    hour = recent.ordered_at.replace(minute=0, second=0, microsecond=0)
    assert windows == [(hour, hour + timedelta(hours=1))]
    assert not any(start <= old.ordered_at < end for start, end in windows)


def test_a_cart_that_lists_by_creation_gets_a_daily_reread_schedule_and_others_do_not(wired, overstock_cart):
    schedules_reconcile()

    reread = Schedule.objects.get(name=schedule_name("reread", overstock_cart.pk))
    assert (reread.func, reread.minutes) == ("orders.tasks.reread_orders_task", 24 * 60)
    assert not Schedule.objects.filter(name=schedule_name("reread", wired.cart.pk)).exists()
