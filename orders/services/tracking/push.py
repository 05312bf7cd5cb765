"""Tracking out: tell each cart once about its orders' shipments.

Before pushing, the cart is asked which tracking numbers it already has, so a re-push (after a
crash, a lost reply or "resend tracking") never creates a second fulfillment. A refusal is kept on
the shipment and the order's history and retried later with backoff; nothing is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from integrations.connectors.base import CartConnector
from integrations.connectors.canonical import CartShipment, CartShipmentLine
from integrations.connectors.errors import AuthenticationError, ConnectorError, ThrottledError
from integrations.models import CartConnection, WMSConnection
from orders.models import Order, OrderStatus, Shipment, SyncRun
from orders.selectors import PUSHABLE, orders_with_tracking_due
from orders.services.records.health import doubling_delay
from orders.services.records.history import order_event, order_set_status
from orders.services.records.locks import sync_lock
from orders.services.records.sync_runs import counting_into

TEST_ORDER_MARK = "orderbridge_test_order"  # set on the cart payload of Orderbridge's own test orders


class TrackingCount(StrEnum):
    """What a tracking push counts, per parcel (TAKEN: per order another run was pushing)."""

    PUSHED = "shipments_pushed"
    ALREADY_AT_CART = "tracking_already_at_cart"
    WAITING = "tracking_waiting"
    FAILED = "tracking_failed"
    TAKEN = "tracking_taken_by_another_run"


ORDER_COUNTS = (TrackingCount.PUSHED, TrackingCount.ALREADY_AT_CART, TrackingCount.WAITING, TrackingCount.FAILED)


def push_retry_delay(attempts: int) -> timedelta:
    """Backoff after a push the cart did not accept: `TRACKING_PUSH_RETRY_BASE_SECONDS` (a minute),
    doubled after each further failure, at most `TRACKING_PUSH_RETRY_CAP_SECONDS` (an hour)."""
    return doubling_delay(
        attempts, base=settings.TRACKING_PUSH_RETRY_BASE_SECONDS, cap=settings.TRACKING_PUSH_RETRY_CAP_SECONDS
    )


def carrier_names(*, connection: CartConnection, connector: CartConnector) -> dict[str, str]:
    names = {k.upper(): v for k, v in connector.default_carrier_names.items()}
    names.update({m.warehouse_carrier.strip().upper(): m.cart_carrier for m in connection.carrier_names.all()})
    return names


def cart_tracking_push(
    *,
    connection: CartConnection,
    connector: CartConnector,
    run: SyncRun | None,
    progress: Callable[[str], None] | None = None,
    counts: dict[str, int] | None = None,
) -> dict[str, int]:
    """Push the due tracking of one cart connection's orders (counting into `counts` as it goes).
    Raises on auth/throttling (stop)."""
    counts = counting_into(counts, *ORDER_COUNTS)
    names = carrier_names(connection=connection, connector=connector)
    ids = list(orders_with_tracking_due(cart_connection_id=connection.pk).values_list("pk", flat=True))
    for index, order_id in enumerate(ids, 1):
        # A claim on the order for its push, so that a run that outlived its lease and a run that
        # took over never tell the cart the same thing twice (the second sees what the first did).
        with sync_lock(
            key=f"tracking:order:{order_id}", seconds=settings.DELIVERY_CLAIM_LEASE_SECONDS, ephemeral=True
        ) as held:
            if not held:  # another run is pushing it now
                counts[TrackingCount.TAKEN] = counts.get(TrackingCount.TAKEN, 0) + 1
                continue
            order = Order.objects.select_related("warehouse").get(pk=order_id)
            for key, value in order_tracking_push(
                order=order, connection=connection, connector=connector, carrier_names=names, run=run
            ).items():
                counts[key] += value
        if progress and (index % 50 == 0 or index == len(ids)):
            progress(f"tracking for {index} of {len(ids)} orders")
    return counts


def order_tracking_push(
    *,
    order: Order,
    connection: CartConnection,
    connector: CartConnector,
    carrier_names: dict[str, str],
    run: SyncRun | None = None,
) -> dict[str, int]:
    counts = dict.fromkeys(ORDER_COUNTS, 0)
    parcels = list(order.shipments.filter(push_status__in=PUSHABLE).order_by("shipped_at", "pk"))
    if not parcels:
        return counts
    if (order.cart_payload or {}).get(TEST_ORDER_MARK) if isinstance(order.cart_payload, dict) else False:
        # Orderbridge's own test orders do not exist at the cart: nothing to tell it.
        Shipment.objects.filter(pk__in=[p.pk for p in parcels]).update(push_status=Shipment.PushStatus.NOT_FOR_CART)
        return counts
    shipped_in_full = order.status in (OrderStatus.SHIPPED, OrderStatus.CONFIRMED)
    wait_for_all = (
        order.warehouse is not None and order.warehouse.tracking_mode == WMSConnection.TrackingMode.COMPLETE
    ) or not connector.accepts_multiple_shipments
    if wait_for_all and not shipped_in_full:
        waiting = [p.pk for p in parcels if p.push_status != Shipment.PushStatus.WAITING]
        if waiting:
            Shipment.objects.filter(pk__in=waiting).update(push_status=Shipment.PushStatus.WAITING)
            order_event(
                order=order,
                message="Tracking waits until the whole order has shipped.",
                code="tracking_waiting",
                run=run,
            )
        counts[TrackingCount.WAITING] += len(parcels)
        return counts
    groups = [parcels] if not connector.accepts_multiple_shipments else [[p] for p in parcels]
    pushed = _groups_push(
        order=order,
        groups=groups,
        connection=connection,
        connector=connector,
        carrier_names=carrier_names,
        shipped_in_full=shipped_in_full,
        run=run,
        counts=counts,
    )
    if not pushed:
        return counts
    all_accepted = not order.shipments.exclude(push_status=Shipment.PushStatus.ACCEPTED).exists()
    if order.status == OrderStatus.SHIPPED and all_accepted:
        order_set_status(
            order=order,
            status=OrderStatus.CONFIRMED,
            message="The cart accepted all the tracking.",
            code="confirmed",
            run=run,
        )
    return counts


def _groups_push(
    *,
    order: Order,
    groups: list[list[Shipment]],
    connection: CartConnection,
    connector: CartConnector,
    carrier_names: dict[str, str],
    shipped_in_full: bool,
    run: SyncRun | None,
    counts: dict[str, int],
) -> bool:
    """Tell the cart each group of parcels it does not have yet, in order; False when the cart
    refused one (that group and the rest are recorded to retry later)."""
    remaining = list(groups)
    try:
        existing = connector.existing_tracking_numbers(order.cart_order_id, ordered_at=order.ordered_at)
        while remaining:
            group = remaining.pop(0)
            numbers = [n for p in group for n in p.tracking_numbers]
            new_numbers = [n for n in numbers if n not in existing]
            if numbers and not new_numbers:
                _accepted(group, order, "The cart already had this tracking: not sent again.", run)
                counts[TrackingCount.ALREADY_AT_CART] += len(group)
                continue
            complete = shipped_in_full and not remaining
            try:
                connector.push_shipment(
                    order.cart_order_id,
                    _cart_shipment(order, group, new_numbers, carrier_names, complete=complete),
                    notify_customer=connection.notify_customer_on_shipment,
                )
            except ConnectorError:
                remaining.insert(0, group)
                raise
            existing.update(new_numbers)
            _accepted(group, order, f"Tracking accepted by the cart: {', '.join(new_numbers) or 'no number'}.", run)
            counts[TrackingCount.PUSHED] += len(group)
    except ThrottledError:
        raise  # not a refusal: costs no attempt, the next run carries on
    except AuthenticationError as exc:
        # Recorded on the shipments and the order (retried later, visible), then the run stops.
        _refused([p for group in remaining for p in group], order, exc, run)
        raise
    except ConnectorError as exc:
        left = [p for group in remaining for p in group]
        _refused(left, order, exc, run)
        counts[TrackingCount.FAILED] += len(left)
        return False
    return True


def _cart_shipment(
    order: Order, group: list[Shipment], numbers: list[str], names: dict[str, str], *, complete: bool
) -> CartShipment:
    first = group[0]
    lines_by_sku = {line.warehouse_sku or line.cart_sku: line for line in order.lines.all()}
    cart_lines = []
    for parcel in group:
        for entry in parcel.lines:
            line = lines_by_sku.get(str(entry.get("sku") or ""))
            if line is not None:
                cart_lines.append(
                    CartShipmentLine(
                        cart_line_id=line.cart_line_id,
                        line_no=line.line_no,
                        sku=line.cart_sku,
                        quantity=int(entry.get("quantity") or 0),
                    )
                )
    carrier = (first.carrier or "").strip()
    return CartShipment(
        carrier=names.get(carrier.upper(), carrier),
        service=first.service,
        tracking_numbers=numbers,
        tracking_url=first.tracking_url,
        shipped_at=max((p.shipped_at for p in group if p.shipped_at), default=None),
        lines=cart_lines,
        complete=complete,
    )


def _accepted(group: list[Shipment], order: Order, message: str, run: SyncRun | None) -> None:
    Shipment.objects.filter(pk__in=[p.pk for p in group]).update(
        push_status=Shipment.PushStatus.ACCEPTED,
        cart_accepted_at=timezone.now(),
        last_push_error="",
        next_push_at=None,
    )
    order_event(order=order, message=message, code="tracking_accepted", run=run)


def _refused(group: list[Shipment], order: Order, exc: ConnectorError, run: SyncRun | None) -> None:
    attempts = max(p.push_attempts for p in group) + 1
    when = timezone.now() + push_retry_delay(attempts)
    Shipment.objects.filter(pk__in=[p.pk for p in group]).update(
        push_status=Shipment.PushStatus.FAILED,
        push_attempts=F("push_attempts") + 1,
        next_push_at=when,
        last_push_error=str(exc),
    )
    order_event(
        order=order,
        message=f"The cart did not accept the tracking: {exc}. Retrying after {when:%Y-%m-%d %H:%M} UTC.",
        code="tracking_failed",
        run=run,
    )


def shipments_resend(*, shipment_ids: list[int]) -> int:
    """Admin "resend tracking": push again now (what the cart already has is not duplicated)."""
    return Shipment.objects.filter(pk__in=shipment_ids, order__isnull=False).update(
        push_status=Shipment.PushStatus.PENDING, next_push_at=None
    )
