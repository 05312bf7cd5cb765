"""Every state change of an order writes one history row with a reason a person can act on."""

from __future__ import annotations

from orders.models import Order, OrderEvent, SyncRun


def order_event(
    order: Order,
    message: str,
    *,
    code: str = "",
    from_status: str = "",
    to_status: str = "",
    run: SyncRun | None = None,
) -> OrderEvent:
    return OrderEvent.objects.create(
        order=order, message=message, code=code, from_status=from_status, to_status=to_status, sync_run=run
    )


def order_set_status(
    order: Order, status: str, message: str, *, code: str = "", run: SyncRun | None = None, save: bool = True
) -> None:
    """Change the status (on the instance, saved unless `save=False`) and write the history row."""
    previous = order.status
    order.status = status
    if save:
        order.save()
    order_event(order, message, code=code, from_status=previous, to_status=status, run=run)
