"""Tracking out: tell each cart once about its orders' shipments, and count it told only when it shows them.

Before pushing, the cart is asked which tracking numbers it already has, so a re-push (after a
crash, a lost reply or "resend tracking") never creates a second fulfillment. After pushing, the
cart's order is read back once with the same call: a parcel is accepted, and the order confirmed,
only when the numbers sent are on it (see `outcomes` for what happens when they are not). A
refusal is kept on the shipment and the order's history and retried later with backoff; nothing
is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings

from integrations.connectors.base import CartConnector
from integrations.connectors.canonical import CART_CANCELED, CartShipment, CartShipmentLine
from integrations.connectors.errors import AuthenticationError, ConnectorError, ThrottledError
from integrations.models import CartConnection, WMSConnection
from orders.models import Order, OrderStatus, Shipment, SyncRun
from orders.selectors import PUSHABLE, orders_with_tracking_due
from orders.services.records.history import order_event, order_set_status
from orders.services.records.locks import sync_lock
from orders.services.records.sync_runs import counting_into
from orders.services.tracking.outcomes import (
    checks_used_up,
    numbers_missing,
    parcels_accepted,
    parcels_refused,
    parcels_unverified,
)

TEST_ORDER_MARK = "orderbridge_test_order"  # set on the cart payload of Orderbridge's own test orders


class TrackingCount(StrEnum):
    """What a tracking push counts, per parcel (TAKEN: per order another run was pushing).

    VERIFIED: parcels the cart's order was read to show (after a push, or already before one);
    UNVERIFIED: parcels it did not show after a push, or that could not be read back. A parcel with no
    tracking number has nothing to show and counts as neither."""

    PUSHED = "shipments_pushed"
    ALREADY_AT_CART = "tracking_already_at_cart"
    WAITING = "tracking_waiting"
    FAILED = "tracking_failed"
    TAKEN = "tracking_taken_by_another_run"
    VERIFIED = "verified"
    UNVERIFIED = "unverified"


ORDER_COUNTS = (
    TrackingCount.PUSHED,
    TrackingCount.ALREADY_AT_CART,
    TrackingCount.WAITING,
    TrackingCount.FAILED,
    TrackingCount.VERIFIED,
    TrackingCount.UNVERIFIED,
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
    if _nothing_to_tell(order, parcels, run):
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


def _nothing_to_tell(order: Order, parcels: list[Shipment], run: SyncRun | None) -> bool:
    """Parcels the cart is not told of, settled here: Orderbridge's own test orders (the cart never
    had them), and orders the cart canceled (it refuses their tracking; retrying would never end: they
    shipped although canceled, which the change's too-late problem tells a person)."""
    ids = [p.pk for p in parcels]
    if (order.cart_payload or {}).get(TEST_ORDER_MARK) if isinstance(order.cart_payload, dict) else False:
        Shipment.objects.filter(pk__in=ids).update(push_status=Shipment.PushStatus.NOT_FOR_CART)
        return True
    if order.cart_status != CART_CANCELED:
        return False
    Shipment.objects.filter(pk__in=ids).update(push_status=Shipment.PushStatus.CANCELED_AT_CART, next_push_at=None)
    order_event(
        order=order,
        message="Tracking not sent to the cart: the order was canceled there, and shipped all the same.",
        code="tracking_canceled_at_cart",
        run=run,
    )
    return True


@dataclass(frozen=True)
class _Sent:
    """Parcels the cart answered OK for, with the numbers sent, to be read back."""

    parcels: list[Shipment]
    numbers: list[str]


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
    """Tell the cart each group of parcels it does not have yet, in order, then read its order back
    once; False when the cart refused one (that group and the rest are recorded to retry later)."""
    remaining = list(groups)
    sent: list[_Sent] = []
    try:
        existing = connector.existing_tracking_numbers(order.cart_order_id, ordered_at=order.ordered_at)
        while remaining:
            group = remaining[0]
            numbers = [n for p in group for n in p.tracking_numbers]
            new_numbers = numbers_missing(sent=numbers, shown=existing)
            if numbers and not new_numbers:
                parcels_accepted(
                    parcels=group, order=order, message="The cart already had this tracking: not sent again.", run=run
                )
                counts[TrackingCount.ALREADY_AT_CART] += len(group)
                counts[TrackingCount.VERIFIED] += len(group)
            elif checks_used_up(parcels=group):
                # Read again (above), not resent: a person was asked to look.
                parcels_unverified(parcels=group, order=order, sent=new_numbers, shown=existing, resent=False, run=run)
                counts[TrackingCount.UNVERIFIED] += len(group)
            else:
                connector.push_shipment(
                    order.cart_order_id,
                    _cart_shipment(
                        order, group, new_numbers, carrier_names, complete=shipped_in_full and len(remaining) == 1
                    ),
                    notify_customer=connection.notify_customer_on_shipment,
                )
                _sent_record(order, group, new_numbers, sent, run, counts)
                existing = existing | set(new_numbers)
            remaining.pop(0)
    except ThrottledError as exc:
        _unverified_unread(order, sent, exc, run, counts)
        raise  # not a refusal: the rest costs no attempt, the next run carries on
    except AuthenticationError as exc:
        # Recorded on the shipments and the order (retried later, visible), then the run stops.
        _unverified_unread(order, sent, exc, run, counts)
        parcels_refused(parcels=[p for group in remaining for p in group], order=order, exc=exc, run=run)
        raise
    except ConnectorError as exc:
        left = [p for group in remaining for p in group]
        parcels_refused(parcels=left, order=order, exc=exc, run=run)
        counts[TrackingCount.FAILED] += len(left)
        _read_back(order, sent, connector, run, counts)
        return False
    _read_back(order, sent, connector, run, counts)
    return True


def _sent_record(
    order: Order,
    group: list[Shipment],
    numbers: list[str],
    sent: list[_Sent],
    run: SyncRun | None,
    counts: dict[str, int],
) -> None:
    counts[TrackingCount.PUSHED] += len(group)
    if not numbers:  # nothing the cart could show: its answer is all there is
        parcels_accepted(
            parcels=group, order=order, message="Shipment without a tracking number told to the cart.", run=run
        )
        return
    order_event(
        order=order,
        message=f"Tracking sent to the cart: {', '.join(numbers)}; its order is read back to check.",
        code="tracking_sent",
        run=run,
    )
    sent.append(_Sent(group, numbers))


def _read_back(
    order: Order, sent: list[_Sent], connector: CartConnector, run: SyncRun | None, counts: dict[str, int]
) -> None:
    """Read the cart's order once and accept each parcel sent whose numbers it shows."""
    if not sent:
        return
    try:
        shown = connector.existing_tracking_numbers(order.cart_order_id, ordered_at=order.ordered_at)
    except (ThrottledError, AuthenticationError) as exc:
        _unverified_unread(order, sent, exc, run, counts)
        raise
    except ConnectorError as exc:
        _unverified_unread(order, sent, exc, run, counts)
        return
    for item in sent:
        missing = numbers_missing(sent=item.numbers, shown=shown)
        if missing:
            parcels_unverified(parcels=item.parcels, order=order, sent=item.numbers, shown=shown, run=run)
            counts[TrackingCount.UNVERIFIED] += len(item.parcels)
        else:
            message = f"The cart's order shows tracking {', '.join(item.numbers)}: accepted."
            parcels_accepted(parcels=item.parcels, order=order, message=message, run=run)
            counts[TrackingCount.VERIFIED] += len(item.parcels)


def _unverified_unread(
    order: Order, sent: list[_Sent], exc: ConnectorError, run: SyncRun | None, counts: dict[str, int]
) -> None:
    """The parcels sent could not be read back: unverified, checked again after the backoff."""
    for item in sent:
        parcels_unverified(parcels=item.parcels, order=order, sent=item.numbers, shown=None, failure=str(exc), run=run)
        counts[TrackingCount.UNVERIFIED] += len(item.parcels)
    sent.clear()


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


def shipments_resend(*, shipment_ids: list[int]) -> int:
    """Admin "resend tracking": push again now (what the cart already has is not duplicated), with
    its checks counted afresh."""
    return Shipment.objects.filter(pk__in=shipment_ids, order__isnull=False).update(
        push_status=Shipment.PushStatus.PENDING, next_push_at=None, push_attempts=0
    )
