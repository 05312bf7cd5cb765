"""Delivering many orders at once, with the same exactly-once rules as one at a time.

A batch is claimed with one conditional UPDATE that also marks every claimed order
`delivery_uncertain` (`claims.orders_claim`: committed before anything is sent, a crash from here on
makes the next attempt ask the warehouse first). New orders an import hands over are stored in that
state already, under a `ClaimLease` committed with their page, and sent as they are in memory. The
sends run in a background thread (`sending`); the database work stays in the calling thread, and the
results are written back through `claims` with a few bulk queries.
Orders already uncertain take the one-at-a-time path, which asks the warehouse before sending.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings

from integrations.connectors.base import WarehouseConnector
from integrations.connectors.canonical import CART_CANCELED, CART_FULFILLED, WarehouseOrderRef
from integrations.connectors.errors import ConnectorError, OrderRejectedError
from integrations.http import cooldown_error
from integrations.models import WMSConnection
from orders.models import Order, SyncRun
from orders.services.delivery.claims import (
    DELIVERY_BATCH_SIZE,
    DELIVERY_COUNTS,
    TAKEN,
    ClaimLease,
    DeliveryOutcome,
    delivered_message,
    order_hold,
    order_hold_reference_taken,
    order_retry_later,
    orders_cancel,
    orders_claim,
    orders_mark_delivered,
    orders_unclaim_unsent,
)
from orders.services.delivery.reference_check import already_there_message, reference_check, reference_unreadable
from orders.services.delivery.sending import (
    NOT_READ_FOR_SENDING,
    SendOutcome,
    SendPace,
    Sent,
    lines_for_sending,
    orders_send,
)
from orders.services.delivery.turns import DeliveryTurn
from orders.services.delivery.verify import VERIFY_COUNTS, ReadBack, matched, orders_verification_record
from orders.services.records.sync_runs import counting_into
from orders.services.translation.translate import warehouse_order_for

log = logging.getLogger(__name__)

BATCHES_AHEAD = 2  # claimed batches the sender may have in hand (sending one, the next waiting)
CLAIM_RAN_OUT = (
    "Not sent: its delivery claim would have ended before a send could finish (it waited behind other "
    "sends, or DELIVERY_CLAIM_LEASE_SECONDS is too short); the next run sends it."
)


@dataclass
class _Claimed:
    """A claimed batch, ready to send: its claim token and lease, its orders and their lines."""

    token: str
    claimed_until: datetime
    orders: list[Order]
    lines: dict[int, list]


def _claim(
    order_ids: list[int], run: SyncRun | None, counts: dict[str, int], warehouses: dict[int, WMSConnection]
) -> _Claimed | None:
    """Claim the `new`, not-uncertain orders among `order_ids` (`orders_claim`) and read them for
    sending; those closed at the cart meanwhile are canceled, not sent. `warehouses` (by id) is read
    where it lacks one of theirs and kept for the next batch."""
    lease, claimed = orders_claim(order_ids=order_ids)
    if claimed < len(order_ids):  # claimed by another run meanwhile, or no longer new
        counts[TAKEN] = counts.get(TAKEN, 0) + len(order_ids) - claimed
    if not claimed:
        return None
    # By key as well as by token: `claimed_by` has no index, and a scan of every order per batch
    # grew with the table.
    orders = list(
        Order.objects.filter(pk__in=order_ids, claimed_by=lease.token).defer(*NOT_READ_FOR_SENDING).order_by("pk")
    )
    # The warehouse (for its name in the history) once per deliverer, not once per order; its
    # credentials stay encrypted (the connector already holds them).
    missing = {o.warehouse_id for o in orders} - set(warehouses)
    if missing:
        warehouses.update(WMSConnection.objects.defer("credentials").in_bulk(missing))
    for order in orders:
        order.warehouse = warehouses.get(order.warehouse_id)
    closed = [o for o in orders if o.cart_status in (CART_CANCELED, CART_FULFILLED)]
    if closed:
        orders_cancel(orders=closed, token=lease.token, run=run)
        counts[DeliveryOutcome.CANCELED] = counts.get(DeliveryOutcome.CANCELED, 0) + len(closed)
    to_send = [o for o in orders if o.cart_status not in (CART_CANCELED, CART_FULFILLED)]
    return _Claimed(lease.token, lease.until, to_send, lines_for_sending(orders=to_send))


def _record(
    batch: _Claimed, results: list[Sent], connector: WarehouseConnector, run: SyncRun | None, counts: dict[str, int]
) -> ConnectorError | None:
    """Write a sent batch's outcomes; return the warehouse's stop (429, 401) if one came."""
    token = batch.token
    delivered: list[tuple[Order, WarehouseOrderRef, str]] = []
    checks: list[tuple[Order, ReadBack]] = []
    unsent: list[Order] = []
    late: list[Order] = []
    stopped: ConnectorError | None = None
    for order, (outcome, value) in zip(batch.orders, results, strict=True):
        if outcome == SendOutcome.DELIVERED:
            delivered.append((order, value.ref, delivered_message(order, value.ref, batch.lines[order.pk])))
            checks.append((order, value))
        elif outcome == SendOutcome.DUPLICATE:
            found = _duplicate_answer(order, batch, connector, run)
            if not isinstance(found, DeliveryOutcome):
                delivered.append(found)
                checks.append((order, matched(ref=found[1])))
            elif found != DeliveryOutcome.SKIPPED:  # (skipped: the claim was taken over, left to that attempt)
                counts[found] += 1
        elif outcome in (SendOutcome.HELD, SendOutcome.REFUSED):
            refused = value if outcome == SendOutcome.HELD else OrderRejectedError(str(value), status=value.status)
            order_hold(order=order, token=token, exc=refused, run=run, uncertain=False)
            counts[DeliveryOutcome.HELD] += 1
        elif outcome in (SendOutcome.RETRY, SendOutcome.ERROR):
            maybe = getattr(value, "maybe_delivered", True) if outcome == SendOutcome.RETRY else True
            order_retry_later(order=order, token=token, exc=value, run=run, uncertain=maybe)
            counts[DeliveryOutcome.RETRY] += 1
        elif outcome == SendOutcome.LATE:
            late.append(order)
        else:  # STOP (429/401: not taken) or UNSENT (not tried after the stop)
            unsent.append(order)
            stopped = stopped or (value if outcome == SendOutcome.STOP else None)
    orders_mark_delivered(delivered=delivered, token=token, run=run)
    counts[DeliveryOutcome.DELIVERED] += len(delivered)
    orders_verification_record(checks=checks, run=run, counts=counts)
    if unsent:
        orders_unclaim_unsent(orders=unsent, token=token, why=stopped)
    if late:
        orders_unclaim_unsent(orders=late, token=token, why=CLAIM_RAN_OUT)
        counts["claims_ran_out"] = counts.get("claims_ran_out", 0) + len(late)
    if unsent or late:
        counts["not_sent"] = counts.get("not_sent", 0) + len(unsent) + len(late)
    return stopped


def _duplicate_answer(
    order: Order, batch: _Claimed, connector: WarehouseConnector, run: SyncRun | None
) -> tuple[Order, WarehouseOrderRef, str] | DeliveryOutcome:
    """The warehouse refused the send as a duplicate reference: delivered (returned, to be recorded
    with the batch) only if the order under it is this one; else held with a new reference (or
    SKIPPED if the claim was taken over); unreadable, asked again later."""
    sent = warehouse_order_for(order=order, lines=batch.lines[order.pk])
    try:
        check = reference_check(connector=connector, sent=sent)
    except ConnectorError as exc:
        unreadable = reference_unreadable(sent.cust_ref, exc)
        return order_retry_later(order=order, token=batch.token, exc=unreadable, run=run, uncertain=True)
    if check.ours is not None:
        return order, check.ours, already_there_message(order.cust_ref or "", interrupted=False)
    return order_hold_reference_taken(
        order=order, token=batch.token, check=check, sent=sent, connector=connector, run=run
    )


class BatchDeliverer:
    """Claims and delivers batches of orders, each batch's sends in a background thread while the
    calling thread does the database work around them: claiming the next batch, recording the last
    one, importing the next page. Only the calling thread touches the database.

    A warehouse stop (429, 401) or a failure of our own is kept, no further batch is claimed, and
    `finish` raises it: `deliver` itself never raises, so an import feeding it carries on. Given a
    `turn`, it claims no more batches than the turn allows; the orders beyond stay due, deferred."""

    def __init__(
        self,
        connector: WarehouseConnector,
        run: SyncRun | None,
        progress: Callable[[str], None] | None = None,
        *,
        counts: dict[str, int] | None = None,
        turn: DeliveryTurn | None = None,
    ) -> None:
        self.connector, self.run, self.progress = connector, run, progress
        self.turn = turn or DeliveryTurn()
        # The outcomes, counted as each batch is recorded (into the caller's dict when given).
        self.counts = counting_into(counts, *DELIVERY_COUNTS, *VERIFY_COUNTS)
        self.pace = SendPace()
        self.stopped: ConnectorError | None = None
        self.failed: Exception | None = None
        self._stop = threading.Event()
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="send")
        # Claimed batches, oldest first, each sent (or queued to be) by the sender thread.
        self._in_flight: deque[tuple[_Claimed, Future]] = deque()
        self._warehouses: dict[int, WMSConnection] = {}

    def __enter__(self) -> BatchDeliverer:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        try:
            if exc_type is not None:
                for _batch, sending in self._in_flight:
                    sending.result()  # let the sends end; the claims stay uncertain: asked first next time
        finally:
            self._sender.shutdown(wait=True)

    @property
    def _halted(self) -> bool:
        """The warehouse stopped us, or we failed: nothing more is claimed or sent."""
        return self.stopped is not None or self.failed is not None

    def deliver(self, order_ids: list[int]) -> None:
        try:
            self._deliver(order_ids)
        except Exception as exc:  # a database error or a bug: kept for `finish`, the caller carries on
            log.exception("delivering a batch failed")
            self.failed = self.failed or exc

    def _cooling_down(self) -> bool:
        """Nothing more may be claimed: the deliveries stopped, or the warehouse account is in a
        recorded cooldown (read afresh: another process may have recorded it), which stops them as a
        long 429 would. Also lets the concurrent sends see it."""
        cooldown = self.connector.cooldown
        if not self._halted and cooldown is not None:
            wait = cooldown.remaining()
            if wait > settings.HTTP_MAX_THROTTLE_WAIT_SECONDS:
                self.stopped = cooldown_error(self.connector.label, wait)
        return self._halted

    def _deliver(self, order_ids: list[int]) -> None:
        for start in range(0, len(order_ids), DELIVERY_BATCH_SIZE):
            if self._cooling_down():  # they stay new and unclaimed: the next run sends them
                self.counts["not_sent"] = self.counts.get("not_sent", 0) + len(order_ids) - start
                return
            if not self.turn.take():  # they stay new and unclaimed: the connection's next turn sends them
                self.turn.defer(len(order_ids) - start, self.counts)
                return
            batch = _claim(order_ids[start : start + DELIVERY_BATCH_SIZE], self.run, self.counts, self._warehouses)
            self._submit(batch)

    def lease(self) -> ClaimLease | None:
        """A claim for orders about to be stored and handed to `deliver_claimed`; none once the
        deliveries have stopped or the turn is used up (those orders wait, unclaimed, for the next run)."""
        return None if self._cooling_down() or self.turn.used_up else ClaimLease.new()

    def deliver_claimed(self, lease: ClaimLease, orders: list[Order], lines: dict[int, list]) -> None:
        """Deliver orders stored under `lease` (committed), as they are in memory: nothing to claim
        or read again. Never raises; what it cannot send is released, as a stopped batch's are."""
        try:
            for start in range(0, len(orders), DELIVERY_BATCH_SIZE):
                chunk = orders[start : start + DELIVERY_BATCH_SIZE]
                if self._halted:
                    orders_unclaim_unsent(orders=orders[start:], token=lease.token, why=self.stopped)
                    self.counts["not_sent"] = self.counts.get("not_sent", 0) + len(orders) - start
                    return
                if not self.turn.take():
                    orders_unclaim_unsent(orders=orders[start:], token=lease.token, why=None)
                    self.turn.defer(len(orders) - start, self.counts)
                    return
                self._submit(_Claimed(lease.token, lease.until, chunk, {o.pk: lines[o.pk] for o in chunk}))
        except Exception as exc:  # a database error or a bug: kept for `finish`; unreleased claims are asked for first
            log.exception("delivering a batch failed")
            self.failed = self.failed or exc

    def _submit(self, batch: _Claimed | None) -> None:
        if batch is not None:
            sending = self._sender.submit(
                orders_send,
                connector=self.connector,
                orders=batch.orders,
                lines=batch.lines,
                claimed_until=batch.claimed_until,
                pace=self.pace,
                stop=self._stop,
            )
            self._in_flight.append((batch, sending))
        # Record what is sent; wait only when more than one batch is ahead of the sender, so that
        # it has the next one at hand while this thread imports and claims.
        while self._in_flight and (len(self._in_flight) > BATCHES_AHEAD or self._in_flight[0][1].done()):
            self._record(*self._in_flight.popleft())
        if self.stopped is not None:
            self.drain()

    def drain(self) -> None:
        """Wait for the batches being sent and record them."""
        while self._in_flight:
            self._record(*self._in_flight.popleft())

    def finish(self) -> dict[str, int]:
        """Record the last batch; raise what stopped the deliveries, if anything did. Returns the counts."""
        if self.failed is not None:
            try:
                self.drain()  # what was sent is still recorded, if the database lets us
            except Exception:
                log.exception("recording the last batch after a failure failed: its orders are asked for first")
            raise self.failed
        self.drain()
        if self.stopped is not None:
            raise self.stopped
        return self.counts

    def _record(self, batch: _Claimed, sending: Future) -> None:
        stopped = _record(batch, sending.result(), self.connector, self.run, self.counts)
        self.stopped = self.stopped or stopped
        if self.progress:
            self.progress(f"delivered {self.counts['delivered']} so far")
