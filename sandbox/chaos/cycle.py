"""The chaos run's side in the database: its merchant, one pass of the sync cycle, and where the run stands.

Used by the worker processes (one ``cycle_pass`` after another) and by the harness (``cycle_state`` to
see when everything has settled, ``cycle_report`` at the end), and by the in-process fault test.

Only the pipeline's own services sync (``cart_connection_sync_orders``, ``shipments_sync``), as the
``sync_*`` commands and the scheduled tasks call them; nothing here writes the rows under test. Time is
shortened only through the settings the workers run with (``harness.OVERRIDES``: the retry backoffs in
seconds instead of minutes, short leases and timeouts).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import Count
from django.utils import timezone

from integrations.connectors.canonical import CART_CANCELED
from integrations.models import CartConnection, SyncOutcome
from orders.models import Order, OrderEvent, OrderStatus, Shipment, SkippedOrder, SyncLock, SyncRun
from orders.selectors import deliverable_orders, orders_with_tracking_due
from sandbox.chaos.change_figures import change_figures
from sandbox.chaos.scenario import SHIP_CODES, ChaosOrder
from sandbox.wiring import (
    ANY_RATE_PER_MINUTE,
    SandboxMerchant,
    bergen_account,
    merchant_wire_sandboxes,
    squarespace_account,
)
from sync.cycle import cart_connection_sync_orders
from sync.return_path import shipments_sync

THROTTLED_PAUSE_SECONDS = 0.5  # after a pass the rate budget held back
DELIVERED = (OrderStatus.AT_WMS, OrderStatus.SHIPPED, OrderStatus.CONFIRMED)

# A parcel of an order the cart canceled: refused by the cart (pushed before the cancel was seen), or
# not told at all once it was.
NOT_TOLD_CANCELED = (Shipment.PushStatus.FAILED, Shipment.PushStatus.CANCELED_AT_CART)


def wire_chaos_merchant(addresses: dict[str, Any], *, slug: str) -> CartConnection:
    """A fresh merchant whose Squarespace cart and Bergen warehouse point at the chaos sandboxes."""
    return merchant_wire_sandboxes(
        merchant=SandboxMerchant(
            slug=slug,
            name=f"Chaos merchant ({slug})",
            contact_email="ops@chaos.example",
            cart_name="Chaos store (sandbox)",
            warehouse_name="Chaos warehouse (sandbox)",
        ),
        cart=squarespace_account(addresses["squarespace_url"], api_key=addresses["squarespace_api_key"]),
        warehouse=bergen_account(
            addresses["bergen_url"],
            username=addresses["bergen_username"],
            password=addresses["bergen_password"],
            customer=addresses["bergen_customer"],
        ),
        earliest_order_date=(timezone.now() - timedelta(days=1)).date(),
        ship_codes=SHIP_CODES,
        requests_per_minute=ANY_RATE_PER_MINUTE,  # the chaos sandboxes have no rate limit
    )


def chaos_merchant_retire(cart_id: int) -> None:
    """Deactivate the run's cart connection once the run is over: its sandboxes are gone, so no schedule
    may sync it again. Its orders and history stay for a person to look at."""
    cart = CartConnection.objects.get(pk=cart_id)
    cart.active = False
    cart.save(update_fields=["active"])


def cycle_pass(cart_id: int, *, shipments: bool) -> None:
    """One pass: the orders sync (import and deliver), then, once the warehouse has shipped, the
    shipments sync (read the warehouse's tracking, push it to the cart)."""
    cart = CartConnection.objects.select_related("merchant", "warehouse").get(pk=cart_id)
    began = timezone.now()
    cart_connection_sync_orders(connection=cart)
    if shipments:
        shipments_sync(connections=[cart])
    throttled = SyncRun.objects.filter(
        merchant_id=cart.merchant_id, started_at__gte=began, status=SyncOutcome.THROTTLED
    )
    if throttled.exists():
        # The rate budget held a run back (a 429 empties it; tracking waits behind the orders' share):
        # the scheduler's next run would come later, so the loop waits too instead of spending the
        # refill on one more orders run at once.
        time.sleep(THROTTLED_PAUSE_SECONDS)


@dataclass
class CycleState:
    """Where the run stands in the database."""

    imported: int = 0
    delivered: int = 0
    held: int = 0
    canceled: int = 0
    skipped: int = 0
    pending: int = 0
    shipments: int = 0
    shipments_accepted: int = 0
    # Parcels of orders canceled at the cart, whose tracking the cart refused (it fulfills no canceled order).
    shipments_refused_canceled: int = 0

    def orders_settled(self, orders: int) -> bool:
        """Every order imported (or skipped: canceled at the cart before we first saw it) and delivered,
        held or canceled."""
        return self.imported + self.skipped == orders and self.delivered + self.held + self.canceled == self.imported

    def shipments_settled(self, parcels: int) -> bool:
        final = self.shipments_accepted + self.shipments_refused_canceled
        return self.shipments == parcels and final == parcels


def cycle_state(cart_id: int) -> CycleState:
    state = CycleState()
    for row in Order.objects.filter(cart_connection_id=cart_id).values("status").annotate(n=Count("pk")):
        state.imported += row["n"]
        if row["status"] in DELIVERED:
            state.delivered += row["n"]
        elif row["status"] == OrderStatus.ERROR:
            state.held += row["n"]
        elif row["status"] == OrderStatus.CANCELED:
            state.canceled += row["n"]
        elif row["status"] == OrderStatus.NEW:
            state.pending += row["n"]
    state.skipped = SkippedOrder.objects.filter(cart_connection_id=cart_id).count()
    shipments = Shipment.objects.filter(order__cart_connection_id=cart_id)
    state.shipments = shipments.count()
    state.shipments_accepted = shipments.filter(push_status=Shipment.PushStatus.ACCEPTED).count()
    state.shipments_refused_canceled = shipments.filter(
        push_status__in=NOT_TOLD_CANCELED, order__cart_status=CART_CANCELED
    ).count()
    return state


def cycle_diagnosis(cart_id: int) -> dict[str, Any]:
    """What a stalled run is waiting for, as the database tells it (said when the run stops moving)."""
    now = timezone.now()
    cart = CartConnection.objects.get(pk=cart_id)
    orders = Order.objects.filter(cart_connection_id=cart_id)
    keys = [f"{kind}:cart:{cart_id}" for kind in SyncRun.Kind.values]
    keys += [f"{kind}:wms:{cart.warehouse_id}" for kind in SyncRun.Kind.values]
    return {
        "deliveries_due": deliverable_orders(cart_connection_id=cart_id, now=now).count(),
        "claimed": orders.filter(claimed_until__gt=now).count(),
        "uncertain": orders.filter(delivery_uncertain=True).count(),
        "tracking_due": orders_with_tracking_due(cart_connection_id=cart_id, now=now).count(),
        "shipments": dict(
            Shipment.objects.filter(order__cart_connection_id=cart_id)
            .values_list("push_status")
            .annotate(n=Count("pk"))
            .order_by()
        ),
        "locks_held": list(SyncLock.objects.filter(key__in=keys, locked_until__gt=now).values_list("key", flat=True)),
        "runs_left_running": SyncRun.objects.filter(merchant_id=cart.merchant_id, finished_at__isnull=True).count(),
    }


def _tracking_missing(orders: dict[str, Order], sides: dict[str, Any], canceled_at_cart: set[str]) -> int:
    """Tracking numbers the warehouse shipped that the cart order lacks (orders the cart canceled aside)."""
    by_ref = {o.cust_ref: o for o in orders.values() if o.cust_ref}
    missing = 0
    for reference, numbers in sides["shipped"].items():
        order = by_ref.get(reference)
        if order is not None and order.order_number in canceled_at_cart:
            continue
        at_cart = set(sides["fulfillments"].get(order.cart_order_id, ())) if order is not None else set()
        missing += sum(1 for number in numbers if number not in at_cart)
    return missing


def cycle_report(cart_id: int, scenario: list[ChaosOrder], sides: dict[str, Any]) -> dict[str, Any]:
    """The run's outcome, from the database and from what the sandboxes hold (``SandboxPair.report``).

    ``lost``: valid orders the warehouse does not have, the cart not having canceled them (one it
    canceled before it was sent is rightly not there); ``wrongly_sent``: invalid ones it has;
    ``tracking_missing``: parcels the warehouse shipped whose tracking number the cart order lacks (but
    for orders the cart canceled: it fulfills none). The duplicates at the warehouse are the sandbox's own
    count (``SandboxPair.warehouse_duplicates``); the changes' figures are ``change_figures``.
    """
    orders = {o.order_number: o for o in Order.objects.filter(cart_connection_id=cart_id)}
    at_warehouse = sides["warehouse_references"]
    canceled_at_cart = {number for number, side in sides["order_sides"].items() if side["canceled_at_cart"]}
    lost, wrongly_sent = [], []
    for co in scenario:
        order = orders.get(co.number)
        there = order is not None and bool(order.cust_ref) and order.cust_ref in at_warehouse
        if not co.invalid and not there and co.number not in canceled_at_cart:
            lost.append(co.number)
        elif co.invalid and there:
            wrongly_sent.append(co.number)
    tracking_missing = _tracking_missing(orders, sides, canceled_at_cart)
    held = [o for o in orders.values() if o.status == OrderStatus.ERROR]
    shipments = Shipment.objects.filter(order__cart_connection_id=cart_id)
    refused_resends = OrderEvent.objects.filter(
        order__cart_connection_id=cart_id, code="delivered", message__startswith="The warehouse already had"
    ).count()
    return {
        "orders": len(scenario),
        "invalid": sum(1 for co in scenario if co.invalid),
        "imported": len(orders),
        "delivered": sum(1 for o in orders.values() if o.status in DELIVERED),
        "held": len(held),
        "canceled": sum(1 for o in orders.values() if o.status == OrderStatus.CANCELED),
        "skipped_canceled": SkippedOrder.objects.filter(cart_connection_id=cart_id).count(),
        "held_without_reason": sum(1 for o in held if not (o.hold_code and o.hold_reason)),
        "lost": len(lost),
        "lost_orders": lost,
        "wrongly_sent": len(wrongly_sent),
        "warehouse_orders": sum(at_warehouse.values()),
        "warehouse_duplicates": sides["warehouse_duplicates"],
        "warehouse_duplicate_orders": sides["warehouse_duplicate_orders"],
        "warehouse_duplicated_references": sides["warehouse_duplicated_references"],
        "warehouse_duplicated_order_numbers": sides["warehouse_duplicated_order_numbers"],
        "duplicate_canary_seen": sides["duplicate_canary_seen"],
        "resends_refused_as_duplicate": refused_resends,
        "parcels_shipped": sum(len(numbers) for numbers in sides["shipped"].values()),
        "shipments_imported": shipments.count(),
        "shipments_pushed": shipments.filter(push_status=Shipment.PushStatus.ACCEPTED).count(),
        "tracking_missing": tracking_missing,
        "tracking_duplicates": sides["tracking_duplicates"],
        "tracking_refused_canceled": shipments.filter(
            push_status__in=NOT_TOLD_CANCELED, order__cart_status=CART_CANCELED
        ).count(),
        **change_figures(cart_id, sides),
    }
