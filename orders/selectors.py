"""Reads of orders that the services, the sync cycle and the sandbox share: querysets and counts,
no writes. They live apart from `orders.services` so that what a step reads is visible in one place
and can be reused (the chaos run asks the same questions as the cycle) without calling a service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from django.db import connection
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, Max, Min, OuterRef, Q, QuerySet
from django.utils import timezone

from orders.models import HoldCode, Order, OrderStatus, Problem, Shipment, SKUAlias
from orders.models_changes import OrderChange
from orders.services.records.problems import CHANGE_NOT_APPLIED

# Shipments whose tracking the cart has yet to accept.
PUSHABLE = (
    Shipment.PushStatus.PENDING,
    Shipment.PushStatus.WAITING,
    Shipment.PushStatus.FAILED,
    Shipment.PushStatus.UNVERIFIED,
)


def with_list_marks(*, orders: QuerySet[Order], now: datetime | None = None) -> QuerySet[Order]:
    """The orders annotated with what the order lists mark beside the status: `in_hold_window` (new,
    waiting in its cart connection's hold window), `change_pending` (a change made at the cart not yet
    passed on to the warehouse) and `change_not_applied` (one the warehouse did not take: too late,
    refused or unconfirmed, its problem still open)."""
    now = now or timezone.now()
    return orders.annotate(
        in_hold_window=ExpressionWrapper(Q(status=OrderStatus.NEW, hold_until__gt=now), output_field=BooleanField()),
        change_pending=Exists(OrderChange.objects.filter(order=OuterRef("pk"), status__in=OrderChange.OPEN)),
        change_not_applied=Exists(
            Problem.objects.filter(order=OuterRef("pk"), reason_code=CHANGE_NOT_APPLIED, status=Problem.Status.OPEN)
        ),
    )


def hold_window_over(*, now: datetime) -> Q:
    """Orders not waiting in their cart connection's hold window at `now` (never had one, released
    early, or its end passed)."""
    return Q(hold_until__isnull=True) | Q(hold_until__lte=now)


def deliverable_orders(*, cart_connection_id: int, now: datetime | None = None) -> QuerySet[Order]:
    """The connection's `new` orders with a warehouse, due (out of their hold window, no retry
    pending) and not claimed by a live run, oldest first."""
    now = now or timezone.now()
    return (
        Order.objects.filter(cart_connection_id=cart_connection_id, status=OrderStatus.NEW, warehouse__isnull=False)
        .filter(hold_window_over(now=now))
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("pk")
    )


@dataclass(frozen=True)
class InHoldWindow:
    """New orders of a connection waiting in its hold window: a run after `first_ends` sends the first."""

    count: int
    first_ends: datetime | None


def orders_in_hold_window(*, cart_connection_id: int, now: datetime | None = None) -> InHoldWindow:
    now = now or timezone.now()
    found = Order.objects.filter(
        cart_connection_id=cart_connection_id, status=OrderStatus.NEW, hold_until__gt=now
    ).aggregate(count=Count("pk"), ends=Min("hold_until"))
    return InHoldWindow(found["count"], found["ends"])


@dataclass(frozen=True)
class ClaimedElsewhere:
    """New orders of a connection that another run holds a delivery claim on: being sent, or left
    behind by a worker that stopped (taken over when the last claim ends)."""

    count: int
    last_claim_ends: datetime | None


def orders_claimed_elsewhere(*, cart_connection_id: int, now: datetime | None = None) -> ClaimedElsewhere:
    now = now or timezone.now()
    found = Order.objects.filter(
        cart_connection_id=cart_connection_id, status=OrderStatus.NEW, claimed_until__gte=now
    ).aggregate(count=Count("pk"), ends=Max("claimed_until"))
    return ClaimedElsewhere(found["count"], found["ends"])


# `delivery_work_waiting` as one statement written once: every idle run of every connection asks it, and
# the ORM would compile its three subqueries each time (about 1.7 ms, a fifth of an idle orders run).
# Table and column names are the models' own, quoted; every value is a parameter.
_WORK_WAITING = (
    "SELECT 1 WHERE EXISTS (SELECT 1 FROM {orders} WHERE {connection} = %(id)s AND {status} = %(new)s)"
    " OR EXISTS (SELECT 1 FROM {orders} WHERE {connection} = %(id)s AND {verified} IS NULL"
    " AND {verify_next} <= %(now)s AND {status} <> %(canceled)s)"
    " OR EXISTS (SELECT 1 FROM {changes} INNER JOIN {orders} ON {orders}.{order_id} = {changes}.{change_order}"
    " WHERE {orders}.{connection} = %(id)s AND {changes}.{status} IN ({open}))"
)


@cache
def _work_waiting_sql(vendor: str) -> str:
    """The statement for the database `vendor` (built once per process and vendor)."""
    quote, order = connection.ops.quote_name, Order._meta
    column = {name: quote(order.get_field(name).column) for name in ("cart_connection", "status")}
    return _WORK_WAITING.format(
        orders=quote(order.db_table),
        changes=quote(OrderChange._meta.db_table),
        connection=column["cart_connection"],
        status=column["status"],
        verified=quote(order.get_field("warehouse_verified_at").column),
        verify_next=quote(order.get_field("warehouse_verify_next_at").column),
        order_id=quote(order.pk.column),
        change_order=quote(OrderChange._meta.get_field("order").column),
        open=", ".join(f"%(open_{n})s" for n in range(len(OrderChange.OPEN))),
    )


def delivery_work_waiting(*, cart_connection_id: int, now: datetime | None = None) -> bool:
    """Whether a run's delivery steps could find anything for the connection, in one read: a `new`
    order (due, in its hold window or claimed by another run), a delivered order whose read-back is
    due (not canceled), or a change waiting to be passed on. False: each of those steps would find
    nothing (what an idle connection's every run asks)."""
    params = {
        "id": cart_connection_id,
        "new": OrderStatus.NEW.value,
        "canceled": OrderStatus.CANCELED.value,
        "now": connection.ops.adapt_datetimefield_value(now or timezone.now()),
        **{f"open_{n}": str(status) for n, status in enumerate(OrderChange.OPEN)},
    }
    with connection.cursor() as cursor:
        cursor.execute(_work_waiting_sql(connection.vendor), params)
        return cursor.fetchone() is not None


def orders_with_tracking_due(*, cart_connection_id: int, now: datetime | None = None) -> QuerySet[Order]:
    """The connection's orders with a shipment whose tracking is due to be pushed, oldest first."""
    now = now or timezone.now()
    due = Q(shipments__push_status__in=PUSHABLE) & (
        Q(shipments__next_push_at__isnull=True) | Q(shipments__next_push_at__lte=now)
    )
    return Order.objects.filter(due, cart_connection_id=cart_connection_id).distinct().order_by("pk")


def orders_held_for_alias(*, alias: SKUAlias) -> QuerySet[Order]:
    """The merchant's orders held for an unknown SKU that the alias's cart SKU names."""
    return (
        Order.objects.filter(merchant_id=alias.merchant_id, status=OrderStatus.ERROR, hold_code=HoldCode.UNKNOWN_SKU)
        .filter(Q(lines__cart_sku=alias.cart_sku) | Q(lines__warehouse_sku=alias.cart_sku))
        .distinct()
        .select_related("warehouse", "cart_connection")
    )


def orders_held_for_shipping(*, warehouse_id: int, cart_method: str | None = None) -> QuerySet[Order]:
    """The warehouse's orders held for an unmapped shipping method (only that cart method, if given)."""
    orders = Order.objects.filter(
        warehouse_id=warehouse_id, status=OrderStatus.ERROR, hold_code=HoldCode.UNMAPPED_SHIPPING
    )
    if cart_method is not None:
        orders = orders.filter(orig_ship_code__iexact=cart_method.strip())
    return orders.select_related("warehouse", "cart_connection")
