"""Every state change of an order writes one history row with a reason a person can act on.

This module is the only writer of `OrderEvent`: one row at a time (`order_event`, `order_set_status`)
or many with one insert (`order_events_write`, for the paths that store or deliver a batch). Either
way a row that changes the status keeps the issues list in step: a hold raises (or renames) the
order's open problem, any other status resolves its open problems.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser

from orders.models import Order, OrderEvent, OrderStatus, SyncRun
from orders.services.bulk import rows_insert
from orders.services.records.problems import (
    LASTING_ORDER_PROBLEMS,
    order_held_problem,
    order_problem_key,
    order_problems_resolve,
    problems_resolve,
)


def order_event(
    *,
    order: Order,
    message: str,
    code: str = "",
    from_status: str = "",
    to_status: str = "",
    run: SyncRun | None = None,
    user: AbstractBaseUser | None = None,
) -> OrderEvent:
    """One history row; `user`: the person whose action it was (None when the sync did it)."""
    event = OrderEvent.objects.create(
        order=order,
        message=message,
        code=code,
        from_status=from_status,
        to_status=to_status,
        sync_run=run,
        user=user if user is not None and user.is_authenticated else None,
    )
    if to_status == OrderStatus.ERROR:
        order_held_problem(order=order)
    elif to_status:
        problems_resolve(prefix=order_problem_key(order=order), keep=LASTING_ORDER_PROBLEMS)
    return event


def order_set_status(
    *,
    order: Order,
    status: str,
    message: str,
    code: str = "",
    run: SyncRun | None = None,
    save: bool = True,
    user: AbstractBaseUser | None = None,
) -> None:
    """Change the status (on the instance, saved unless `save=False`) and write the history row."""
    previous = order.status
    order.status = status
    if save:
        order.save()
    order_event(order=order, message=message, code=code, from_status=previous, to_status=status, run=run, user=user)


@dataclass(frozen=True, slots=True)
class EventRow:
    """One history row for `order_events_write`: what `order_event` takes, for one order."""

    order: Order
    message: str
    code: str = ""
    from_status: str = ""
    to_status: str = ""


def order_events_write(*, events: Sequence[EventRow], run: SyncRun | None, new_orders: bool = False) -> None:
    """Write many history rows (all of one run) with one insert, with `order_event`'s effect on the
    issues list for each order's last change of status among them: to `error`, its held problem is
    raised (order by order, as `order_event` does); to another status, its open problems are
    resolved, for every such order with one UPDATE. `new_orders`: the orders were stored with these
    rows, so none of them has a problem to resolve and that UPDATE is not sent."""
    if not events:
        return
    rows_insert(
        OrderEvent,
        [
            OrderEvent(
                order=e.order,
                message=e.message,
                code=e.code,
                from_status=e.from_status,
                to_status=e.to_status,
                sync_run=run,
            )
            for e in events
        ],
    )
    last_change = {e.order.pk: e for e in events if e.to_status}
    resolved = [pk for pk, e in last_change.items() if e.to_status != OrderStatus.ERROR]
    if resolved and not new_orders:
        order_problems_resolve(order_ids=resolved)
    for e in last_change.values():
        if e.to_status == OrderStatus.ERROR:
            order_held_problem(order=e.order)
