"""A "duplicate reference" answer, or an order found under the reference of an interrupted send, counts as
delivered only when the warehouse's order is this one (order number, lines and ship-to); otherwise the
order is held with a new reference that Retry sends it under. Against the Bergen sandbox, both delivery
paths: the batched one (a sync) and the one-at-a-time one (Retry, uncertain sends)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from integrations.connectors.canonical import Address, WarehouseOrder, WarehouseOrderLine, WarehouseOrderRef
from integrations.services import warehouse_connector_for
from orders.models import HoldCode, Order, OrderEvent, OrderStatus, Problem
from orders.services.delivery.deliver import pending_orders_deliver
from orders.services.delivery.holds import orders_retry
from orders.services.delivery.reference_check import order_differences
from orders.services.translation.translate import warehouse_order_for
from tests.orders.helpers import bergen_post_order, import_only, order_for, order_posts, seed, sync

REFUSED = "already used at the warehouse by another order"


def test_a_duplicate_answer_for_another_orders_reference_holds_the_order_with_a_new_reference(wired):
    bergen_post_order(wired.bergen, "1001")  # another store's order #1001, at the same customer
    cart_order = seed(wired.squarespace, "1001")

    run = sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.ERROR
    assert order.hold_code == HoldCode.REFERENCE_TAKEN
    assert order.delivery_uncertain is False and order.delivered_at is None
    assert run.counts.get("delivered", 0) == 0 and run.counts["held"] == 1
    assert order.cust_ref not in ("1001", None) and order.cust_ref.startswith("1001-")
    assert f"Reference 1001 {REFUSED}" in order.hold_reason
    assert f"new reference {order.cust_ref}: Retry sends it under that reference" in order.hold_reason
    assert "order number, lines and ship-to differ" not in order.hold_reason  # the order number is the same
    assert "lines and ship-to differ" in order.hold_reason
    assert "Grace" not in order.hold_reason and "Navy" not in order.hold_reason  # never the other order's values
    assert order.warehouse_payload["referenceNum"] == order.cust_ref  # the preview shows what Retry sends
    assert Problem.objects.filter(order=order, status=Problem.Status.OPEN, reason_code=HoldCode.REFERENCE_TAKEN)
    assert [o["poNum"] for o in wired.bergen.orders] == ["1001"]  # only the other store's


def test_retry_sends_a_held_order_under_its_new_reference(wired):
    bergen_post_order(wired.bergen, "1001")
    cart_order = seed(wired.squarespace, "1001")
    sync(wired.cart)
    proposed = order_for(wired.cart, cart_order).cust_ref

    counts = orders_retry(order_ids=[order_for(wired.cart, cart_order).pk])

    order = order_for(wired.cart, cart_order)
    assert counts["delivered"] == 1
    assert order.status == OrderStatus.AT_WMS and order.cust_ref == proposed
    assert order.hold_code == "" and order.hold_reason == ""
    assert sorted(wired.bergen.orders_by_reference()) == sorted(["1001", proposed])
    assert wired.bergen.order(proposed)["poNum"] == "1001"
    assert not Problem.objects.filter(order=order, status=Problem.Status.OPEN)


def test_a_reference_taken_again_moves_on_to_the_next_candidate_never_back(wired):
    bergen_post_order(wired.bergen, "1001")
    cart_order = seed(wired.squarespace, "1001")
    sync(wired.cart)
    first_proposal = order_for(wired.cart, cart_order).cust_ref
    bergen_post_order(wired.bergen, first_proposal, po_number="77")  # taken too, meanwhile

    orders_retry(order_ids=[order_for(wired.cart, cart_order).pk])

    order = order_for(wired.cart, cart_order)
    assert order.hold_code == HoldCode.REFERENCE_TAKEN
    assert order.cust_ref not in ("1001", first_proposal)
    assert f"Reference {first_proposal} {REFUSED}" in order.hold_reason
    assert "order number, lines and ship-to differ" in order.hold_reason


def test_a_duplicate_answer_for_this_very_order_counts_as_delivered(wired):
    cart_order = seed(wired.squarespace, "1001")
    import_only(wired.cart, wired.wms)
    order = order_for(wired.cart, cart_order)
    connector = warehouse_connector_for(connection=wired.wms)
    connector.submit_order(
        warehouse_order_for(order=order, lines=list(order.lines.all()))
    )  # an earlier send, forgotten by us

    counts = pending_orders_deliver(cart_connection_id=wired.cart.pk, connector=connector, run=None)

    order.refresh_from_db()
    assert counts["delivered"] == 1 and counts["held"] == 0
    assert order.status == OrderStatus.AT_WMS and order.cust_ref == "1001"
    assert order.warehouse_order_id == str(wired.bergen.order("1001")["readOnly"]["orderId"])
    assert len(wired.bergen.orders) == 1
    last = OrderEvent.objects.filter(order=order, code="delivered").last()
    assert "it is this order (its order number, lines and ship-to match)" in last.message


def test_an_uncertain_order_found_under_its_reference_but_not_matching_is_held_not_delivered(wired):
    cart_order = seed(wired.squarespace, "1001")
    wired.bergen.fail_next(1, mode="drop", path_contains="/orders", method="POST")  # sent, never stored
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    assert order.delivery_uncertain is True and not wired.bergen.orders
    bergen_post_order(wired.bergen, "1001")  # meanwhile another store's #1001 takes the reference
    Order.objects.filter(pk=order.pk).update(next_attempt_at=None)

    run = sync(wired.cart)

    order.refresh_from_db()
    assert order.status == OrderStatus.ERROR and order.hold_code == HoldCode.REFERENCE_TAKEN
    assert order.delivery_uncertain is False  # the reference is another order's: ours never got there
    assert run.counts.get("delivered", 0) == 0
    assert len(order_posts(wired.bergen)) == 2  # the lost send and the other store's; nothing sent again
    assert order.cust_ref != "1001" and f"Reference 1001 {REFUSED}" in order.hold_reason


def test_an_uncertain_order_found_and_matching_is_delivered_without_a_second_send(wired):
    cart_order = seed(wired.squarespace, "1001")
    wired.bergen.fail_next(1, status=500, mode="after", path_contains="/orders", method="POST")
    sync(wired.cart)
    Order.objects.filter(pk=order_for(wired.cart, cart_order).pk).update(next_attempt_at=None)

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.AT_WMS and order.cust_ref == "1001"
    assert len(order_posts(wired.bergen)) == 1
    delivered = OrderEvent.objects.filter(order=order, code="delivered").last()
    assert "after an interrupted send, and it is this order" in delivered.message


def test_a_duplicate_answer_whose_order_cannot_be_read_back_is_asked_again_not_counted(wired):
    bergen_post_order(wired.bergen, "1001")
    cart_order = seed(wired.squarespace, "1001")
    wired.bergen.fail_next(1, status=400, path_contains="/orders", method="GET")  # the read-back is refused

    run = sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.NEW and order.delivery_uncertain is True
    assert run.counts.get("delivered", 0) == 0 and run.counts["retry"] == 1
    assert "could not be read back" in order.last_error


def sent_order(**changes) -> WarehouseOrder:
    order = WarehouseOrder(
        cust_ref="1001",
        cust_po_no="#1001",
        ship_to=Address(first_name="Ada", last_name="Lovelace", address_1="1 Main St", city="Newark", zip="07102"),
        ship_code="UPS:Ground",
        items=[
            WarehouseOrderLine(line_no=1, sku="SKU-1", quantity=1, price=Decimal("10")),
            WarehouseOrderLine(line_no=2, sku="SKU-1", quantity=1),
        ],
    )
    order.ship_to.country = "US"
    for name, value in changes.items():
        setattr(order, name, value)
    return order


def found(**changes) -> WarehouseOrderRef:
    ref = WarehouseOrderRef(
        "7",
        "1001",
        cust_po_no="1001",
        ship_to=Address(
            first_name="ADA LOVELACE", address_1="1 Main St.", city="newark", zip="07102-1234", country="us"
        ),
        items=[WarehouseOrderLine(line_no=1, sku="sku-1", quantity=2)],
    )
    for name, value in changes.items():
        setattr(ref, name, value)
    return ref


def test_the_same_order_read_back_in_the_warehouses_own_spelling_matches():
    assert order_differences(sent_order(), found()) == []


@pytest.mark.parametrize(
    ("changes", "differs"),
    [
        ({"cust_po_no": "1002"}, ["order number"]),
        ({"cust_po_no": None}, ["order number"]),  # not read back: cannot be verified
        ({"items": [WarehouseOrderLine(line_no=1, sku="SKU-1", quantity=1)]}, ["lines"]),
        ({"items": [WarehouseOrderLine(line_no=1, sku="SKU-2", quantity=2)]}, ["lines"]),
        ({"items": None}, ["lines"]),
        (
            {"ship_to": Address(first_name="Ada Lovelace", address_1="2 Main St", city="Newark", zip="07102")},
            ["ship-to"],
        ),
        (
            {"ship_to": Address(first_name="Ada Lovelace", address_1="1 Main St", city="Newark", zip="07103")},
            ["ship-to"],
        ),
        ({"ship_to": None}, ["ship-to"]),
    ],
)
def test_any_difference_or_anything_not_read_back_makes_it_another_order(changes, differs):
    if "ship_to" in changes and changes["ship_to"] is not None:
        changes["ship_to"].country = "US"
    assert order_differences(sent_order(), found(**changes)) == differs
