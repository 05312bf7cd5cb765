"""The one module that changes an `OrderChange`'s state, under the rules of a delivery: a change is
claimed with a conditional UPDATE (pending, due, claim free or expired), marked `uncertain` before the
warehouse is called (committed: a crash leaves it asked about first), and every outcome is written
only while the claim is still ours. An applied change is applied to the order as well, which from
then on holds what the warehouse holds.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from integrations.connectors.canonical import WarehouseOrderLine, units_by_sku
from orders.models import Order, OrderChange, OrderLine, OrderStatus, SyncRun
from orders.services.delivery.claims import retry_delay
from orders.services.records.history import order_event, order_set_status
from orders.services.records.problems import CHANGE_NOT_APPLIED, order_problem_raise

CHANGE_PROBLEM = CHANGE_NOT_APPLIED  # the problem's reason code: a change the warehouse may not follow
SHIP_TO = {
    "first_name": "ship_first_name",
    "last_name": "ship_last_name",
    "company": "ship_company",
    "address_1": "ship_address_1",
    "address_2": "ship_address_2",
    "address_3": "ship_address_3",
    "city": "ship_city",
    "state": "ship_state",
    "zip": "ship_zip",
    "country": "ship_country",
    "phone": "ship_phone",
}


def _free(now: datetime) -> Q:
    return Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)


def change_claim(*, change_id: int) -> str | None:
    """Claim a pending, due change for one attempt (taking over an expired claim); its token, or None."""
    now = timezone.now()
    token = uuid.uuid4().hex
    claimed = (
        OrderChange.objects.filter(pk=change_id, status=OrderChange.Status.PENDING)
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .filter(_free(now))
        .update(claimed_by=token, claimed_until=now + timedelta(seconds=settings.DELIVERY_CLAIM_LEASE_SECONDS))
    )
    return token if claimed else None


def _ours(change: OrderChange, token: str):
    return OrderChange.objects.filter(pk=change.pk, claimed_by=token, status=OrderChange.Status.PENDING)


def change_mark_uncertain(*, change: OrderChange, token: str) -> bool:
    """Committed before the warehouse is called; False when the claim is no longer ours (call nothing)."""
    return bool(_ours(change, token).update(uncertain=True, attempts=F("attempts") + 1))


def _close(change: OrderChange, token: str, status: str, result: str) -> bool:
    return bool(
        _ours(change, token).update(
            status=status,
            result=result[:2000],
            uncertain=False,
            claimed_by="",
            claimed_until=None,
            next_attempt_at=None,
            resolved_at=timezone.now(),
        )
    )


@transaction.atomic
def change_applied(*, change: OrderChange, token: str, result: str, run: SyncRun | None) -> bool:
    """The warehouse confirmed the change: closed as applied, and the order made what the warehouse now holds."""
    if not _close(change, token, OrderChange.Status.APPLIED, result):
        return False
    order = Order.objects.select_for_update().get(pk=change.order_id)
    message = f"{change.what}: applied at the warehouse ({result})."
    if change.kind == OrderChange.Kind.CANCEL:
        order_set_status(order=order, status=OrderStatus.CANCELED, message=message, code="change_applied", run=run)
        return True
    _order_follow(order, change.wanted)
    order_event(order=order, message=message, code="change_applied", run=run)
    return True


def _order_follow(order: Order, wanted: dict) -> None:
    """The order's ship-to, shipping code and line quantities as `wanted` (an edit or a partial cancel)."""
    if wanted.get("ship_to"):
        for key, field in SHIP_TO.items():
            setattr(order, field, wanted["ship_to"].get(key) or "")
    if "ship_code" in wanted:
        order.ship_code = wanted["ship_code"] or ""
    order.save()
    left = units_by_sku_of(items=wanted.get("items") or [])
    for line in order.lines.filter(canceled_at_cart=False).order_by("line_no"):
        keep = min(line.quantity, left.get(line.warehouse_sku, 0))
        left[line.warehouse_sku] = left.get(line.warehouse_sku, 0) - keep
        if keep != line.quantity:
            OrderLine.objects.filter(pk=line.pk).update(quantity=keep, canceled_at_cart=keep == 0)


def units_by_sku_of(*, items: list[dict]) -> dict[str, int]:
    """`units_by_sku` of lines kept as JSON ({"sku", "quantity"})."""
    return units_by_sku([WarehouseOrderLine(line_no=0, sku=i["sku"], quantity=int(i["quantity"])) for i in items])


def change_too_late(*, change: OrderChange, token: str, reason: str, run: SyncRun | None) -> bool:
    """The warehouse is picking or has shipped it: closed as too late, with a problem for a person."""
    if not _close(change, token, OrderChange.Status.TOO_LATE, reason):
        return False
    _problem(change, OrderChange.Status.TOO_LATE, f"{change.what}, too late at the warehouse: {reason}", run)
    return True


def change_refused(*, change: OrderChange, token: str, reason: str, run: SyncRun | None) -> bool:
    """The warehouse refused it for a reason a person must look at."""
    if not _close(change, token, OrderChange.Status.REFUSED, reason):
        return False
    _problem(change, OrderChange.Status.REFUSED, f"{change.what}, refused by the warehouse: {reason}", run)
    return True


def change_retry_later(*, change: OrderChange, token: str, reason: str, uncertain: bool, run: SyncRun | None) -> None:
    """No clear answer: tried again with the delivery's backoff; after CHANGE_ATTEMPTS attempts,
    closed as unconfirmed with a problem (a person asks the warehouse)."""
    change.refresh_from_db(fields=["attempts"])
    if change.attempts >= settings.CHANGE_ATTEMPTS:
        if _close(change, token, OrderChange.Status.UNCONFIRMED, reason):
            tries = change.attempts
            _problem(
                change,
                OrderChange.Status.UNCONFIRMED,
                f"{change.what}, not confirmed after {tries} tries: {reason}",
                run,
            )
        return
    _ours(change, token).update(
        uncertain=uncertain,
        claimed_by="",
        claimed_until=None,
        result=reason[:2000],
        next_attempt_at=timezone.now() + retry_delay(max(change.attempts, 1)),
    )


def change_release(*, change: OrderChange, token: str) -> None:
    """Let the claim go without an outcome (the warehouse stopped us: throttled, credentials refused)."""
    _ours(change, token).update(claimed_by="", claimed_until=None)


def change_superseded(*, change: OrderChange, token: str, why: str) -> None:
    """The order never reached the warehouse (or is gone): nothing to pass on."""
    _close(change, token, OrderChange.Status.SUPERSEDED, why)


def _problem(change: OrderChange, status: str, message: str, run: SyncRun | None) -> None:
    order = change.order
    order_event(order=order, message=message, code=f"change_{status}", run=run)
    order_problem_raise(order=order, reason_code=CHANGE_PROBLEM, message=message)
