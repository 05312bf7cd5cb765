"""New orders a sync imports are stored already claimed, in their page's own commit, and handed to
the delivery as they are in memory: nothing is claimed or read again, and what is sent is what a
retry (which reads the order back) would send."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from datetime import timezone as tz
from decimal import Decimal

import pytest
from django.utils import timezone

from integrations.connectors.canonical import CART_OPEN, Address, CartOrder, CartOrderLine
from integrations.connectors.errors import ThrottledError
from integrations.services import warehouse_connector_for
from orders.models import Order, OrderLine, OrderStatus, SyncRun
from orders.services.bulk import rows_insert
from orders.services.delivery.batch import BatchDeliverer
from orders.services.delivery.claims import ClaimLease
from orders.services.intake.pages import cart_orders_import
from orders.services.translation.cart_fields import apply_cart_fields, build_lines
from orders.services.translation.run_context import translation_context_factory
from orders.services.translation.translate import warehouse_order_for
from tests.factories import OrderFactory, OrderLineFactory
from tests.orders.helpers import cooldowns_end, order_for, order_posts, seed, sync

CLAIM_FIELDS = ("status", "claimed_by", "claimed_until", "delivery_uncertain", "delivery_attempts")


class RecordingDelivery:
    """Notes what the import hands over, the order's row as stored at that moment, and what would
    be sent from memory."""

    def __init__(self, *, gives_lease: bool = True) -> None:
        self.gives_lease = gives_lease
        self.leases: list[ClaimLease] = []
        self.claimed: list[tuple[ClaimLease, list[Order], dict]] = []
        self.ids: list[int] = []
        self.rows: dict[int, dict] = {}

    def lease(self) -> ClaimLease | None:
        if not self.gives_lease:
            return None
        lease = ClaimLease(uuid.uuid4().hex, timezone.now() + timedelta(minutes=5))
        self.leases.append(lease)
        return lease

    def deliver_claimed(self, lease, orders, lines) -> None:
        self.claimed.append((lease, orders, lines))
        for order in orders:
            self.rows[order.pk] = Order.objects.values(*CLAIM_FIELDS).get(pk=order.pk)

    def deliver(self, order_ids) -> None:
        self.ids.extend(order_ids)


def import_into(wired, delivery) -> None:
    run = SyncRun.objects.create(
        kind=SyncRun.Kind.ORDERS, merchant_id=wired.cart.merchant_id, cart_connection=wired.cart
    )
    connector = warehouse_connector_for(connection=wired.wms)
    cart_orders_import(
        connection=wired.cart,
        run=run,
        now=timezone.now(),
        context=translation_context_factory(connection=wired.cart, warehouse=wired.wms, connector=connector, notes=[]),
        delivery=delivery,
    )


def test_a_new_order_is_stored_claimed_and_handed_over_as_a_retry_would_read_it(wired):
    # Three decimals: the column keeps cents, so memory must hold what the database gives back.
    cart_order = seed(
        wired.squarespace, "1001", lines=[{"sku": "SKU-1", "quantity": 2, "price": "10.005", "name": "W"}]
    )
    delivery = RecordingDelivery()

    import_into(wired, delivery)

    order = order_for(wired.cart, cart_order)
    [(lease, orders, lines)] = delivery.claimed
    assert [o.pk for o in orders] == [order.pk] and delivery.ids == []
    assert delivery.rows[order.pk] == {
        "status": OrderStatus.NEW,
        "claimed_by": lease.token,
        "claimed_until": lease.until,
        "delivery_uncertain": True,  # stored so: a crash from here on makes the next attempt ask first
        "delivery_attempts": 1,
    }
    read_back = warehouse_order_for(order=order, lines=order.lines.order_by("line_no"))
    assert warehouse_order_for(order=orders[0], lines=lines[order.pk]) == read_back


def test_without_a_lease_new_orders_are_stored_unclaimed_and_handed_over_by_id(wired):
    cart_order = seed(wired.squarespace, "1001")
    delivery = RecordingDelivery(gives_lease=False)

    import_into(wired, delivery)

    order = order_for(wired.cart, cart_order)
    assert delivery.claimed == [] and delivery.ids == [order.pk]
    assert (order.claimed_by, order.delivery_uncertain, order.delivery_attempts) == ("", False, 0)


@pytest.mark.django_db
@pytest.mark.parametrize(("price", "cents"), [("10.005", "10.01"), ("0.125", "0.13"), (7, "7.00"), ("-2.345", "-2.35")])
def test_a_line_price_is_kept_in_memory_as_the_database_gives_it_back(price, cents):
    order = OrderFactory()
    co = CartOrder(
        "1", "1", CART_OPEN, None, None, Address(), lines=[CartOrderLine(1, "SKU-1", 1, price=Decimal(price))]
    )
    [line] = build_lines(order=order, co=co)

    rows_insert(OrderLine, [line])

    assert line.price == OrderLine.objects.get(pk=line.pk).price == Decimal(cents)


def test_orders_claimed_on_import_after_the_warehouse_stopped_us_are_released_not_sent(wired):
    lease = ClaimLease("import-lease", timezone.now() + timedelta(minutes=5))
    orders = [
        OrderFactory(
            cart_connection=wired.cart,
            cust_ref=f"REL-{n}",
            claimed_by=lease.token,
            claimed_until=lease.until,
            delivery_uncertain=True,
            delivery_attempts=1,
        )
        for n in range(2)
    ]
    lines = {o.pk: [OrderLineFactory(order=o, cart_sku="SKU-1", warehouse_sku="SKU-1")] for o in orders}
    deliverer = BatchDeliverer(warehouse_connector_for(connection=wired.wms), None)
    deliverer.stopped = ThrottledError("Bergen is rate limiting us (429)", retry_after=120, status=429)

    with deliverer:
        assert deliverer.lease() is None  # nothing more is claimed once stopped
        deliverer.deliver_claimed(lease, orders, lines)

    assert order_posts(wired.bergen) == []
    for order in orders:
        order.refresh_from_db()
        assert (order.status, order.claimed_by, order.claimed_until) == (OrderStatus.NEW, "", None)
        assert (order.delivery_uncertain, order.delivery_attempts) == (False, 0)
        assert "rate limiting" in order.last_error


def test_a_sync_stopped_by_a_rate_limit_leaves_every_order_it_claimed_on_import_as_it_was(wired, settings):
    settings.DELIVERY_CONCURRENCY = 1  # one send after another: the first is refused, the others never start
    cart_orders = [seed(wired.squarespace, str(1001 + n)) for n in range(3)]
    wired.bergen.fail_next(1, status=429, headers={"Retry-After": "120"}, path_contains="/orders", method="POST")

    run = sync(wired.cart)

    assert run.status == "throttled"
    for cart_order in cart_orders:
        order = order_for(wired.cart, cart_order)
        assert (order.status, order.claimed_by, order.delivery_uncertain) == (OrderStatus.NEW, "", False)
        assert order.delivery_attempts == 0
    cooldowns_end()
    assert sync(wired.cart).counts["delivered"] == 3
    assert wired.bergen.duplicate_count() == 0


def test_a_cart_time_is_kept_in_utc_as_both_databases_give_it_back():
    placed = datetime(2026, 12, 3, 23, 30, tzinfo=tz(timedelta(hours=-5)))
    order = Order()

    apply_cart_fields(
        order=order, co=CartOrder("1", "1", CART_OPEN, ordered_at=placed, modified_at=None, ship_to=Address())
    )

    assert order.ordered_at == placed and order.ordered_at.tzinfo == UTC
