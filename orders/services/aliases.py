"""A person saved SKU aliases on the alias pages (the admin's, the merchant's, a CSV import in
either): the merchant's orders held for those cart SKUs are checked again, with the warehouse's SKU
list as last read (no call to a platform in the request), and "released" counts only the orders that
now pass every check and will go. Each of those orders gets a history row with the person.

The SKUs themselves are checked before saving, by `translation.sku_check` (the order pages' check).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.base_user import AbstractBaseUser
from django.db.models import Q

from orders.models import HoldCode, Order, OrderStatus
from orders.services.holds_fix import order_revalidate
from orders.services.records.history import order_event


@dataclass(frozen=True)
class AliasRelease:
    """What re-checking the held orders did: `released` will go, `still_held` are held still
    (for this SKU or another reason)."""

    released: int = 0
    still_held: int = 0

    def describe(self) -> str:
        """The sentence for the page ("" when no order was held for these SKUs)."""
        text = ""
        if self.released:
            text += (
                f" {self.released} held order(s) released: they pass every check now and will go with the next sync."
            )
        if self.still_held:
            text += f" {self.still_held} order(s) with these SKUs are still held: their pages say why."
        return text


def person_name(*, user: AbstractBaseUser | None) -> str:
    return user.get_username() if user is not None and user.is_authenticated else "someone"


def aliases_saved(
    *, merchant_id: int, cart_skus: Iterable[str], what: str, user: AbstractBaseUser | None
) -> AliasRelease:
    """Check again the merchant's orders held for an unknown SKU that one of `cart_skus` names;
    `what` says what the person did ("SKU alias A → B added by ann"), for each order's history."""
    cart_skus = list(dict.fromkeys(cart_skus))
    if not cart_skus:
        return AliasRelease()
    orders = (
        Order.objects.filter(merchant_id=merchant_id, status=OrderStatus.ERROR, hold_code=HoldCode.UNKNOWN_SKU)
        .filter(Q(lines__cart_sku__in=cart_skus) | Q(lines__warehouse_sku__in=cart_skus))
        .distinct()
        .select_related("warehouse", "cart_connection")
        .order_by("pk")
    )
    released = still_held = 0
    for order in orders:
        order_event(order=order, message=f"{what}.", code="alias_saved", user=user)
        status, _ = order_revalidate(order=order, why=what)
        if status == OrderStatus.NEW:
            released += 1
        else:
            still_held += 1
    return AliasRelease(released=released, still_held=still_held)
