"""A delivered order counts as verified only when the warehouse's order under our reference reads back with
the order number, lines and quantities sent: from the create answer where it returns the order (Bergen,
modelled on Extensiv), else one lookup (TradeGecko). Not verified: it stays delivered (never sent again),
its history names what differs, it is read back again in a later orders run and becomes a problem.
Against the sandboxes, both delivery paths, asserting from the sandbox's own store."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from integrations.services import warehouse_connector_for
from orders.models import Order, OrderEvent, OrderStatus, Problem
from orders.services.delivery import verify
from orders.services.delivery.deliver import order_deliver, pending_orders_deliver
from orders.services.delivery.verify import UNVERIFIED_CODE
from tests.factories import CartConnectionFactory, ShippingMethodMapFactory, WMSConnectionFactory
from tests.orders.helpers import ago, import_only, order_for, order_posts, seed, sync

TWO_LINES = [
    {"sku": "SKU-1", "quantity": 2, "price": "10.00", "name": "Widget"},
    {"sku": "SKU-2", "quantity": 1, "price": "5.00", "name": "Gadget"},
]


def lookups(bergen: Any) -> list[Any]:
    """Orders asked for by reference at the Bergen sandbox (`GET /orders?rql=…`)."""
    return [r for r in bergen.requests_to("/orders", "GET") if r.param("rql")]


def events(order: Order, code: str) -> list[OrderEvent]:
    return list(OrderEvent.objects.filter(order=order, code=code).order_by("pk"))


def open_problem(order: Order) -> Problem | None:
    return Problem.objects.filter(order=order, reason_code=UNVERIFIED_CODE, status=Problem.Status.OPEN).first()


def altered_on_create(monkeypatch, bergen: Any, change) -> None:
    """The Bergen sandbox stores (and answers) each new order changed by `change(body)`: a warehouse that
    drops a line or changes a quantity or the PO number."""
    accept = bergen._accept_order

    def altered(body: dict[str, Any], *, refuse_duplicates: bool):
        change(body)
        return accept(body, refuse_duplicates=refuse_duplicates)

    monkeypatch.setattr(bergen, "_accept_order", altered)


# --- Bergen: the create answer is the read-back -------------------------------------------------------


def test_a_batched_delivery_is_verified_from_the_create_answer_without_another_request(wired):
    cart_order = seed(wired.squarespace, "1001", lines=TWO_LINES)

    run = sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    stored = wired.bergen.order(order.cust_ref)
    assert stored["poNum"] == "1001"
    assert sorted((i["itemIdentifier"]["sku"], i["qty"]) for i in stored["orderItems"]) == [("SKU-1", 2), ("SKU-2", 1)]
    assert order.status == OrderStatus.AT_WMS
    assert order.warehouse_verified_at is not None and order.warehouse_verify_next_at is None
    assert (run.counts["verified"], run.counts["unverified"]) == (1, 0)
    assert lookups(wired.bergen) == []  # the 201 answer sufficed
    [verified] = events(order, "verified")
    assert f"order {stored['readOnly']['orderId']} (reference {order.cust_ref})" in verified.message
    assert open_problem(order) is None


def test_a_delivery_one_at_a_time_is_verified_from_the_create_answer(wired):
    cart_order = seed(wired.squarespace, "1001")
    import_only(wired.cart, wired.wms)
    order = order_for(wired.cart, cart_order)
    counts: dict[str, int] = {}

    order_deliver(order_id=order.pk, connector=warehouse_connector_for(connection=wired.wms), counts=counts)

    order.refresh_from_db()
    assert wired.bergen.order(order.cust_ref)["poNum"] == "1001"
    assert order.status == OrderStatus.AT_WMS and order.warehouse_verified_at is not None
    assert counts == {"verified": 1, "unverified": 0}
    assert lookups(wired.bergen) == []
    assert [e.code for e in order.events.order_by("pk")][-2:] == ["delivered", "verified"]


@pytest.mark.parametrize(
    ("change", "named", "not_named"),
    [
        (lambda body: body["orderItems"].pop(), "lines", "order number"),
        (lambda body: body["orderItems"][0].update(qty=5), "lines", "order number"),
        (lambda body: body.update(poNum="99999"), "order number", "lines"),
    ],
    ids=["line dropped", "quantity changed", "po changed"],
)
def test_a_warehouse_order_that_differs_stays_delivered_unverified_with_a_problem_at_once(
    wired, monkeypatch, change, named, not_named
):
    altered_on_create(monkeypatch, wired.bergen, change)
    cart_order = seed(wired.squarespace, "1001", lines=TWO_LINES)

    run = sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.AT_WMS and order.delivered_at is not None  # at the warehouse: not resent
    assert order.warehouse_verified_at is None and order.warehouse_verify_attempts == 1
    assert order.warehouse_verify_next_at is not None
    assert (run.counts["verified"], run.counts["unverified"]) == (0, 1)
    [event] = events(order, UNVERIFIED_CODE)
    assert f"shows {named} different from what was sent" in event.message
    assert not_named not in event.message
    assert "99999" not in event.message and "Grace" not in event.message  # never the warehouse's values
    problem = open_problem(order)
    assert problem is not None and f"shows {named} different from what was sent: check it at the warehouse" in (
        problem.message
    )
    assert len(order_posts(wired.bergen)) == 1


def test_a_differing_order_is_read_back_again_later_and_left_to_a_person_after_the_last_attempt(
    wired, monkeypatch, settings
):
    settings.WAREHOUSE_VERIFY_ATTEMPTS = 2
    altered_on_create(monkeypatch, wired.bergen, lambda body: body["orderItems"][0].update(qty=7))
    cart_order = seed(wired.squarespace, "1001")
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    Order.objects.filter(pk=order.pk).update(warehouse_verify_next_at=ago(seconds=1))

    run = sync(wired.cart)

    order.refresh_from_db()
    assert len(lookups(wired.bergen)) == 1  # the re-check: one lookup
    assert (run.counts["verified"], run.counts["unverified"]) == (0, 1)
    assert order.warehouse_verify_attempts == 2 and order.warehouse_verify_next_at is None
    assert "Left to a person" in events(order, UNVERIFIED_CODE)[-1].message
    assert Problem.objects.filter(order=order, reason_code=UNVERIFIED_CODE).count() == 1
    assert len(order_posts(wired.bergen)) == 1
    sync(wired.cart)
    assert len(lookups(wired.bergen)) == 1  # given up: not read back again


# --- TradeGecko as the warehouse: one lookup ---------------------------------------------------------


@pytest.fixture
def gecko_wired(db, squarespace_sandbox, tradegecko_sandbox):
    """A Squarespace cart delivering to TradeGecko (the sandbox) at a stock location of its own."""
    location = tradegecko_sandbox.add_location("Orderbridge DC")
    for sku in ("SKU-1", "SKU-2"):
        tradegecko_sandbox.add_variant(sku, stock=50, location_id=location)
    wms = WMSConnectionFactory(
        platform="tradegecko",
        api_base_url=tradegecko_sandbox.base_url,
        sandbox_tooling=True,
        credentials_values={"access_token": tradegecko_sandbox.access_token},
        settings={"stock_location_id": str(location)},
    )
    ShippingMethodMapFactory(warehouse=wms, cart_method="Standard", ship_code="UPS Ground")
    cart = CartConnectionFactory(
        merchant=wms.merchant,
        warehouse=wms,
        api_base_url=squarespace_sandbox.base_url,
        sandbox_tooling=True,
        credentials_values={"api_key": squarespace_sandbox.api_key},
    )
    return cart, wms, squarespace_sandbox, tradegecko_sandbox


def test_a_tradegecko_delivery_is_verified_with_one_lookup(gecko_wired):
    cart, _wms, squarespace, gecko = gecko_wired
    cart_order = seed(squarespace, "1001", lines=TWO_LINES)

    run = sync(cart)

    order = order_for(cart, cart_order)
    [stored] = gecko.orders_by_reference()[order.cust_ref]
    assert sorted((line["sku"], float(line["quantity"])) for line in gecko.order_lines(stored["id"])) >= [
        ("SKU-1", 2.0),
        ("SKU-2", 1.0),
    ]
    assert order.status == OrderStatus.AT_WMS and order.warehouse_verified_at is not None
    assert (run.counts["verified"], run.counts["unverified"]) == (1, 0)
    assert len(gecko.requests_to("/order_line_items", "GET")) == 1  # the one read-back
    assert events(order, "verified")


def test_a_tradegecko_delivery_one_at_a_time_is_verified_with_one_lookup(gecko_wired):
    cart, wms, squarespace, gecko = gecko_wired
    cart_order = seed(squarespace, "1001")
    import_only(cart, wms)
    order = order_for(cart, cart_order)
    counts: dict[str, int] = {}

    order_deliver(order_id=order.pk, connector=warehouse_connector_for(connection=wms), counts=counts)

    order.refresh_from_db()
    assert len(gecko.orders_by_reference()[order.cust_ref]) == 1
    assert order.status == OrderStatus.AT_WMS and order.warehouse_verified_at is not None
    assert counts == {"verified": 1, "unverified": 0}
    assert len(gecko.requests_to("/order_line_items", "GET")) == 1


def test_a_tradegecko_quantity_changed_at_the_warehouse_is_unverified_with_a_problem(gecko_wired, monkeypatch):
    cart, _wms, squarespace, gecko = gecko_wired
    create = gecko.store.create_order

    def changed(body: dict[str, Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        body["order_line_items"][0]["quantity"] = 9
        return create(body, *args, **kwargs)

    monkeypatch.setattr(gecko.store, "create_order", changed)
    cart_order = seed(squarespace, "1001", lines=TWO_LINES)

    run = sync(cart)

    order = order_for(cart, cart_order)
    assert order.status == OrderStatus.AT_WMS and order.warehouse_verified_at is None
    assert run.counts["unverified"] == 1
    assert "shows lines different from what was sent" in events(order, UNVERIFIED_CODE)[0].message
    assert open_problem(order) is not None
    assert len(gecko.orders) == 1


def test_a_read_back_that_fails_leaves_the_order_unverified_then_verified_on_the_next_run(gecko_wired):
    cart, _wms, squarespace, gecko = gecko_wired
    gecko.fail_next(10, status=500, path_contains="/order_line_items", method="GET")
    cart_order = seed(squarespace, "1001")

    first = sync(cart)

    order = order_for(cart, cart_order)
    assert order.status == OrderStatus.AT_WMS and order.warehouse_verified_at is None
    assert (first.counts["verified"], first.counts["unverified"]) == (0, 1)
    assert "could not be read back" in events(order, UNVERIFIED_CODE)[0].message
    assert open_problem(order) is None  # not yet: the first of WAREHOUSE_VERIFY_ATTEMPTS
    gecko.reset()  # the lookups answer again (the seeded account stays)
    Order.objects.filter(pk=order.pk).update(warehouse_verify_next_at=timezone.now())

    second = sync(cart)

    order.refresh_from_db()
    assert (second.counts["verified"], second.counts["unverified"]) == (1, 0)
    assert order.warehouse_verified_at is not None and order.warehouse_verify_next_at is None
    assert len(gecko.orders) == 1  # read back, never sent again


def test_the_recheck_reads_only_what_is_due_the_longest_waiting_first_and_a_bounded_number(wired, monkeypatch):
    monkeypatch.setattr(verify, "RECHECKS_PER_RUN", 1)
    cart_orders = [seed(wired.squarespace, number) for number in ("1001", "1002", "1003")]
    sync(wired.cart)
    first, second, later = (order_for(wired.cart, cart_order) for cart_order in cart_orders)
    for order, when in ((first, ago(minutes=5)), (second, ago(minutes=1)), (later, ago(minutes=-30))):
        Order.objects.filter(pk=order.pk).update(warehouse_verified_at=None, warehouse_verify_next_at=when)
    connector = warehouse_connector_for(connection=wired.wms)

    counts = pending_orders_deliver(cart_connection_id=wired.cart.pk, connector=connector, run=None)

    assert counts["verified"] == 1
    [lookup] = lookups(wired.bergen)
    assert first.cust_ref in lookup.param("rql")
    assert Order.objects.filter(warehouse_verified_at__isnull=True).count() == 2
