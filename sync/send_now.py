"""Send now and Retry, for orders, in the admin and on the merchant pages: what can be checked without
a platform is checked in the request, the delivery is queued as a send-now `Job` (one per merchant)
for the worker, and the page follows the job to its summary (`sync.jobs`).

- `order_send_now`: an order page's Send now (admin and merchant alike).
- `orders_retry_queue`: the admin lists' Retry: held orders re-checked against the SKU lists as last
  read, then every order still waiting queued (the worker checks the held ones against the
  warehouse's current list).
- `orders_send_queue`: the admin list's Send now: every chosen order queued as it is.
- `order_send_job`: the send-now job an order's page follows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone

from orders.models import Order, OrderStatus
from orders.services.delivery.holds import NOT_RECHECKED, held_orders_recheck
from orders.services.hand_hold import order_release_by_hand
from orders.services.holds_fix import FixResult, order_send_check
from orders.services.records.history import order_event
from sync.jobs import job_queue
from sync.models import Job

FOLLOW_FOR = timedelta(hours=1)  # an order page still follows its send-now job this long


def _person(user: AbstractBaseUser | None) -> str:
    return user.get_username() if user is not None and user.is_authenticated else "someone"


def orders_send_queue(*, orders: Iterable[Order], user: AbstractBaseUser | None) -> list[Job]:
    """Queue the sending of `orders` in the worker: one send-now job per merchant (each followed on
    its own page). The jobs are read back: with tasks run inline (the test settings) they are done."""
    by_merchant: dict[int, list[Order]] = {}
    for order in orders:
        by_merchant.setdefault(order.merchant_id, []).append(order)
    jobs = []
    for group in by_merchant.values():
        job = job_queue(kind=Job.Kind.SEND_ORDERS, orders=group, user=user)
        job.refresh_from_db()
        jobs.append(job)
    return jobs


def order_send_job(*, order: Order, job_id: str = "") -> Job | None:
    """The send-now job the order's page follows: `job_id` (from the page's address) when it is
    one of this order's, else one still queued or running for it."""
    jobs = Job.objects.filter(merchant_id=order.merchant_id, kind=Job.Kind.SEND_ORDERS)
    if job_id.isdigit():
        job = jobs.filter(pk=int(job_id)).first()
        if job is not None and order.pk in job.order_ids:
            return job
    recent = jobs.filter(created_at__gte=timezone.now() - FOLLOW_FOR).exclude(state=Job.State.FINISHED)
    return next((job for job in recent.order_by("-pk")[:20] if order.pk in job.order_ids), None)


def order_send_now(*, order: Order, user: AbstractBaseUser | None) -> tuple[FixResult, Job | None]:
    """An order page's Send now: the order is checked here (a held one re-checked, no platform
    called), then its delivery is queued for the worker as a job the page follows. A send of the
    order still queued or running is followed rather than doubled."""
    active = order_send_job(order=order)
    if active is not None:
        text = f"Order #{order.order_number}: a send now is already {active.get_state_display()}; it shows below."
        return FixResult(False, "info", text), active
    check = order_send_check(order=order, user=user)
    if not check.done:
        return check, None
    asked = f"Send now asked by {_person(user)}: queued in the worker."
    order_event(order=order, message=asked, code="send_queued", user=user)
    [job] = orders_send_queue(orders=[order], user=user)
    if job.finished:  # tasks run inline (the test settings)
        return FixResult(True, job.level, job.summary), job
    return FixResult(True, "info", f"{check.message} Its progress shows below."), job


@dataclass
class RetryQueued:
    """What a list's Retry did in the request: held orders released or still held (as counted),
    the jobs that send the ready ones, and how many orders were not waiting to be sent."""

    counts: dict[str, int]
    jobs: list[Job] = field(default_factory=list)
    not_pending: int = 0

    @property
    def queued(self) -> int:
        return sum(len(job.order_ids) for job in self.jobs)


def orders_retry_queue(*, order_ids: list[int], user: AbstractBaseUser | None) -> RetryQueued:
    """Retry from a list: record who asked on each order, re-check the held ones here against the
    SKU lists as last read (a stale list is read again in the worker), and queue every order still
    waiting as send-now jobs: the worker checks the held ones again against the warehouse's current
    SKU list and sends what is ready. Nothing calls a platform in the request."""
    orders = list(Order.objects.filter(pk__in=order_ids).select_related("warehouse", "cart_connection"))
    who = _person(user)
    for order in orders:
        order_event(order=order, message=f"Retry asked by {who}.", code="retry_asked", user=user)
    counts = held_orders_recheck(orders=orders, why=f"retry asked by {who}", live_skus=False)
    waiting = Order.objects.filter(pk__in=order_ids, status__in=(OrderStatus.NEW, OrderStatus.ERROR))
    waiting = waiting.exclude(status=OrderStatus.ERROR, hold_code__in=NOT_RECHECKED).order_by("pk")
    not_pending = sum(order.status not in (OrderStatus.NEW, OrderStatus.ERROR) for order in orders)
    return RetryQueued(counts=counts, jobs=orders_send_queue(orders=waiting, user=user), not_pending=not_pending)


def order_release_now(*, order: Order, user: AbstractBaseUser | None) -> tuple[FixResult, Job | None]:
    """An order page's Release: the order is released from its hold by hand or its hold window
    (`orders.services.hand_hold`), then, when it is ready, its send is queued as Send now does."""
    released = order_release_by_hand(order=order, user=user)
    if not released.done or order.status != OrderStatus.NEW:
        return released, None
    sent, job = order_send_now(order=order, user=user)
    return FixResult(True, sent.level, f"{released.message} {sent.message}"), job
