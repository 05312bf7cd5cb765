"""Tracking counts as told to the cart only when the cart shows it: after a push the cart's order is
read back; a number it does not show leaves the parcel unverified and the order shipped (not
confirmed), is checked again after the backoff (a number that appears later is accepted without a
second push), and after a few checks becomes a problem for a person. Against the Squarespace
sandbox, which is made to answer a fulfilment with 204 while storing nothing."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from integrations.connectors.errors import TemporaryError
from integrations.services import cart_connector_for
from orders.models import Order, OrderEvent, OrderStatus, Problem, Shipment
from orders.services.tracking.push import cart_tracking_push, shipments_resend
from sync.return_path import warehouse_sync_shipments
from tests.orders.tracking_helpers import (
    TWO_SKU_1,
    codes,
    deliver,
    fulfillment_posts,
    make_due,
    package,
    run_shipments,
    ship,
)


def swallow_next_fulfilment(squarespace: Any, count: int = 1) -> None:
    """The cart answers the next fulfilment(s) 204, as if taken, and stores nothing."""
    squarespace.fail_next(count, status=204, body=b"", path_contains="/fulfillments", method="POST")


def add_at_cart(squarespace: Any, order: Order, number: str) -> None:
    """Someone adds the tracking at the cart by hand (or the cart applies it late)."""
    entry = {"carrierName": "UPS", "service": "Ground", "trackingNumber": number, "shipDate": "2024-05-02T08:00:00Z"}
    with squarespace.lock:
        squarespace.orders[order.cart_order_id]["fulfillments"] = [entry]


def test_tracking_the_cart_shows_after_the_push_is_verified_and_confirms_the_order(wired):
    order = deliver(wired)
    ship(wired, order.cust_ref, package("1ZVRFY0001", ("SKU-1", 1)))

    _, run = run_shipments(wired)

    order.refresh_from_db()
    assert run.counts["verified"] == 1 and run.counts["unverified"] == 0, run.error
    assert run.counts["shipments_pushed"] == 1  # the existing keys stay
    assert order.shipments.get().push_status == Shipment.PushStatus.ACCEPTED
    assert order.status == OrderStatus.CONFIRMED
    steps = [c for c in codes(order) if c.startswith("tracking") or c == "confirmed"]
    assert steps == ["tracking_sent", "tracking_accepted", "confirmed"]
    assert "shows tracking 1ZVRFY0001" in OrderEvent.objects.get(order=order, code="tracking_accepted").message


def test_a_cart_that_answers_ok_but_stores_no_tracking_leaves_the_parcel_unverified_and_the_order_shipped(wired):
    order = deliver(wired)
    ship(wired, order.cust_ref, package("1ZSWLW0001", ("SKU-1", 1)))
    swallow_next_fulfilment(wired.squarespace)

    _, run = run_shipments(wired)

    parcel = order.shipments.get()
    order.refresh_from_db()
    assert run.counts["unverified"] == 1 and run.counts["verified"] == 0, run.error
    assert run.counts["shipments_pushed"] == 1
    assert parcel.push_status == Shipment.PushStatus.UNVERIFIED
    assert parcel.cart_accepted_at is None
    assert parcel.push_attempts == 1
    assert parcel.next_push_at is not None and parcel.next_push_at > timezone.now()
    assert "Sent tracking 1ZSWLW0001" in parcel.last_push_error
    assert "shows no tracking number" in parcel.last_push_error
    assert order.status == OrderStatus.SHIPPED
    assert wired.squarespace.fulfillments_for(order.cart_order_id) == []
    assert codes(order)[-2:] == ["tracking_sent", "tracking_unverified"]
    assert not Problem.objects.filter(order=order).exists()  # one check: not yet a person's problem


def test_an_unverified_parcel_is_sent_again_after_the_backoff_and_accepted_once_the_cart_shows_it(wired):
    order = deliver(wired)
    ship(wired, order.cust_ref, package("1ZAGAN0001", ("SKU-1", 1)))
    swallow_next_fulfilment(wired.squarespace)
    run_shipments(wired)
    parcel = order.shipments.get()

    _, too_early = run_shipments(wired)
    assert len(fulfillment_posts(wired.squarespace)) == 1  # inside the backoff: nothing sent
    assert too_early.counts["unverified"] == 0

    make_due(parcel)
    _, later = run_shipments(wired)

    parcel.refresh_from_db()
    order.refresh_from_db()
    assert later.counts["verified"] == 1 and later.counts["shipments_pushed"] == 1, later.error
    assert len(fulfillment_posts(wired.squarespace)) == 2
    assert parcel.push_status == Shipment.PushStatus.ACCEPTED and parcel.last_push_error == ""
    assert order.status == OrderStatus.CONFIRMED


def test_a_number_that_appears_at_the_cart_later_is_accepted_without_a_second_push(wired):
    order = deliver(wired)
    ship(wired, order.cust_ref, package("1ZLATE0001", ("SKU-1", 1)))
    swallow_next_fulfilment(wired.squarespace)
    run_shipments(wired)
    add_at_cart(wired.squarespace, order, "1zlate 0001")  # as a person typed it
    make_due(order.shipments.get())

    _, later = run_shipments(wired)

    order.refresh_from_db()
    assert later.counts["verified"] == 1 and later.counts["tracking_already_at_cart"] == 1, later.error
    assert later.counts["shipments_pushed"] == 0
    assert len(fulfillment_posts(wired.squarespace)) == 1
    assert order.shipments.get().push_status == Shipment.PushStatus.ACCEPTED
    assert order.status == OrderStatus.CONFIRMED


def test_after_the_checks_are_used_up_a_problem_says_what_was_sent_and_what_the_cart_shows_and_nothing_is_resent(
    wired, settings
):
    settings.TRACKING_VERIFY_ATTEMPTS = 3
    order = deliver(wired)
    ship(wired, order.cust_ref, package("1ZPRBL0001", ("SKU-1", 1)))
    swallow_next_fulfilment(wired.squarespace, count=10)
    parcel = order.shipments.none()
    for _ in range(3):
        run_shipments(wired)
        parcel = order.shipments.get()
        make_due(parcel)

    problem = Problem.objects.get(order=order, status=Problem.Status.OPEN)
    assert problem.reason_code == "tracking_unverified"
    assert "1ZPRBL0001" in problem.message and "shows no tracking number" in problem.message
    assert "Resend tracking" in problem.message
    assert len(fulfillment_posts(wired.squarespace)) == 3

    _, checked = run_shipments(wired)  # used up: read again, not resent

    problem.refresh_from_db()
    assert len(fulfillment_posts(wired.squarespace)) == 3
    assert checked.counts["unverified"] == 1 and checked.counts["shipments_pushed"] == 0
    assert problem.count == 2 and problem.status == Problem.Status.OPEN
    assert OrderEvent.objects.filter(order=order, code="tracking_unverified").count() == 4

    add_at_cart(wired.squarespace, order, "1ZPRBL0001")
    make_due(order.shipments.get())
    run_shipments(wired)

    problem.refresh_from_db()
    order.refresh_from_db()
    assert problem.status == Problem.Status.RESOLVED
    assert order.status == OrderStatus.CONFIRMED
    assert len(fulfillment_posts(wired.squarespace)) == 3


def test_resend_tracking_counts_the_checks_afresh(wired, settings):
    settings.TRACKING_VERIFY_ATTEMPTS = 1
    order = deliver(wired)
    ship(wired, order.cust_ref, package("1ZFRSH0001", ("SKU-1", 1)))
    swallow_next_fulfilment(wired.squarespace)
    run_shipments(wired)
    assert Problem.objects.filter(order=order, status=Problem.Status.OPEN).exists()

    shipments_resend(shipment_ids=[order.shipments.get().pk])
    _, resent = run_shipments(wired)

    order.refresh_from_db()
    assert resent.counts["verified"] == 1 and resent.counts["shipments_pushed"] == 1, resent.error
    assert len(fulfillment_posts(wired.squarespace)) == 2
    assert order.status == OrderStatus.CONFIRMED
    assert not Problem.objects.filter(order=order, status=Problem.Status.OPEN).exists()


def test_counts_split_verified_and_unverified_parcels_of_one_run(wired):
    order = deliver(wired, lines=TWO_SKU_1)
    ship(wired, order.cust_ref, package("1ZSPLT0001", ("SKU-1", 1)), package("1ZSPLT0002", ("SKU-1", 1)))
    swallow_next_fulfilment(wired.squarespace)  # the first parcel's fulfilment is lost at the cart

    _, run = run_shipments(wired)

    order.refresh_from_db()
    statuses = {p.tracking_numbers[0]: p.push_status for p in order.shipments.all()}
    assert (run.counts["verified"], run.counts["unverified"], run.counts["shipments_pushed"]) == (1, 1, 2)
    assert statuses == {"1ZSPLT0001": Shipment.PushStatus.UNVERIFIED, "1ZSPLT0002": Shipment.PushStatus.ACCEPTED}
    assert order.status == OrderStatus.SHIPPED


class ReadBackFails:
    """The real Squarespace connector, except that reading the order after the push fails."""

    def __init__(self, connector: Any) -> None:
        self.connector, self.reads = connector, 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.connector, name)

    def existing_tracking_numbers(self, cart_order_id: str, **kwargs: Any) -> set[str]:
        self.reads += 1
        if self.reads > 1:
            raise TemporaryError("Squarespace did not answer (timed out)")
        return self.connector.existing_tracking_numbers(cart_order_id, **kwargs)


def test_a_read_back_that_fails_counts_as_unverified_and_is_checked_again_without_a_resend(wired):
    order = deliver(wired)
    ship(wired, order.cust_ref, package("1ZRDBK0001", ("SKU-1", 1)))
    warehouse_sync_shipments(warehouse=wired.wms)  # the parcel in; pushed below, with the failing read
    parcel = order.shipments.get()
    connector = ReadBackFails(cart_connector_for(connection=wired.cart))

    counts = cart_tracking_push(connection=wired.cart, connector=connector, run=None)  # type: ignore[arg-type]

    parcel.refresh_from_db()
    assert counts["unverified"] == 1 and counts["verified"] == 0
    assert parcel.push_status == Shipment.PushStatus.UNVERIFIED
    assert "reading the cart's order back failed" in parcel.last_push_error
    assert "timed out" in parcel.last_push_error
    make_due(parcel)
    posts = len(fulfillment_posts(wired.squarespace))

    _, later = run_shipments(wired)  # the number did reach the cart: accepted on the first read

    order.refresh_from_db()
    assert later.counts["verified"] == 1 and later.counts["shipments_pushed"] == 0, later.error
    assert len(fulfillment_posts(wired.squarespace)) == posts
    assert order.status == OrderStatus.CONFIRMED
