"""Changes made at the warehouse show on the order, in the problems list and in the alerts: an order the
warehouse canceled, one it no longer has, one it closed short. Read from the Bergen sandbox over HTTP by
the shipments sync, as a person sees them afterwards."""

from __future__ import annotations

import pytest

from orders.models import Order, OrderEvent, OrderStatus, Problem
from sync.alerts import alerts_send_digests
from tests.orders.helpers import sync
from tests.orders.tracking_helpers import SKU_1_AND_SKU_2, ago, deliver, package, run_shipments, ship, tracking_at_cart
from tests.portal.conftest import client_of, merchant_user


@pytest.fixture(autouse=True)
def _check_settings(settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    settings.WAREHOUSE_CHECK_AFTER_MINUTES = 240
    settings.WAREHOUSE_CHECK_EVERY_MINUTES = 360
    settings.WAREHOUSE_CHECK_PER_RUN = 50


def waited(order: Order, hours: float = 5) -> None:
    """As if the order had been at the warehouse for `hours`."""
    Order.objects.filter(pk=order.pk).update(delivered_at=ago(hours=hours))


def open_problem(order: Order, reason_code: str) -> Problem:
    return Problem.objects.get(order=order, reason_code=reason_code, status=Problem.Status.OPEN)


def pages(wired, admin_client, order: Order) -> list[str]:
    admin_page = admin_client.get(f"/admin/orders/order/{order.pk}/change/")
    merchant_page = client_of(merchant_user(wired.merchant, "shopkeeper")).get(f"/merchant/orders/{order.pk}/")
    assert admin_page.status_code == merchant_page.status_code == 200
    return [admin_page.content.decode(), merchant_page.content.decode()]


def test_an_order_the_warehouse_cancels_is_canceled_here_with_a_problem_an_alert_and_a_line_on_both_pages(
    wired, admin_client, mailoutbox
):
    order = deliver(wired, "7001")
    waited(order)
    wired.bergen.cancel_order(order.cust_ref)

    warehouse_run, _ = run_shipments(wired)

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert warehouse_run.counts["canceled_at_warehouse"] == 1
    problem = open_problem(order, "canceled_at_warehouse")
    assert "canceled at the warehouse" in problem.message and "Ask the warehouse why" in problem.message
    assert order.events.filter(code="canceled_at_warehouse", to_status=OrderStatus.CANCELED).count() == 1
    for page in pages(wired, admin_client, order):
        assert "canceled at the warehouse" in page and "is not sent again" in page
    alerts_send_digests()
    [mail] = mailoutbox
    assert "[canceled_at_warehouse]" in mail.body and "#7001" in mail.body


def test_an_order_canceled_at_the_warehouse_is_never_sent_again(wired):
    order = deliver(wired, "7002")
    waited(order)
    wired.bergen.cancel_order(order.cust_ref)
    run_shipments(wired)

    wired.squarespace.add_order(order_number="7003", created_on=ago(minutes=3))  # a run with work to do
    sync(wired.cart)

    assert len(wired.bergen.orders_by_reference()[order.cust_ref]) == 1
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELED


def test_an_order_is_read_at_the_warehouse_only_after_the_wait_and_within_the_bound(wired, settings):
    fresh = deliver(wired, "7010")
    first, second = deliver(wired, "7011"), deliver(wired, "7012")
    waited(first, hours=6)
    waited(second, hours=5)
    for order in (fresh, first, second):
        wired.bergen.cancel_order(order.cust_ref)
    settings.WAREHOUSE_CHECK_PER_RUN = 1

    warehouse_run, _ = run_shipments(wired)

    statuses = {o.order_number: o.status for o in Order.objects.filter(pk__in=[fresh.pk, first.pk, second.pk])}
    assert statuses == {"7010": OrderStatus.AT_WMS, "7011": OrderStatus.CANCELED, "7012": OrderStatus.AT_WMS}
    assert warehouse_run.counts["warehouse_checked"] == 1
    run_shipments(wired)
    assert Order.objects.get(pk=second.pk).status == OrderStatus.CANCELED


def test_an_order_read_lately_is_not_read_again_before_the_interval(wired):
    order = deliver(wired, "7020")
    waited(order)
    run_shipments(wired)  # read: still received there
    wired.bergen.cancel_order(order.cust_ref)

    warehouse_run, _ = run_shipments(wired)

    assert warehouse_run.counts["warehouse_checked"] == 0
    assert Order.objects.get(pk=order.pk).status == OrderStatus.AT_WMS
    Order.objects.filter(pk=order.pk).update(warehouse_checked_at=ago(hours=7))
    run_shipments(wired)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.CANCELED


def test_an_order_the_warehouse_no_longer_has_is_a_problem_and_is_not_resent(wired, admin_client, settings):
    order = deliver(wired, "7030")
    waited(order)
    with wired.bergen.lock:
        wired.bergen.orders.remove(wired.bergen.order(order.cust_ref))

    warehouse_run, _ = run_shipments(wired)
    settings.WAREHOUSE_CHECK_EVERY_MINUTES = 0
    run_shipments(wired)

    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WMS
    assert warehouse_run.counts["gone_at_warehouse"] == 1
    problem = open_problem(order, "gone_at_warehouse")
    assert "rejected or removed by the warehouse" in problem.message and problem.count == 2
    assert order.events.filter(code="gone_at_warehouse").count() == 1  # the history says it once
    assert order.cust_ref not in wired.bergen.orders_by_reference()
    for page in pages(wired, admin_client, order):
        assert "rejected or removed by the warehouse" in page


def test_an_order_closed_with_units_missing_is_shipped_short_with_a_problem(wired, admin_client, mailoutbox):
    order = deliver(wired, "7040", lines=SKU_1_AND_SKU_2)
    waited(order)
    ship(wired, order.cust_ref, package("1Z-SHORT", ("SKU-1", 1)))

    warehouse_run, _ = run_shipments(wired)

    order.refresh_from_db()
    # Nothing more will come: the tracking there is goes to the cart, which accepts it.
    assert (order.status, order.partially_shipped) == (OrderStatus.CONFIRMED, True)
    assert tracking_at_cart(wired.squarespace, order) == ["1Z-SHORT"]
    assert warehouse_run.counts["shipped_short"] == 1
    problem = open_problem(order, "shipped_short")
    assert "shipped short: 1 of 2 units (SKU-2: 0 of 1)" in problem.message
    for page in pages(wired, admin_client, order):
        assert "shipped short: 1 of 2 units" in page
    alerts_send_digests()
    assert "[shipped_short]" in mailoutbox[0].body


def test_an_order_shipped_in_full_is_not_short(wired):
    order = deliver(wired, "7050", lines=SKU_1_AND_SKU_2)
    waited(order)
    ship(wired, order.cust_ref, package("1Z-A", ("SKU-1", 1)), package("1Z-B", ("SKU-2", 1)))

    warehouse_run, _ = run_shipments(wired)

    order.refresh_from_db()
    assert order.status in (OrderStatus.SHIPPED, OrderStatus.CONFIRMED) and not order.partially_shipped
    assert not Problem.objects.filter(order=order).exists()
    assert warehouse_run.counts.get("shipped_short", 0) == 0


def test_a_cancellation_that_was_too_late_and_reached_the_warehouse_after_all_is_not_a_surprise(wired):
    order = deliver(wired, "7060")
    wired.bergen.advance(order.cust_ref, "picking")
    wired.squarespace.update_order(order.cart_order_id, fulfillmentStatus="CANCELED")
    sync(wired.cart)
    assert open_problem(order, "change_not_applied")
    with wired.bergen.lock:  # the warehouse stopped the pick and canceled it as asked
        wired.bergen.order(order.cust_ref)["readOnly"].update(status=2, isClosed=True)
    waited(order)

    warehouse_run, _ = run_shipments(wired)

    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert not Problem.objects.filter(order=order, status=Problem.Status.OPEN).exists()
    event = OrderEvent.objects.filter(order=order, code="canceled_at_warehouse").get()
    assert "as the cart asked" in event.message
    assert warehouse_run.counts["canceled_at_warehouse"] == 1
