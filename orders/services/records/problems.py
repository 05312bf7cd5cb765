"""The issues list: one open problem per thing that needs a person, resolved when it later works.

Keys name the object and the reason (`order:12:unknown_sku`, `cart:3:sync_failed`), so the same
problem seen again counts up instead of piling up rows, and a later success resolves every open
problem of that object (`problems_resolve(prefix="order:12:")`).
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from integrations.models import CartConnection, WMSConnection
from orders.models import Order, Problem

# A cart connection whose daily reconciliation found gaps (or could not read a side): one open per
# connection, raised and resolved by `sync.reconcile`, shown first on the staff dashboard.
RECONCILE_GAP = "reconcile_gap"
# What the warehouse changed on an order by itself (`orders.services.warehouse_side`).
CANCELED_AT_WAREHOUSE = "canceled_at_warehouse"
GONE_AT_WAREHOUSE = "gone_at_warehouse"
SHIPPED_SHORT = "shipped_short"
# An order's problems that its next status does not settle (a short shipment stays short once the
# cart has its tracking): kept open when the status changes, until their own path or a person resolves them.
# A change at the cart the warehouse did not take (too late, refused, unconfirmed): it may ship as it
# was, which its shipping does not settle (`orders.services.changes`).
CHANGE_NOT_APPLIED = "change_not_applied"
LASTING_ORDER_PROBLEMS = (CANCELED_AT_WAREHOUSE, SHIPPED_SHORT, CHANGE_NOT_APPLIED)


def problem_raise(
    *,
    key: str,
    merchant_id: int,
    reason_code: str,
    message: str,
    cart_connection_id: int | None = None,
    warehouse_id: int | None = None,
    order_id: int | None = None,
) -> None:
    now = timezone.now()
    updated = Problem.objects.filter(key=key, status=Problem.Status.OPEN).update(
        last_seen_at=now, count=F("count") + 1, message=message, reason_code=reason_code
    )
    if updated:
        return
    try:
        with transaction.atomic():
            Problem.objects.create(
                key=key,
                merchant_id=merchant_id,
                reason_code=reason_code,
                message=message,
                cart_connection_id=cart_connection_id,
                warehouse_id=warehouse_id,
                order_id=order_id,
                last_seen_at=now,
            )
    except IntegrityError:  # raised by a concurrent run a moment ago
        Problem.objects.filter(key=key, status=Problem.Status.OPEN).update(last_seen_at=now, count=F("count") + 1)


def _open_resolved(problems: QuerySet[Problem]) -> int:
    open_ones = problems.filter(status=Problem.Status.OPEN)
    return open_ones.update(status=Problem.Status.RESOLVED, resolved_at=timezone.now())


def problems_resolve(*, prefix: str, keep: tuple[str, ...] = ()) -> int:
    """Resolve the open problems whose keys start with `prefix`, but those of the reasons in `keep`."""
    return _open_resolved(Problem.objects.filter(key__startswith=prefix).exclude(reason_code__in=keep))


def order_problems_resolve(*, order_ids: list[int]) -> int:
    """Resolve the open problems of many orders at once (an order's problems carry its id, as their
    keys carry its `order_problem_key` prefix)."""
    return _open_resolved(Problem.objects.filter(order_id__in=order_ids))


def order_problem_key(*, order: Order, reason_code: str = "") -> str:
    return f"order:{order.pk}:{reason_code}"


def order_problem_raise(*, order: Order, reason_code: str, message: str) -> None:
    """An open problem about one order, keyed by the order and `reason_code`; `message` after "Order #N: "."""
    problem_raise(
        key=order_problem_key(order=order, reason_code=reason_code),
        merchant_id=order.merchant_id,
        reason_code=reason_code,
        message=f"Order #{order.order_number}: {message}",
        cart_connection_id=order.cart_connection_id,
        warehouse_id=order.warehouse_id,
        order_id=order.pk,
    )


def order_held_problem(*, order: Order) -> None:
    key = order_problem_key(order=order, reason_code=order.hold_code or "held")
    # One open hold per order, for its current reason.
    _open_resolved(Problem.objects.filter(key__startswith=order_problem_key(order=order)).exclude(key=key))
    problem_raise(
        key=key,
        merchant_id=order.merchant_id,
        reason_code=order.hold_code or "held",
        message=f"Order #{order.order_number} held: {order.hold_reason}",
        cart_connection_id=order.cart_connection_id,
        warehouse_id=order.warehouse_id,
        order_id=order.pk,
    )


def connection_problem_key(*, connection: CartConnection | WMSConnection, reason_code: str = "") -> str:
    side = "cart" if connection._meta.model_name == "cartconnection" else "wms"
    return f"{side}:{connection.pk}:{reason_code}"


def connection_problem(*, connection: CartConnection | WMSConnection, reason_code: str, message: str) -> None:
    is_cart = connection._meta.model_name == "cartconnection"
    problem_raise(
        key=connection_problem_key(connection=connection, reason_code=reason_code),
        merchant_id=connection.merchant_id,
        reason_code=reason_code,
        message=f"{connection}: {message}",
        cart_connection_id=connection.pk if is_cart else None,
        warehouse_id=None if is_cart else connection.pk,
    )
