"""Every state change of an order writes one history row with a reason a person can act on."""

from __future__ import annotations

from orders.models import Order, OrderEvent, OrderStatus, SyncRun
from orders.services.problems import order_held_problem, order_problem_key, problems_resolve


def order_event(
    order: Order,
    message: str,
    *,
    code: str = "",
    from_status: str = "",
    to_status: str = "",
    run: SyncRun | None = None,
) -> OrderEvent:
    event = OrderEvent.objects.create(
        order=order, message=message, code=code, from_status=from_status, to_status=to_status, sync_run=run
    )
    if to_status == OrderStatus.ERROR:
        order_held_problem(order)
    elif to_status:
        problems_resolve(prefix=order_problem_key(order))
    return event


def order_set_status(
    order: Order, status: str, message: str, *, code: str = "", run: SyncRun | None = None, save: bool = True
) -> None:
    """Change the status (on the instance, saved unless `save=False`) and write the history row."""
    previous = order.status
    order.status = status
    if save:
        order.save()
    order_event(order, message, code=code, from_status=previous, to_status=status, run=run)
