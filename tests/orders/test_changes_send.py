"""Changes at the cart passed on to the warehouse, once in effect, and confirmed there: counted from the
warehouse sandbox's own store and requests, not only from our database."""

from __future__ import annotations

import copy
from datetime import time

from django.utils import timezone

from orders.models import Order, OrderChange, OrderStatus, Problem
from orders.services.records.history import order_set_status
from tests.orders.helpers import order_for, seed, sync
from tests.orders.tracking_helpers import fulfillment_posts, package, run_shipments, ship
from tests.portal.conftest import client_of, merchant_user

CANCELED_AT_BERGEN = 2  # Extensiv's readOnly.status for a canceled order


def delivered(wired, settings, **kwargs):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    cart_order = seed(wired.squarespace, "1001", **kwargs)
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.AT_WMS
    return cart_order, order


def at_bergen(wired, order: Order) -> dict:
    return wired.bergen.order(order.cust_ref)


def test_a_new_ship_to_reaches_the_warehouse_and_the_order_follows(wired, settings):
    cart_order, order = delivered(wired, settings)
    address = copy.deepcopy(cart_order["shippingAddress"])
    address.update(address1="99 New Street", city="Trenton")

    wired.squarespace.update_order(cart_order["id"], shippingAddress=address)
    run = sync(wired.cart)

    held = at_bergen(wired, order)["shipTo"]
    assert (held["address1"], held["city"]) == ("99 New Street", "Trenton")
    [change] = order.changes.all()
    assert change.status == OrderChange.Status.APPLIED and run.counts["changes_applied"] == 1
    order.refresh_from_db()
    assert (order.ship_address_1, order.ship_city) == ("99 New Street", "Trenton")
    assert order.events.filter(code="change_applied").exists()


def test_a_cancellation_at_the_cart_cancels_it_at_the_warehouse(wired, settings):
    cart_order, order = delivered(wired, settings)

    wired.squarespace.update_order(cart_order["id"], fulfillmentStatus="CANCELED")
    sync(wired.cart)

    assert at_bergen(wired, order)["readOnly"]["status"] == CANCELED_AT_BERGEN
    order.refresh_from_db()
    assert order.status == OrderStatus.CANCELED
    assert order.changes.get().status == OrderChange.Status.APPLIED


def test_fewer_items_take_units_off_at_the_warehouse(wired, settings):
    cart_order, order = delivered(wired, settings, lines=[{"sku": "SKU-1", "quantity": 3, "price": "5.00"}])
    items = copy.deepcopy(cart_order["lineItems"])
    items[0]["quantity"] = 1

    wired.squarespace.update_order(cart_order["id"], lineItems=items)
    sync(wired.cart)

    assert [(i["itemIdentifier"]["sku"], i["qty"]) for i in at_bergen(wired, order)["orderItems"]] == [("SKU-1", 1)]
    assert order.lines.get().quantity == 1


def test_once_picking_started_a_cancellation_is_too_late_and_a_person_is_told(wired, settings):
    cart_order, order = delivered(wired, settings)
    wired.bergen.advance(order.cust_ref, "picking")

    wired.squarespace.update_order(cart_order["id"], fulfillmentStatus="CANCELED")
    run = sync(wired.cart)

    assert at_bergen(wired, order)["readOnly"]["status"] != CANCELED_AT_BERGEN
    change = order.changes.get()
    assert change.status == OrderChange.Status.TOO_LATE and run.counts["changes_too_late"] == 1
    problem = Problem.objects.get(order=order, status=Problem.Status.OPEN)
    assert "may ship" in problem.message and "intercept" in problem.message
    assert "Deadline not known: set the warehouse's daily carrier cut-off" in problem.message
    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WMS


def test_a_too_late_change_gives_the_warehouse_s_next_carrier_cut_off_as_its_deadline(wired, settings):
    wired.wms.time_zone, wired.wms.daily_cutoff = "America/New_York", time(16, 0)
    wired.wms.save()
    cart_order, order = delivered(wired, settings)
    wired.bergen.advance(order.cust_ref, "picking")

    wired.squarespace.update_order(cart_order["id"], fulfillmentStatus="CANCELED")
    sync(wired.cart)

    problem = Problem.objects.get(order=order, status=Problem.Status.OPEN)
    expected = wired.wms.next_cutoff(timezone.now())
    assert expected.hour == 16 and expected > timezone.now()
    assert f"Deadline: before {expected:%Y-%m-%d} 16:00 (America/New_York)" in problem.message


def test_a_change_judged_too_late_is_not_recorded_again_when_the_cart_moves_for_another_reason(wired, settings):
    # Found by chaos_sync: each tracking push moves the cart's order, and the same too-late edit was
    # recorded and judged again after each one (a history entry and a "too late" each time).
    cart_order, order = delivered(wired, settings)
    wired.bergen.advance(order.cust_ref, "picking")
    address = copy.deepcopy(cart_order["shippingAddress"])
    address.update(address1="99 New Street")
    wired.squarespace.update_order(cart_order["id"], shippingAddress=address)
    sync(wired.cart)
    assert order.changes.get().status == OrderChange.Status.TOO_LATE

    billing = copy.deepcopy(cart_order["billingAddress"])
    billing.update(city="Camden")
    wired.squarespace.update_order(cart_order["id"], billingAddress=billing)  # the order moves, the edit stays
    sync(wired.cart)

    assert order.changes.count() == 1
    assert order.events.filter(code="change_too_late").count() == 1

    address.update(address1="7 Other Street")  # a new difference is a new change
    wired.squarespace.update_order(cart_order["id"], shippingAddress=address)
    sync(wired.cart)
    assert order.changes.count() == 2


def test_a_shipped_order_is_too_late_without_a_call(wired, settings):
    cart_order, order = delivered(wired, settings)
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.SHIPPED)
    wired.bergen.reset()

    wired.squarespace.update_order(cart_order["id"], fulfillmentStatus="CANCELED")
    sync(wired.cart)

    assert order.changes.get().status == OrderChange.Status.TOO_LATE
    assert wired.bergen.requests_to("/canceler") == []
    assert "plan a return" in Problem.objects.get(order=order).message


def test_a_lost_answer_to_the_cancel_is_not_cancelled_twice(wired, settings):
    cart_order, order = delivered(wired, settings)
    wired.bergen.fail_next(1, status=500, path_contains="/canceler", method="POST", mode="after")

    wired.squarespace.update_order(cart_order["id"], fulfillmentStatus="CANCELED")
    sync(wired.cart)
    change = order.changes.get()
    assert (change.status, change.uncertain) == (OrderChange.Status.PENDING, True)
    OrderChange.objects.filter(pk=change.pk).update(next_attempt_at=None)
    sync(wired.cart)

    change.refresh_from_db()
    assert change.status == OrderChange.Status.APPLIED
    assert len(wired.bergen.requests_to("/canceler", "POST")) == 1, "read first: already canceled, not sent again"
    assert at_bergen(wired, order)["readOnly"]["status"] == CANCELED_AT_BERGEN


def test_no_clear_answer_after_the_last_try_is_a_problem(wired, settings):
    settings.CHANGE_ATTEMPTS = 2
    cart_order, order = delivered(wired, settings)
    wired.bergen.fail_next(20, status=503, path_contains=f"/orders/{order.warehouse_order_id}")

    wired.squarespace.update_order(cart_order["id"], fulfillmentStatus="CANCELED")
    sync(wired.cart)
    OrderChange.objects.filter(order=order).update(next_attempt_at=None)
    sync(wired.cart)

    change = order.changes.get()
    assert change.status == OrderChange.Status.UNCONFIRMED
    assert "not confirmed after 2 tries" in Problem.objects.get(order=order).message
    assert at_bergen(wired, order)["readOnly"]["status"] != CANCELED_AT_BERGEN


def test_both_order_pages_show_the_change_and_its_outcome(wired, settings, admin_client):
    cart_order, order = delivered(wired, settings)
    wired.bergen.advance(order.cust_ref, "picking")
    wired.squarespace.update_order(cart_order["id"], fulfillmentStatus="CANCELED")
    sync(wired.cart)

    admin_page = admin_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    merchant_page = client_of(merchant_user(wired.merchant, "shopkeeper")).get(f"/merchant/orders/{order.pk}/")
    for page in (admin_page, merchant_page.content.decode()):
        assert "Canceled at the cart" in page and "too late: the warehouse may ship it" in page


def test_a_too_late_cancellation_stays_a_problem_once_the_order_ships(wired, settings):
    cart_order, order = delivered(wired, settings)
    wired.bergen.advance(order.cust_ref, "picking")
    wired.squarespace.update_order(cart_order["id"], fulfillmentStatus="CANCELED")
    sync(wired.cart)

    order_set_status(order=order, status=OrderStatus.SHIPPED, message="Shipped.", code="shipped")

    problem = Problem.objects.get(order=order, reason_code="change_not_applied")
    assert problem.status == Problem.Status.OPEN, "it shipped although canceled: a person still has to act"


def test_an_order_canceled_at_the_cart_that_shipped_anyway_gets_no_tracking_push(wired, settings):
    cart_order, order = delivered(wired, settings)
    wired.bergen.advance(order.cust_ref, "picking")
    wired.squarespace.update_order(cart_order["id"], fulfillmentStatus="CANCELED")
    sync(wired.cart)  # too late: a problem
    ship(wired, order.cust_ref, package("1ZCANCELED", ("SKU-1", 1)))

    run_shipments(wired)
    run_shipments(wired)

    assert fulfillment_posts(wired.squarespace) == [], "the cart refuses tracking for an order it canceled"
    [parcel] = order.shipments.all()
    assert parcel.push_status == "canceled_at_cart"
    assert order.events.filter(code="tracking_canceled_at_cart").count() == 1
    assert Problem.objects.get(order=order, reason_code="change_not_applied").status == Problem.Status.OPEN
