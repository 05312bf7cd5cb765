"""The chaos run's changes at the cart: whether our side has settled on them, and the figures about them.

``changes_unsettled`` (the harness waits on it): changes the cart made that our import has not seen yet
(the order's cart version in our database is older, and the order was not skipped as canceled when first
seen), and changes still pending in our database.

``change_figures`` judges each order on what the two sandboxes hold (``cart_changes.order_sides``: the
cart's last version, the warehouse's order and whether it shipped); our database is read only for
"flagged", a ``change_not_applied`` problem raised for the order, which is what those figures are about.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from orders.models import Order, OrderChange, Problem, SkippedOrder
from orders.services.changes.claims import CHANGE_PROBLEM


def changes_unsettled(cart_id: int, made: dict[str, str]) -> dict[str, int]:
    """``unseen``: cart changes our import has not caught up with; ``pending``: changes not passed on yet."""
    seen = dict(
        Order.objects.filter(cart_connection_id=cart_id, order_number__in=list(made)).values_list(
            "order_number", "cart_modified_at"
        )
    )
    skipped = set(
        SkippedOrder.objects.filter(cart_connection_id=cart_id, order_number__in=list(made)).values_list(
            "order_number", flat=True
        )
    )
    unseen = 0
    for number, version in made.items():
        ours = seen.get(number)
        caught_up = ours is not None and ours >= datetime.fromisoformat(version)
        unseen += not (caught_up or (ours is None and number in skipped))
    pending = OrderChange.objects.filter(order__cart_connection_id=cart_id, status=OrderChange.Status.PENDING).count()
    return {"unseen": unseen, "pending": pending}


def change_figures(cart_id: int, sides: dict[str, Any]) -> dict[str, Any]:
    """What became of the cart's cancellations and edits, and the two figures that must stay 0."""
    order_sides, made = sides["order_sides"], sides["cart_changes"]
    flagged = set(
        Problem.objects.filter(cart_connection_id=cart_id, reason_code=CHANGE_PROBLEM).values_list(
            "order__order_number", flat=True
        )
    )
    figures = dict.fromkeys(
        (
            "canceled_at_cart",
            "canceled_in_time",
            "canceled_too_late_flagged",
            "shipped_after_cancel_unflagged",
            "edited_at_cart",
            "edits_applied",
            "edits_too_late_flagged",
            "shipped_stale_unflagged",
        ),
        0,
    )
    unflagged: list[str] = []
    for number, side in order_sides.items():
        shipped, is_flagged = side["warehouse"] == "shipped", number in flagged
        if side["canceled_at_cart"]:
            figures["canceled_at_cart"] += 1
            figures["canceled_in_time"] += not shipped
            figures["canceled_too_late_flagged"] += shipped and is_flagged
            figures["shipped_after_cancel_unflagged"] += shipped and not is_flagged
        elif number in made:
            figures["edited_at_cart"] += 1
            figures["edits_applied"] += side["same"]
            figures["edits_too_late_flagged"] += side["warehouse"] != "absent" and not side["same"] and is_flagged
        if shipped and not is_flagged and (side["canceled_at_cart"] or not side["same"]):
            unflagged.append(number)
        if shipped and not side["same"] and not side["canceled_at_cart"] and not is_flagged:
            figures["shipped_stale_unflagged"] += 1
    figures["changes_unflagged_orders"] = sorted(unflagged)
    figures["cart_changes_made"] = len(made)
    figures["changes_outcomes"] = _outcomes(cart_id)
    return figures


def _outcomes(cart_id: int) -> dict[str, int]:
    """Our database's outcome of each change (for reading the run, not for judging it)."""
    outcomes: dict[str, int] = {}
    for status in OrderChange.objects.filter(order__cart_connection_id=cart_id).values_list("status", flat=True):
        outcomes[status] = outcomes.get(status, 0) + 1
    return outcomes
