"""Delivered, then verified: an order counts as verified at the warehouse only when the warehouse's
order under our reference reads back with the `cust_po_no`, lines and quantities we sent (and the
ship-to, where the warehouse returns it).

The read-back costs no request where the create answer returns the order as stored (Extensiv, so
Bergen: `POST /orders` answers with `poNum` and `orderItems`); otherwise it is one lookup by reference
(`find_orders`; TradeGecko's create answer has no lines). An order found under its reference and
matched by `reference_check` (after a "duplicate" answer or an interrupted send) is verified already.

An order that is not verified stays delivered (it is at the warehouse: it is never sent again). Its
history says what differs, by name only (never the warehouse's values: the order under our reference
may be another merchant's), and it is read back again in the orders run (`unverified_orders_recheck`,
with the delivery backoff, a bounded number per run). An order that reads back different is a problem
at once; one that cannot be read back becomes a problem after `WAREHOUSE_VERIFY_ATTEMPTS` read-backs.
Either way the read-backs stop after that many, and a later verification resolves the problem.

This module owns that rule and the order's verification fields; delivery state stays in `claims`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from integrations.connectors.base import WarehouseConnector
from integrations.connectors.canonical import WarehouseOrder, WarehouseOrderRef
from integrations.connectors.errors import ConnectorError
from orders.models import Order, OrderStatus, SyncRun
from orders.services.delivery.claims import retry_delay
from orders.services.delivery.reference_check import differences_named, order_differences
from orders.services.records.history import EventRow, order_events_write
from orders.services.records.problems import order_problem_key, order_problem_raise, problems_resolve
from orders.services.translation.translate import warehouse_order_for

log = logging.getLogger(__name__)

VERIFIED = "verified"
UNVERIFIED = "unverified"
VERIFY_COUNTS = (VERIFIED, UNVERIFIED)  # what an orders run counts, besides its deliveries
UNVERIFIED_CODE = "warehouse_unverified"  # the history code and the problem's reason
RECHECKS_PER_RUN = 100  # read-backs an orders run makes of earlier deliveries, the longest waiting first


@dataclass(frozen=True)
class ReadBack:
    """The warehouse's order `ref` (as created or found) and whether it is the order sent: verified
    when nothing `differences` names differs and it could be read (`unreadable` says why not)."""

    ref: WarehouseOrderRef
    differences: tuple[str, ...] = ()
    unreadable: str = ""

    @property
    def verified(self) -> bool:
        return not self.differences and not self.unreadable


def read_back_differences(*, sent: WarehouseOrder, found: WarehouseOrderRef) -> list[str]:
    """`order_differences`, with the ship-to compared only where the warehouse returned one."""
    differences = order_differences(sent, found)
    return [d for d in differences if d != "ship-to"] if found.ship_to is None else differences


def _the_one(found: Iterable[WarehouseOrderRef], ref: WarehouseOrderRef) -> WarehouseOrderRef | None:
    """The order of `found` that is the one created (by its id; the only one when the id is unknown)."""
    found = list(found)
    if ref.warehouse_order_id:
        return next((f for f in found if f.warehouse_order_id == ref.warehouse_order_id), None)
    return found[0] if len(found) == 1 else None


def warehouse_read_back(*, connector: WarehouseConnector, sent: WarehouseOrder, ref: WarehouseOrderRef) -> ReadBack:
    """Whether the warehouse's order `ref` is the order `sent`: from `ref` itself where the create
    answer carried the order number and lines, else from one lookup by reference. No database work
    (it runs on the sending threads), and it never raises: a delivery is never undone by its check."""
    found: WarehouseOrderRef | None = ref
    if ref.cust_po_no is None or ref.items is None:
        try:
            found = _the_one(connector.find_orders(sent.cust_ref), ref)
        except ConnectorError as exc:
            return ReadBack(ref, unreadable=str(exc))
        except Exception as exc:  # a bug of ours: the order stays delivered, read back again later
            log.exception("reading back order %s failed", sent.cust_ref)
            return ReadBack(ref, unreadable=f"reading it back failed ({type(exc).__name__})")
        if found is None:
            return ReadBack(ref, unreadable=f"the warehouse lists no such order under reference {sent.cust_ref}")
    return ReadBack(ref, tuple(read_back_differences(sent=sent, found=found)))


def matched(*, ref: WarehouseOrderRef) -> ReadBack:
    """An order `reference_check` found under its reference and matched: verified by that read."""
    return ReadBack(ref)


def _named_order(order: Order, ref: WarehouseOrderRef) -> str:
    reference = ref.cust_ref or order.cust_ref or ""
    return f"order {ref.warehouse_order_id} (reference {reference})" if ref.warehouse_order_id else reference


def _unverified(order: Order, check: ReadBack, now: datetime) -> EventRow:
    """Count one read-back that did not verify the order, schedule the next (or give up), raise the
    problem where it is due, and return the history row that says so."""
    attempts = order.warehouse_verify_attempts + 1
    limit = max(1, settings.WAREHOUSE_VERIFY_ATTEMPTS)
    next_at = None if attempts >= limit else now + retry_delay(attempts)
    Order.objects.filter(pk=order.pk).update(warehouse_verify_attempts=attempts, warehouse_verify_next_at=next_at)
    order.warehouse_verify_attempts, order.warehouse_verify_next_at = attempts, next_at
    named = f"the warehouse's {_named_order(order, check.ref)}"
    if check.differences:
        seen = f"{named} shows {differences_named(differences=list(check.differences))} different from what was sent"
        problem = f"{seen}: check it at the warehouse."
    else:
        seen = f"{named} could not be read back ({check.unreadable})"
        problem = (
            f"{named} could not be read back after {attempts} attempts ({check.unreadable}): check at the "
            "warehouse that it carries the order number, lines and quantities sent."
        )
    if check.differences or next_at is None:
        order_problem_raise(order=order, reason_code=UNVERIFIED_CODE, message=f"{problem[0].upper()}{problem[1:]}")
    then = f"Read back again after {next_at:%Y-%m-%d %H:%M} UTC." if next_at else "Left to a person (see Problems)."
    message = (
        f"Not verified at the warehouse (read-back {attempts} of {limit}): {seen}. It stays delivered and is "
        f"not sent again. {then}"
    )
    return EventRow(order, message, UNVERIFIED_CODE)


def orders_verification_record(
    *, checks: list[tuple[Order, ReadBack]], run: SyncRun | None, counts: dict[str, int] | None = None
) -> None:
    """Record the read-backs of delivered orders: the verified stamped with one UPDATE, the others
    one by one (they are few); one history row each, written with one insert; counted into `counts`."""
    if not checks:
        return
    now = timezone.now()
    verified = [(order, check) for order, check in checks if check.verified]
    events: list[EventRow] = []
    if verified:
        Order.objects.filter(pk__in=[order.pk for order, _ in verified]).update(
            warehouse_verified_at=now, warehouse_verify_next_at=None
        )
        for order, check in verified:
            order.warehouse_verified_at, order.warehouse_verify_next_at = now, None
            events.append(
                EventRow(
                    order,
                    f"Verified at the warehouse: its {_named_order(order, check.ref)} carries the order number, lines "
                    "and quantities sent.",
                    VERIFIED,
                )
            )
            if order.warehouse_verify_attempts:  # an earlier read-back may have raised a problem
                problems_resolve(prefix=order_problem_key(order=order, reason_code=UNVERIFIED_CODE))
    events += [_unverified(order, check, now) for order, check in checks if not check.verified]
    order_events_write(events=events, run=run)
    if counts is not None:
        counts[VERIFIED] = counts.get(VERIFIED, 0) + len(verified)
        counts[UNVERIFIED] = counts.get(UNVERIFIED, 0) + len(checks) - len(verified)


def verify_due(*, cart_connection_id: int, now: datetime | None = None) -> list[Order]:
    """The connection's delivered orders whose read-back is due, the longest waiting first, at most
    `RECHECKS_PER_RUN`."""
    now = now or timezone.now()
    return list(
        Order.objects.filter(
            cart_connection_id=cart_connection_id,
            warehouse_verified_at__isnull=True,
            warehouse_verify_next_at__lte=now,
        )
        .exclude(status=OrderStatus.CANCELED)
        .prefetch_related("lines")
        .order_by("warehouse_verify_next_at", "pk")[:RECHECKS_PER_RUN]
    )


def unverified_orders_recheck(
    *,
    cart_connection_id: int,
    connector: WarehouseConnector,
    run: SyncRun | None,
    counts: dict[str, int] | None = None,
) -> None:
    """Read back again the delivered orders of a connection not verified yet whose time has come
    (one lookup each), and record what each showed."""
    checks = []
    for order in verify_due(cart_connection_id=cart_connection_id):
        ref = WarehouseOrderRef(order.warehouse_order_id, order.cust_ref or "")
        sent = warehouse_order_for(order=order, lines=list(order.lines.all()))
        checks.append((order, warehouse_read_back(connector=connector, sent=sent, ref=ref)))
    orders_verification_record(checks=checks, run=run, counts=counts)
