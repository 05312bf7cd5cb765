"""A reconciliation's traces: its row (for the pages), and one problem per connection while it has gaps
or cannot be read (for the issues list, the alert digests and the staff dashboard)."""

from __future__ import annotations

from django.utils import timezone

from integrations.models import CartConnection
from orders.services.records.problems import (
    RECONCILE_GAP,
    connection_problem,
    connection_problem_key,
    problems_resolve,
)
from sync.models import Reconciliation
from sync.reconcile.result import ConnectionResult

REASON_CODE = RECONCILE_GAP
MAX_NAMED = 10


def gap_message(*, result: ConnectionResult) -> str:
    if not result.readable:
        return f"the daily reconciliation could not read every side, so nothing is proven: {result.error}"
    gaps = result.gaps
    named = "; ".join(f"#{g.order_number} {g.category.replace('_', ' ')}" for g in gaps[:MAX_NAMED])
    more = f" and {len(gaps) - MAX_NAMED} more" if len(gaps) > MAX_NAMED else ""
    return f"the daily reconciliation found {len(gaps)} gap(s): {named}{more}. See the merchant's page for what to do."


def reconciliation_record(*, connection: CartConnection, result: ConnectionResult) -> Reconciliation:
    """Store the result; open (or count up) the connection's problem, or resolve it when clean."""
    row = Reconciliation.objects.create(
        merchant_id=connection.merchant_id,
        cart_connection=connection,
        window_start=result.window_start,
        window_end=result.window_end,
        counts=result.counts(),
        gap_list=[g.as_dict() for g in result.gaps],
        error=result.error,
        notes="\n".join(result.notes),
        finished_at=timezone.now(),
    )
    if result.clean:
        problems_resolve(prefix=connection_problem_key(connection=connection, reason_code=REASON_CODE))
    else:
        connection_problem(connection=connection, reason_code=REASON_CODE, message=gap_message(result=result))
    return row
