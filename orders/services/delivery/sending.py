"""Sending a claimed batch of orders to the warehouse, in threads, without touching the database.

The sends of a batch run concurrently (up to `DELIVERY_CONCURRENCY`) while the warehouse is slow to
answer, one after another while it is fast (`SendPace`). Each send only talks to the warehouse and
says what happened (`SendOutcome`); the calling thread reads the orders before and records the
outcomes after (`batch`, through `claims`).
"""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from django.conf import settings
from django.utils import timezone

from integrations.connectors.base import WarehouseConnector
from integrations.connectors.errors import (
    AuthenticationError,
    BadPayloadError,
    ConnectorError,
    DuplicateReferenceError,
    OrderRejectedError,
    TemporaryError,
    ThrottledError,
)
from orders.models import Order, OrderLine
from orders.services.delivery.verify import warehouse_read_back
from orders.services.translation.translate import warehouse_order_for

log = logging.getLogger(__name__)

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
    "warehouse_verified_at",
    "warehouse_verify_next_at",
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
    "cart_sku",
)


class SendOutcome(StrEnum):
    """What one send did; its value is the warehouse's answer, or the error, or None."""

    DELIVERED = "delivered"  # what the warehouse's order read back as (`verify.ReadBack`)
    DUPLICATE = "duplicate"  # the reference is taken there: by this order or another (asked after)
    HELD = "held"  # refused for a reason in the order
    REFUSED = "refused"  # refused otherwise (a permanent connector error)
    RETRY = "retry"  # a temporary failure, or a payload the warehouse could not read
    ERROR = "error"  # a bug of ours: retried, the warehouse asked first
    STOP = "stop"  # 429 or 401: not taken, and no further send of the batch is tried
    UNSENT = "unsent"  # not tried, after a stop
    LATE = "late"  # not tried: it could have ended after the claim


Sent = tuple[SendOutcome, object]


def lines_for_sending(*, orders: list[Order]) -> dict[int, list]:
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
) -> Sent:
    if stop.is_set():
        return SendOutcome.UNSENT, None
    # Past `last_start` a send could land after our claim expires, when another worker may have
    # taken the order over: leave it to the next attempt.
    if timezone.now() > last_start:
        return SendOutcome.LATE, None
    try:
        sent = warehouse_order_for(order=order, lines=lines)
        ref = connector.submit_order(sent)
    except DuplicateReferenceError as exc:
        return SendOutcome.DUPLICATE, exc
    except OrderRejectedError as exc:
        return SendOutcome.HELD, exc
    except (ThrottledError, AuthenticationError) as exc:
        stop.set()
        return SendOutcome.STOP, exc
    except (TemporaryError, BadPayloadError) as exc:
        return SendOutcome.RETRY, exc
    except ConnectorError as exc:
        return SendOutcome.REFUSED, exc
    except Exception as exc:  # a bug must not lose the order nor stop the batch
        log.exception("delivery of order %s failed", order.pk)
        return SendOutcome.ERROR, exc
    # Read back once delivered (from the answer, or one lookup): it never raises, nor undoes the delivery.
    return SendOutcome.DELIVERED, warehouse_read_back(connector=connector, sent=sent, ref=ref)


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


def orders_send(
    *,
    connector: WarehouseConnector,
    orders: list[Order],
    lines: dict[int, list],
    claimed_until: datetime,
    pace: SendPace,
    stop: threading.Event,
) -> list[Sent]:
    """Send `orders` (claimed until `claimed_until`) at `pace`; one outcome per order, in order.
    `stop` is set by a 429 or 401, and no send starts after it."""
    # A send takes at most a connect and a read timeout: start none that could outlive the claim.
    last_start = claimed_until - timedelta(seconds=2 * settings.HTTP_TIMEOUT_SECONDS + 1)
    workers = max(1, min(pace.workers, len(orders)))
    started = time.monotonic()
    try:
        return _send_shares(connector, orders, lines, stop, last_start, workers)
    finally:
        pace.record(seconds=time.monotonic() - started, sends=len(orders), workers=workers)


def _send_shares(
    connector: WarehouseConnector,
    orders: list[Order],
    lines: dict[int, list],
    stop: threading.Event,
    last_start: datetime,
    workers: int,
) -> list[Sent]:
    def send_share(k: int) -> list[Sent]:
        # Each worker sends its share one after another: one task per worker, not one per order.
        return [_send(connector, order, lines[order.pk], stop, last_start) for order in orders[k::workers]]

    if workers == 1:
        return send_share(0)
    results: list[Sent] = [(SendOutcome.UNSENT, None)] * len(orders)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="deliver") as pool:
        for k, share in enumerate(pool.map(send_share, range(workers))):
            results[k::workers] = share
    return results
