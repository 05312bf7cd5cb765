"""What the cart showed of the levels pushed to it: a level counts as set only when the cart shows it.

A cart's "accepted" is its claim; the connector reads the levels back (in the answer, or one read after
the write) and says which keys the cart shows at the level sent (`InventoryPushResult.verified`) and
what it shows for the others. A level not shown is not recorded as pushed, so the next run sends it
again; when the same levels stay unshown for INVENTORY_UNVERIFIED_PROBLEM_AFTER_RUNS pushes in a row,
the cart connection gets a problem that names their SKUs.
"""

from __future__ import annotations

from django.conf import settings

from integrations.connectors.canonical import InventoryPushResult
from integrations.models import CartConnection
from inventory.models import CartInventoryLevel
from orders.services.records.problems import connection_problem_key, problem_raise, problems_resolve

CANNOT_READ_BACK = "cannot be read back: this cart's connector cannot ask it what it shows"
UNVERIFIED_REASON = "inventory_unverified"
PROBLEM_SKUS = 10  # SKUs named in the problem; the rest are counted


def levels_unverified(*, result: InventoryPushResult) -> dict[str, str]:
    """The accepted keys the cart did not show at their level, with why: a connector that says
    nothing of what the cart shows (it cannot read back) leaves all it sent unverified."""
    unknown = {key: CANNOT_READ_BACK for key in result.accepted if key not in result.verified}
    return {**unknown, **result.unverified}


def unverified_levels_problem(*, connection: CartConnection) -> None:
    """Raise (or refresh) the connection's problem when some levels were not shown by the cart for
    INVENTORY_UNVERIFIED_PROBLEM_AFTER_RUNS pushes in a row, naming their SKUs; resolve it otherwise.

    Its key names the connection's inventory, not the connection (`connection_problem_key`): every
    succeeding run resolves the connection's own problems, this one included, in the run that raised it."""
    after = settings.INVENTORY_UNVERIFIED_PROBLEM_AFTER_RUNS
    key = f"inventory:{connection_problem_key(connection=connection, reason_code=UNVERIFIED_REASON)}"
    stuck = CartInventoryLevel.objects.filter(
        cart_connection=connection, state=CartInventoryLevel.State.UNVERIFIED, unverified_runs__gte=after
    ).order_by("cart_sku")
    skus = list(stuck.values_list("cart_sku", flat=True)[: PROBLEM_SKUS + 1])
    if not skus:
        problems_resolve(prefix=key)
        return
    named = ", ".join(skus[:PROBLEM_SKUS]) + (
        f" and {stuck.count() - PROBLEM_SKUS} more" if len(skus) > PROBLEM_SKUS else ""
    )
    problem_raise(
        key=key,
        merchant_id=connection.merchant_id,
        reason_code=UNVERIFIED_REASON,
        message=f"{connection}: the cart does not show the stock levels sent for {named} after {after} or more "
        "pushes in a row (sent again each run). Check the items' stock settings at the cart (unlimited stock, "
        "another app setting stock) and the inventory levels page for what the cart shows.",
        cart_connection_id=connection.pk,
    )
