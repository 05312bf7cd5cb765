"""What the cart changed on an order the warehouse has, or may have: recorded as a pending `OrderChange`.

The order as the cart has it now is translated as it would be sent (the same aliases and shipping
map as a new order) and compared with what the warehouse was sent: a cancellation at the cart, lines
canceled or fewer (a partial cancellation), or any other difference in the ship-to, the lines and
quantities or the shipping method (an edit, carrying the whole order as it should be). Nothing that
the warehouse holds differs: nothing is recorded. A later version replaces a change not yet passed on.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import datetime

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from integrations.connectors.canonical import CART_CANCELED, CartOrder, WarehouseOrder
from orders.models import Order, OrderChange, OrderLine, SyncRun
from orders.services.records.history import order_event
from orders.services.translation.cart_fields import SHIP_TO_FIELDS, apply_cart_fields, build_lines
from orders.services.translation.translate import TranslationContext, order_translate, warehouse_order_for

ADDRESS_FIELDS = ("first_name", "last_name", "company", "address_1", "address_2", "address_3", "city", "state", "zip")
SHIP_TO_MORE = ("country", "phone", "email")


def cart_change_record(
    *, order: Order, co: CartOrder, ctx: TranslationContext, run: SyncRun | None
) -> OrderChange | None:
    """Record what the cart changed on `order` (sent, or maybe sent) as a change to pass on; None when
    the warehouse holds nothing that differs."""
    if co.cart_status == CART_CANCELED:
        kind, what, wanted = OrderChange.Kind.CANCEL, "Canceled at the cart", {}
    else:
        stored_lines = list(order.lines.all())
        if not _changed_at_cart(order, stored_lines, co):
            return None  # what the cart says is what we have (a new alias or map is not a change at the cart)
        sent = warehouse_order_for(order=order, lines=stored_lines)
        now = _as_the_cart_has_it(order, co, ctx)
        differences = order_differences(sent=sent, now=now)
        if not differences:
            return None
        kind = OrderChange.Kind.CANCEL_LINES if _only_fewer(sent, now) else OrderChange.Kind.EDIT
        what, wanted = "Changed at the cart: " + "; ".join(differences), _as_json(now)
    return _record(order, kind, what, wanted, co.modified_at, run)


CART_FIELDS = (*SHIP_TO_FIELDS, "orig_ship_code")  # what a warehouse is sent, as the cart gives it


def _changed_at_cart(order: Order, lines: list[OrderLine], co: CartOrder) -> bool:
    """Whether the cart's version differs from ours in what a warehouse is sent (before translation)."""
    version = copy.copy(order)
    apply_cart_fields(order=version, co=co)
    if any(getattr(order, f) != getattr(version, f) for f in CART_FIELDS):
        return True
    ours = sorted((ln.cart_sku, ln.quantity, ln.canceled_at_cart) for ln in lines)
    theirs = sorted((ln.cart_sku, ln.quantity, ln.canceled_at_cart) for ln in build_lines(order=version, co=co))
    return ours != theirs


def _as_json(order: WarehouseOrder) -> dict:
    """The order as plain JSON (times as ISO text, prices as decimal text)."""
    return json.loads(json.dumps(dataclasses.asdict(order), cls=DjangoJSONEncoder))


def _as_the_cart_has_it(order: Order, co: CartOrder, ctx: TranslationContext) -> WarehouseOrder:
    """The order translated from the cart's version, in memory (nothing is saved)."""
    version = copy.copy(order)
    apply_cart_fields(order=version, co=co)
    lines = build_lines(order=version, co=co)
    order_translate(order=version, lines=lines, ctx=ctx)
    return warehouse_order_for(order=version, lines=lines)


def order_differences(*, sent: WarehouseOrder, now: WarehouseOrder) -> list[str]:
    """What differs between what the warehouse was sent and the order now, in words."""
    differences = []
    before, after = sent.ship_to, now.ship_to
    changed = [f for f in ADDRESS_FIELDS + SHIP_TO_MORE if getattr(before, f) != getattr(after, f)]
    if changed:
        fields = ", ".join(f.replace("_", " ") for f in changed)
        differences.append(f"ship-to ({fields}) now {after.full_name}, {after.address_1}, {after.city}")
    if sent.ship_code != now.ship_code:
        differences.append(f"shipping {sent.ship_code or 'none'} → {now.ship_code or 'none'}")
    was, is_now = _quantities(sent), _quantities(now)
    for sku in sorted(set(was) | set(is_now)):
        if was.get(sku, 0) != is_now.get(sku, 0):
            differences.append(f"{sku} × {was.get(sku, 0)} → {is_now.get(sku, 0)}")
    return differences


def _quantities(order: WarehouseOrder) -> dict[str, int]:
    quantities: dict[str, int] = {}
    for item in order.items:
        quantities[item.sku] = quantities.get(item.sku, 0) + int(item.quantity)
    return quantities


def _only_fewer(sent: WarehouseOrder, now: WarehouseOrder) -> bool:
    """Only lines canceled or quantities lowered: a partial cancellation."""
    was, is_now = _quantities(sent), _quantities(now)
    same_rest = sent.ship_to == now.ship_to and sent.ship_code == now.ship_code
    return same_rest and all(is_now.get(sku, 0) <= n for sku, n in was.items()) and set(is_now) <= set(was)


def _record(
    order: Order, kind: str, what: str, wanted: dict, version: datetime | None, run: SyncRun | None
) -> OrderChange | None:
    """The change, once per order, kind and cart version; earlier changes not yet passed on (and not
    being passed on now) are replaced by it. The same change the warehouse already answered with a
    definite no (too late, refused) is not recorded again when the cart's order moves for another
    reason (a tracking push, a note): a person has its problem already."""
    latest = (
        OrderChange.objects.filter(order=order).exclude(status=OrderChange.Status.SUPERSEDED).order_by("-pk").first()
    )
    answered = (OrderChange.Status.TOO_LATE, OrderChange.Status.REFUSED)
    if latest is not None and latest.status in answered and (latest.kind, latest.wanted) == (kind, wanted):
        return None
    # The newer change carries the whole order (or cancels it): an older one not being passed on right
    # now is dropped, even one that may have reached the warehouse (the connectors read the order first).
    now = timezone.now()
    open_changes = OrderChange.objects.filter(order=order, status=OrderChange.Status.PENDING).filter(
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )
    open_changes.exclude(kind=kind, cart_modified_at=version).update(
        status=OrderChange.Status.SUPERSEDED, resolved_at=now, claimed_by="", claimed_until=None
    )
    try:
        with transaction.atomic():
            change = OrderChange.objects.create(
                order=order,
                merchant_id=order.merchant_id,
                kind=kind,
                cart_modified_at=version,
                what=what,
                wanted=wanted,
            )
    except IntegrityError:  # this version was recorded already (seen again in the overlap window)
        return None
    order_event(
        order=order,
        message=f"{what}. To pass on to the warehouse (not changed there yet).",
        code=f"change_{kind}",
        run=run,
    )
    return change
