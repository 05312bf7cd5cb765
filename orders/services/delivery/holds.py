"""Releasing held orders: when the cause is fixed (an alias, a shipping mapping, a retry)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum

from django.contrib.auth.base_user import AbstractBaseUser

from integrations.connectors.errors import ConnectorError, ThrottledError
from integrations.models import WMSConnection
from integrations.services import ConnectionNotConfigured, warehouse_connector_for
from integrations.tenancy import CrossMerchantLink
from orders.models import HoldCode, Order, OrderStatus, SKUAlias
from orders.selectors import orders_held_for_alias, orders_held_for_shipping
from orders.services.delivery.claims import DeliveryOutcome
from orders.services.delivery.deliver import order_deliver
from orders.services.intake.prepare import order_prepare
from orders.services.records.history import order_event
from orders.services.translation.sku_check import sku_list_refresh
from orders.services.translation.sku_list import sku_list_stored
from orders.services.translation.translate import load_context, warehouse_skus

# Holds that only the cart can fix are re-read by the next import, not re-checked here.
CART_SIDE_HOLDS = {HoldCode.BAD_PAYLOAD}
# Holds that no check, retry or send lifts: only a person's release (`hand_hold`).
PERSON_HOLDS = {HoldCode.HELD_BY_HAND}
NOT_RECHECKED = CART_SIDE_HOLDS | PERSON_HOLDS


class RecheckCount(StrEnum):
    """What a check of held orders counts (the keys of its answer)."""

    RELEASED = "released"
    STILL_HELD = "still_held"


class RetryCount(StrEnum):
    """What a retry counts besides the check: the orders sent, and those not sent (by a cooldown too)."""

    DELIVERED = "delivered"
    NOT_DELIVERED = "not_delivered"
    RATE_LIMITED = "rate_limited"


def _skus_as_stored(warehouse: WMSConnection | None) -> set[str] | None:
    """The warehouse's SKU list as last read (a stale one is read again in the worker); None when
    it was never read (the SKUs are then not checked)."""
    if warehouse is None:
        return None
    stored = sku_list_stored(warehouse=warehouse)
    sku_list_refresh(warehouse=warehouse, stored=stored)
    return set(stored.skus) if stored.skus is not None else None


def held_orders_recheck(*, orders: Iterable[Order], why: str, live_skus: bool = True) -> dict[str, int]:
    """Translate and validate held orders again; those that pass become `new` (history says why).

    `live_skus` reads the warehouse's SKU list from the warehouse (in the worker); without it the
    list as last read is used, so that a request calls no platform."""
    counts = {RecheckCount.RELEASED: 0, RecheckCount.STILL_HELD: 0}
    groups: dict[tuple[int, int | None], tuple[WMSConnection | None, list[Order]]] = {}
    for order in orders:
        if order.status != OrderStatus.ERROR or order.hold_code in NOT_RECHECKED:
            continue
        try:
            warehouse = order.destination_warehouse()
        except CrossMerchantLink as exc:
            order_event(order=order, message=f"Not checked again: {exc}", code="cross_merchant")
            counts[RecheckCount.STILL_HELD] += 1
            continue
        key = (order.merchant_id, warehouse.pk if warehouse else None)
        groups.setdefault(key, (warehouse, []))[1].append(order)
    for (merchant_id, _), (warehouse, group) in groups.items():
        connector = None
        if warehouse is not None:
            try:
                connector = warehouse_connector_for(connection=warehouse)
            except ConnectionNotConfigured:
                connector = None
        if live_skus:
            skus, _note = warehouse_skus(connector=connector, warehouse=warehouse)
        else:
            skus = _skus_as_stored(warehouse)
        ctx = load_context(
            merchant_id=merchant_id, warehouse=warehouse, warehouse_skus=skus, warehouse_connector=connector
        )
        for order in group:
            if order_prepare(order=order, lines=list(order.lines.all()), ctx=ctx, why=why) == OrderStatus.NEW:
                counts[RecheckCount.RELEASED] += 1
            else:
                counts[RecheckCount.STILL_HELD] += 1
    return counts


def sku_alias_saved(*, alias: SKUAlias) -> dict[str, int]:
    """Release the orders held for the alias's cart SKU."""
    return held_orders_recheck(
        orders=orders_held_for_alias(alias=alias), why=f"SKU alias {alias.cart_sku} → {alias.warehouse_sku} saved"
    )


def shipping_mapping_saved(
    *, warehouse_id: int, cart_method: str, what: str = "", user: AbstractBaseUser | None = None
) -> dict[str, int]:
    """Check again the warehouse's orders held for `cart_method`; `what` says what the person did
    ("shipping method 'Express' mapped to 'FEDEX' by ann"), for each order's history with `user`."""
    orders = orders_held_for_shipping(warehouse_id=warehouse_id, cart_method=cart_method)
    return _person_recheck(orders=orders, why=what or f"shipping method '{cart_method}' mapped", user=user)


def warehouse_settings_saved(
    *, warehouse_id: int, what: str = "", user: AbstractBaseUser | None = None
) -> dict[str, int]:
    """A new default ship code or reference rule may release orders held on this warehouse."""
    orders = orders_held_for_shipping(warehouse_id=warehouse_id)
    return _person_recheck(orders=orders, why=what or "warehouse settings changed", user=user)


def _person_recheck(
    *, orders: Iterable[Order], why: str, user: AbstractBaseUser | None, code: str = "mapping_saved"
) -> dict[str, int]:
    """`held_orders_recheck` against the SKU lists as last read (a person's save is a request: no
    platform is called), after a history row with the person on each order it checks (as an alias
    save writes), so every order released or held again says who changed what."""
    orders = list(orders)
    if user is not None and user.is_authenticated:
        for order in orders:
            if order.status == OrderStatus.ERROR and order.hold_code not in NOT_RECHECKED:
                order_event(order=order, message=f"{why[0].upper()}{why[1:]}.", code=code, user=user)
    return held_orders_recheck(orders=orders, why=why, live_skus=False)


def orders_retry(*, order_ids: Iterable[int], progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Retry now (in the worker): re-check held orders, then deliver every order that is ready;
    `progress` hears which order is being sent."""
    orders = list(Order.objects.filter(pk__in=list(order_ids)).select_related("warehouse", "cart_connection"))
    counts = held_orders_recheck(orders=orders, why="retry asked")
    counts.update(dict.fromkeys(RetryCount, 0))
    Order.objects.filter(pk__in=[o.pk for o in orders], status=OrderStatus.NEW).update(next_attempt_at=None)
    connectors = {}
    ready = list(
        Order.objects.filter(pk__in=[o.pk for o in orders], status=OrderStatus.NEW).select_related("warehouse")
    )
    for done, order in enumerate(ready):
        if progress is not None:
            progress(f"sending order #{order.order_number} ({done + 1} of {len(ready)})")
        if order.warehouse is None:
            continue
        try:
            order.destination_warehouse()
        except CrossMerchantLink as exc:
            order_event(order=order, message=f"Not sent: {exc}", code="cross_merchant")
            counts[RetryCount.NOT_DELIVERED] += 1
            continue
        try:
            if order.warehouse_id not in connectors:
                connectors[order.warehouse_id] = warehouse_connector_for(connection=order.warehouse)
            outcome = order_deliver(order_id=order.pk, connector=connectors[order.warehouse_id])
        except ThrottledError as exc:  # a recorded cooldown: nothing was sent
            outcome = None
            counts[RetryCount.RATE_LIMITED] += 1
            order_event(order=order, message=f"Not sent now: {exc}. A run after that sends it.", code="rate_limited")
        except (ConnectorError, ConnectionNotConfigured):
            outcome = None
        counts[RetryCount.DELIVERED if outcome == DeliveryOutcome.DELIVERED else RetryCount.NOT_DELIVERED] += 1
    return counts
