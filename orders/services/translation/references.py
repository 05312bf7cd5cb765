"""Order references (`cust_ref`) and the warehouse account they are reserved in.

A reference is unique, ignoring case, among the orders going to one warehouse account
(`Order.warehouse_account`, set together with the reference and guarded by a unique constraint):
connections of one merchant or several that reach the same account (`integrations.accounts`) never
give two orders one reference. Candidates come from `cust_ref.cust_ref_candidates`, derived from the
order, so the same order always gets the same ones.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Lower
from django.utils import timezone

from integrations.accounts import connection_account_key
from integrations.models import WMSConnection
from orders.models import Order, OrderStatus
from orders.services.lookups import cust_refs_taken
from orders.services.records.history import order_event
from orders.services.translation.cust_ref import cust_ref_candidates

TEST_PREFIX = "TEST"
MOVE_ATTEMPTS = 3


def reference_candidates(*, order: Order, warehouse: WMSConnection) -> Iterator[str]:
    """The order's references to try, in order, within the warehouse's limits. A test order's start
    with TEST (the plain order number when it fits), then, should every one be taken, come the
    ordinary ones."""

    def candidates(number: str, prefix: str) -> Iterator[str]:
        return cust_ref_candidates(
            order_number=number,
            identity=f"{order.cart_connection_id}:{order.cart_order_id}",
            max_length=min(warehouse.cust_ref_max_length, Order._meta.get_field("cust_ref").max_length),
            charset=warehouse.cust_ref_charset,
            prefix=prefix,
        )

    if order.is_test:
        number = order.order_number.removeprefix(f"{TEST_PREFIX}-")
        yield from candidates(number, f"{warehouse.cust_ref_prefix}{TEST_PREFIX}-")
    yield from candidates(order.order_number, warehouse.cust_ref_prefix)


def order_reference_reserve(*, order: Order, candidates: Iterable[str], replacing: str | None = None) -> str | None:
    """Give the order the first candidate free in its warehouse's account (ignoring case), with that
    account: only while it still has no reference (or still has `replacing`, which is never chosen
    again). Returns the reference given, or None when every candidate is taken or the order changed."""
    account = connection_account_key(order.warehouse)
    current = Q(cust_ref=replacing) if replacing is not None else Q(cust_ref__isnull=True)
    for candidate in candidates:
        if replacing is not None and candidate.lower() == replacing.lower():
            continue
        if cust_refs_taken(account, {candidate.lower()}):
            continue
        try:
            with transaction.atomic():
                updated = Order.objects.filter(current, pk=order.pk).update(
                    cust_ref=candidate, warehouse_account=account
                )
        except IntegrityError:  # taken a moment ago
            continue
        if not updated:
            return None
        order.cust_ref, order.warehouse_account = candidate, account
        return candidate
    return None


def order_reference_propose(*, order: Order) -> str | None:
    """A new reference for an order whose own is used at the warehouse by another order: the next free
    one after it in the order's own candidates (so that each refusal moves on, never back), reserved now.
    None when no candidate is left."""
    taken = order.cust_ref or ""
    candidates = list(reference_candidates(order=order, warehouse=order.warehouse))
    lowered = [candidate.lower() for candidate in candidates]
    after = lowered.index(taken.lower()) + 1 if taken.lower() in lowered else 0
    return order_reference_reserve(order=order, candidates=candidates[after:], replacing=taken)


def _unsent() -> Q:
    """Orders whose reference no send can have carried yet: waiting or held, not uncertain, not claimed."""
    claim_free = Q(claimed_by="") | Q(claimed_until__isnull=True) | Q(claimed_until__lt=timezone.now())
    return (
        Q(status__in=(OrderStatus.NEW, OrderStatus.ERROR), delivery_uncertain=False, delivered_at__isnull=True)
        & claim_free
    )


def warehouse_orders_move_account(*, warehouse_id: int, previous: str, current: str, sent_too: bool) -> int:
    """The warehouse connection now reaches account `current`: its orders' references move there.

    Those not sent yet move; sent ones too when `previous` only stood for the connection itself (its
    account was not known: they went to this one). A reference `current` already has stays behind: a
    sent order keeps it (the warehouse has it so), an unsent one is given a new reference there.
    Returns how many orders moved or were given a new reference."""
    mine = Order.objects.filter(warehouse_id=warehouse_id, warehouse_account=previous, cust_ref__isnull=False)
    movable = mine if sent_too else mine.filter(_unsent())
    clash = (
        Order.objects.filter(warehouse_account=current, cust_ref__isnull=False)
        .annotate(ref=Lower("cust_ref"))
        .filter(ref=Lower(OuterRef("cust_ref")))
    )
    moved = 0
    for attempt in range(MOVE_ATTEMPTS):
        try:
            with transaction.atomic():
                moved = movable.filter(~Exists(clash)).update(warehouse_account=current)
            break
        except IntegrityError:  # a reference was taken in `current` meanwhile: look again
            if attempt == MOVE_ATTEMPTS - 1:
                raise
    renamed = 0
    for order in mine.filter(_unsent()).select_related("warehouse"):
        taken = order.cust_ref
        if order_reference_propose(order=order):
            renamed += 1
            Order.objects.filter(pk=order.pk).update(warehouse_payload=None)
            order_event(
                order=order,
                message=f"Reference {taken} is used by another order of the warehouse account this connection now "
                f"reaches: this order now has reference {order.cust_ref}.",
                code="reference_changed",
            )
    return moved + renamed
