"""Delivering many orders at once, with the same exactly-once rules as one at a time.

A batch is claimed with one conditional UPDATE that also marks every claimed order
`delivery_uncertain` (committed before anything is sent: a crash from here on makes the next
attempt ask the warehouse first). New orders an import hands over are stored in that state
already, under a `ClaimLease` committed with their page, and sent as they are in memory. The sends
run concurrently (up to `DELIVERY_CONCURRENCY`) while the warehouse is slow to answer, one after
another while it is fast (`SendPace`); the database work stays in the calling thread, and the
results are written back with a few bulk queries.
Orders already uncertain take the one-at-a-time path, which asks the warehouse before sending.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations.connectors.base import WarehouseConnector
from integrations.connectors.canonical import CART_CANCELED, CART_FULFILLED, WarehouseOrderRef
from integrations.connectors.errors import (
    AuthenticationError,
    BadPayloadError,
    ConnectorError,
    DuplicateReferenceError,
    OrderRejectedError,
    TemporaryError,
    ThrottledError,
)
from integrations.http import cooldown_error
from integrations.models import WMSConnection
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, Problem, SyncRun
from orders.services.bulk import rows_insert, rows_update
from orders.services.reference_check import (
    HELD,
    already_there_message,
    order_hold_reference_taken,
    reference_check,
    reference_unreadable,
)
from orders.services.sync_runs import counting_into
from orders.services.translation import warehouse_order_for

log = logging.getLogger(__name__)


DELIVERY_BATCH_SIZE = 50  # orders claimed, sent and recorded together
TAKEN = "taken_by_another_run"  # the count of orders another run claimed first (one at a time: SKIPPED)
BATCHES_AHEAD = 2  # claimed batches the sender may have in hand (sending one, the next waiting)

# What a send and its bookkeeping do not read: the cart's payload and the preview are large JSON to
# decode, the timestamps need parsing; each costs per order, for nothing.
NOT_READ_FOR_SENDING = (
    "cart_payload",
    "warehouse_payload",
    "bill_to",
    "customer_email",
    "cart_modified_at",
    "next_attempt_at",
    "last_error",
    "claimed_by",
    "claimed_until",
    "delivered_at",
    "partially_shipped",
    "created_at",
    "updated_at",
)
LINE_FIELDS_FOR_SENDING = (
    "order_id",
    "line_no",
    "warehouse_sku",
    "quantity",
    "description",
    "price",
    "canceled_at_cart",
)


def _lines_for_sending(orders: list[Order]) -> dict[int, list]:
    """The lines of each order, as light rows (what `warehouse_order_for` reads), in one query."""
    lines: dict[int, list] = {order.pk: [] for order in orders}
    rows = (
        OrderLine.objects.filter(order_id__in=list(lines))
        .order_by("order_id", "line_no", "pk")
        .values_list(*LINE_FIELDS_FOR_SENDING, named=True)
    )
    for row in rows:
        lines[row.order_id].append(row)
    return lines


def _send(
    connector: WarehouseConnector, order: Order, lines: list, stop: threading.Event, last_start: datetime
) -> tuple[str, object]:
    if stop.is_set():
        return "unsent", None
    # Past `last_start` a send could land after our claim expires, when another worker may have
    # taken the order over: leave it to the next attempt.
    if timezone.now() > last_start:
        return "late", None
    try:
        return "delivered", connector.submit_order(warehouse_order_for(order, lines))
    except DuplicateReferenceError as exc:
        return "duplicate", exc
    except OrderRejectedError as exc:
        return "held", exc
    except (ThrottledError, AuthenticationError) as exc:
        stop.set()
        return "stop", exc
    except (TemporaryError, BadPayloadError) as exc:
        return "retry", exc
    except ConnectorError as exc:
        return "refused", exc
    except Exception as exc:  # a bug must not lose the order nor stop the batch
        log.exception("delivery of order %s failed", order.pk)
        return "error", exc


@dataclass
class SendPace:
    """How many sends of a batch run at once, from how long the last batch's sends took.

    Concurrent sends overlap the warehouse's answer times, but in one Python process they contend
    for the interpreter lock: when the warehouse answers within `DELIVERY_CONCURRENT_ABOVE_MS`,
    one send after another costs less CPU and hardly more time. The first batch runs concurrently."""

    workers: int = field(default_factory=lambda: max(1, settings.DELIVERY_CONCURRENCY))

    def record(self, *, seconds: float, sends: int, workers: int) -> None:
        if sends <= 0:
            return
        per_send_ms = 1000 * seconds * workers / sends  # as each worker saw it
        slow = per_send_ms >= settings.DELIVERY_CONCURRENT_ABOVE_MS
        self.workers = max(1, settings.DELIVERY_CONCURRENCY) if slow else 1


def _send_all(
    connector: WarehouseConnector,
    orders: list[Order],
    lines: dict[int, list],
    claimed_until: datetime,
    pace: SendPace,
    stop: threading.Event,
) -> list[tuple[str, object]]:
    # A send takes at most a connect and a read timeout: start none that could outlive the claim.
    last_start = claimed_until - timedelta(seconds=2 * settings.HTTP_TIMEOUT_SECONDS + 1)
    workers = max(1, min(pace.workers, len(orders)))
    started = time.monotonic()
    try:
        return _send_shares(connector, orders, lines, stop, last_start, workers)
    finally:
        pace.record(seconds=time.monotonic() - started, sends=len(orders), workers=workers)


def _send_shares(connector, orders, lines, stop, last_start, workers: int) -> list[tuple[str, object]]:
    def send_share(k: int) -> list[tuple[str, object]]:
        # Each worker sends its share one after another: one task per worker, not one per order.
        return [_send(connector, order, lines[order.pk], stop, last_start) for order in orders[k::workers]]

    if workers == 1:
        return send_share(0)
    results: list[tuple[str, object]] = [("unsent", None)] * len(orders)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deliver") as pool:
        for k, share in enumerate(pool.map(send_share, range(workers))):
            results[k::workers] = share
    return results


@dataclass
class _Claimed:
    """A claimed batch, ready to send: its claim token and lease, its orders and their lines."""

    token: str
    claimed_until: datetime
    orders: list[Order]
    lines: dict[int, list]


@dataclass(frozen=True)
class ClaimLease:
    """A claim given to new orders as they are first stored (`BatchDeliverer.lease`): committed with
    them, it is the state `_claim` would leave them in, without its UPDATE and re-read."""

    token: str
    until: datetime

    @classmethod
    def new(cls) -> ClaimLease:
        """A fresh token, held for `DELIVERY_CLAIM_LEASE_SECONDS` from now."""
        return cls(uuid.uuid4().hex, timezone.now() + timedelta(seconds=settings.DELIVERY_CLAIM_LEASE_SECONDS))

    def apply(self, order: Order) -> None:
        order.claimed_by, order.claimed_until = self.token, self.until
        order.delivery_uncertain = True  # from here on a crash makes the next attempt ask the warehouse first
        order.delivery_attempts += 1


def _claim(
    order_ids: list[int], run: SyncRun | None, counts: dict[str, int], warehouses: dict[int, WMSConnection]
) -> _Claimed | None:
    """Claim the `new`, not-uncertain orders among `order_ids` and mark them uncertain (committed
    before any send); those closed at the cart meanwhile are canceled, not sent. `warehouses`
    (by id) is read where it lacks one of theirs and kept for the next batch."""
    now = timezone.now()
    lease = ClaimLease.new()
    token, claimed_until = lease.token, lease.until
    claimed = (
        Order.objects.filter(pk__in=order_ids, status=OrderStatus.NEW, delivery_uncertain=False)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .update(
            claimed_by=token,
            claimed_until=claimed_until,
            delivery_uncertain=True,
            delivery_attempts=F("delivery_attempts") + 1,
        )
    )
    if claimed < len(order_ids):  # claimed by another run meanwhile, or no longer new
        counts[TAKEN] = counts.get(TAKEN, 0) + len(order_ids) - claimed
    if not claimed:
        return None
    # By key as well as by token: `claimed_by` has no index, and a scan of every order per batch
    # grew with the table.
    orders = list(Order.objects.filter(pk__in=order_ids, claimed_by=token).defer(*NOT_READ_FOR_SENDING).order_by("pk"))
    # The warehouse (for its name in the history) once per deliverer, not once per order; its
    # credentials stay encrypted (the connector already holds them).
    missing = {o.warehouse_id for o in orders} - set(warehouses)
    if missing:
        warehouses.update(WMSConnection.objects.defer("credentials").in_bulk(missing))
    for order in orders:
        order.warehouse = warehouses.get(order.warehouse_id)
    closed = [o for o in orders if o.cart_status in (CART_CANCELED, CART_FULFILLED)]
    if closed:
        _cancel(closed, token, run)
        counts["canceled"] = counts.get("canceled", 0) + len(closed)
    to_send = [o for o in orders if o.cart_status not in (CART_CANCELED, CART_FULFILLED)]
    return _Claimed(token, claimed_until, to_send, _lines_for_sending(to_send))


def _record(
    batch: _Claimed,
    results: list[tuple[str, object]],
    connector: WarehouseConnector,
    run: SyncRun | None,
    counts: dict[str, int],
) -> ConnectorError | None:
    """Write a sent batch's outcomes; return the warehouse's stop (429, 401) if one came."""
    from orders.services.delivery import _held, _retry_later  # (the one-at-a-time path)

    token = batch.token
    delivered: list[tuple[Order, WarehouseOrderRef, str]] = []
    unsent: list[Order] = []
    late: list[Order] = []
    stopped: ConnectorError | None = None
    for order, (outcome, value) in zip(batch.orders, results, strict=True):
        if outcome == "delivered":
            delivered.append((order, value, ""))
        elif outcome == "duplicate":  # delivered only if the warehouse's order under it is this one
            sent = warehouse_order_for(order, batch.lines[order.pk])
            try:
                check = reference_check(connector, sent)
            except ConnectorError as exc:
                _retry_later(order, token, reference_unreadable(sent.cust_ref, exc), run, uncertain=True)
                counts["retry"] += 1
                continue
            if check.ours is not None:
                delivered.append((order, check.ours, "already"))
            else:
                counts["held"] += order_hold_reference_taken(order, token, check, sent, connector, run) == HELD
        elif outcome == "held":
            counts["held"] += _held(order, token, value, run, uncertain=False) == "held"
        elif outcome == "refused":
            refused = OrderRejectedError(str(value), status=value.status)
            counts["held"] += _held(order, token, refused, run, uncertain=False) == "held"
        elif outcome == "retry":
            _retry_later(order, token, value, run, uncertain=getattr(value, "maybe_delivered", True))
            counts["retry"] += 1
        elif outcome == "error":
            _retry_later(order, token, value, run, uncertain=True)
            counts["retry"] += 1
        elif outcome == "late":
            late.append(order)
        else:  # "stop" (429/401: not taken) or "unsent" (not tried after the stop)
            unsent.append(order)
            stopped = stopped or (value if outcome == "stop" else None)
    _record_delivered(delivered, token, run)
    counts["delivered"] += len(delivered)
    if unsent:
        _unclaim_unsent(unsent, token, stopped)
    if late:
        _unclaim_unsent(late, token, CLAIM_RAN_OUT)
        counts["claims_ran_out"] = counts.get("claims_ran_out", 0) + len(late)
    if unsent or late:
        counts["not_sent"] = counts.get("not_sent", 0) + len(unsent) + len(late)
    return stopped


CLAIM_RAN_OUT = (
    "Not sent: its delivery claim would have ended before a send could finish (it waited behind other "
    "sends, or DELIVERY_CLAIM_LEASE_SECONDS is too short); the next run sends it."
)


def _unclaim_unsent(orders: list[Order], token: str, why: ConnectorError | str | None) -> None:
    """Give back the claim of orders never sent: as they were before it, with why (if anything stopped us)."""
    Order.objects.filter(pk__in=[o.pk for o in orders], claimed_by=token).update(
        delivery_uncertain=False,
        claimed_by="",
        claimed_until=None,
        delivery_attempts=F("delivery_attempts") - 1,
        last_error=str(why or ""),
    )


class BatchDeliverer:
    """Claims and delivers batches of orders, each batch's sends in a background thread while the
    calling thread does the database work around them: claiming the next batch, recording the last
    one, importing the next page. Only the calling thread touches the database.

    A warehouse stop (429, 401) or a failure of our own is kept, no further batch is claimed, and
    `finish` raises it: `deliver` itself never raises, so an import feeding it carries on."""

    def __init__(
        self,
        connector: WarehouseConnector,
        run: SyncRun | None,
        progress: Callable[[str], None] | None = None,
        *,
        counts: dict[str, int] | None = None,
    ) -> None:
        self.connector, self.run, self.progress = connector, run, progress
        # The outcomes, counted as each batch is recorded (into the caller's dict when given).
        self.counts = counting_into(counts, "delivered", "held", "retry", "canceled")
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
            batch = _claim(order_ids[start : start + DELIVERY_BATCH_SIZE], self.run, self.counts, self._warehouses)
            self._submit(batch)

    def lease(self) -> ClaimLease | None:
        """A claim for orders about to be stored and handed to `deliver_claimed`; none once the
        deliveries have stopped (those orders wait, unclaimed, for the next run)."""
        return None if self._cooling_down() else ClaimLease.new()

    def deliver_claimed(self, lease: ClaimLease, orders: list[Order], lines: dict[int, list]) -> None:
        """Deliver orders stored under `lease` (committed), as they are in memory: nothing to claim
        or read again. Never raises; what it cannot send is released, as a stopped batch's are."""
        try:
            for start in range(0, len(orders), DELIVERY_BATCH_SIZE):
                chunk = orders[start : start + DELIVERY_BATCH_SIZE]
                if self._halted:
                    _unclaim_unsent(orders[start:], lease.token, self.stopped)
                    self.counts["not_sent"] = self.counts.get("not_sent", 0) + len(orders) - start
                    return
                self._submit(_Claimed(lease.token, lease.until, chunk, {o.pk: lines[o.pk] for o in chunk}))
        except Exception as exc:  # a database error or a bug: kept for `finish`; unreleased claims are asked for first
            log.exception("delivering a batch failed")
            self.failed = self.failed or exc

    def _submit(self, batch: _Claimed | None) -> None:
        if batch is not None:
            sending = self._sender.submit(
                _send_all, self.connector, batch.orders, batch.lines, batch.claimed_until, self.pace, self._stop
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


DELIVERED_FIELDS = (
    "warehouse_order_id",
    "status",
    "delivered_at",
    "delivery_uncertain",
    "claimed_by",
    "claimed_until",
    "next_attempt_at",
    "last_error",
    "hold_code",
    "hold_reason",
)


def _record_delivered(delivered: list[tuple[Order, WarehouseOrderRef, str]], token: str, run: SyncRun | None) -> None:
    if not delivered:
        return
    now = timezone.now()
    events = []
    for order, ref, how in delivered:
        order.warehouse_order_id = (ref.warehouse_order_id or "")[:100]
        if how == "already":
            message = already_there_message(order.cust_ref or "", interrupted=False)
        else:
            message = f"Delivered to {order.warehouse.platform_label} as {order.cust_ref}" + (
                f" (warehouse order {ref.warehouse_order_id})." if ref.warehouse_order_id else "."
            )
        events.append(
            OrderEvent(
                order=order,
                message=message,
                code="delivered",
                from_status=OrderStatus.NEW,
                to_status=OrderStatus.AT_WMS,
                sync_run=run,
            )
        )
    # One conditional UPDATE per order (still ours: claimed_by=token), sent as one batch; the status,
    # its history and the problems it resolves are committed together (and once).
    ids = [o.pk for o, _, _ in delivered]
    shared = (OrderStatus.AT_WMS, now, False, "", None, None, "", "", "")
    with transaction.atomic():
        rows_update(
            Order,
            DELIVERED_FIELDS,
            [(o.warehouse_order_id, *shared, o.pk, token) for o, _, _ in delivered],
            where=("pk", "claimed_by"),
        )
        rows_insert(OrderEvent, events)
        Problem.objects.filter(order_id__in=ids, status=Problem.Status.OPEN).update(
            status=Problem.Status.RESOLVED, resolved_at=now
        )


def _cancel(orders: list[Order], token: str, run: SyncRun | None) -> None:
    Order.objects.filter(pk__in=[o.pk for o in orders], claimed_by=token).update(
        status=OrderStatus.CANCELED,
        delivery_uncertain=False,
        claimed_by="",
        claimed_until=None,
        next_attempt_at=None,
        delivery_attempts=F("delivery_attempts") - 1,
    )
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order=order,
                message="Closed at the cart before it reached the warehouse: not sent.",
                code="cart_" + order.cart_status,
                from_status=OrderStatus.NEW,
                to_status=OrderStatus.CANCELED,
                sync_run=run,
            )
            for order in orders
        ]
    )
