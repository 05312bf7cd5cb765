"""What polling found that the webhooks did not announce, counted on the run.

While a cart's webhooks are live, polling runs slower and is the safety net. An order a polling run
imported or changed, modified at the cart after the subscription was made, with no notification
about it from around that time, was missed by the webhooks (Squarespace, for one, sends none for an
address or line edit): it is counted on the run as `missed_by_webhooks` and said in its notes.
"""

from __future__ import annotations

from datetime import timedelta

from integrations.models import CartConnection, WebhookSubscription
from orders.models import Order, SyncRun
from sync.models import WebhookNotification

# A notification's time and the order's modification time come from the platform's clocks and
# may differ a little: one made this long before the modification still announces it.
ANNOUNCE_MARGIN = timedelta(minutes=2)


def missed_by_webhooks_count(
    *, connection: CartConnection, run: SyncRun, counts: dict[str, int], notes: list[str]
) -> int:
    """Count (into `counts` and `notes`) the orders this polling run found that no notification announced."""
    live_since = (
        WebhookSubscription.objects.filter(connection=connection, created_at__lte=run.started_at)
        .order_by("created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if live_since is None:
        return 0
    since = max(live_since, run.window_start) if run.window_start else live_since
    found = Order.objects.filter(
        cart_connection=connection, events__sync_run=run, cart_modified_at__gte=since
    ).distinct()
    missed = 0
    for cart_order_id, modified_at in found.values_list("cart_order_id", "cart_modified_at"):
        announced = WebhookNotification.objects.filter(
            cart_connection=connection, cart_order_id=cart_order_id, event_at__gte=modified_at - ANNOUNCE_MARGIN
        ).exists()
        missed += not announced
    if missed:
        counts["missed_by_webhooks"] = missed
        notes.append(
            f"{missed} order(s) new or changed at the cart were found by polling, not announced by a webhook "
            "(polling is the safety net: they are imported all the same)."
        )
    return missed
