"""A person acts on one order's hold, from the admin's order page or the merchant's: the one service
both pages call, so they behave the same.

- Retry re-checks the order now against today's aliases and mappings and the warehouse's SKU list as
  last read (no call to the warehouse in the request); "released" is said only when it passed.
- Send now checks here whether the order can go (`order_send_check`); `sync.send_now` then queues
  its delivery as a job for the worker, which the page follows to its summary.
- An SKU alias from the order is checked against the warehouse's SKU list as last read: an SKU
  the warehouse does not list is refused. A list older than `WAREHOUSE_SKU_LIST_MAX_AGE_MINUTES` (or
  never read) is read again in the worker, and the answer says so.
- The ship-to is edited on the order, then the order is validated again, and the answer says
  whether it will now go.

Every action writes a history row with the person (`order_event(user=...)`), and every answer
gives the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone

from integrations.models import WMSConnection
from integrations.services import ConnectionNotConfigured, warehouse_connector_for
from integrations.tenancy import CrossMerchantLink
from orders.models import HoldCode, Order, OrderStatus, ShippingMethodMap, SKUAlias
from orders.selectors import orders_held_for_alias, orders_held_for_shipping
from orders.services.delivery.claims import order_hold_window_end
from orders.services.delivery.holds import CART_SIDE_HOLDS, NOT_RECHECKED, PERSON_HOLDS
from orders.services.intake.prepare import order_prepare
from orders.services.records.history import order_event
from orders.services.translation.cart_fields import SHIP_TO_FIELDS
from orders.services.translation.sku_check import sku_list_refresh, warehouse_skus_check
from orders.services.translation.sku_list import StoredSKUs, sku_list_store, sku_list_stored
from orders.services.translation.translate import load_context, warehouse_skus

PENDING = (OrderStatus.NEW, OrderStatus.ERROR)


@dataclass(frozen=True)
class FixResult:
    """What a person's action did: `done` whether the change was made, `level` for the page's
    message (success, warning, error), `message` with the reason."""

    done: bool
    level: str
    message: str


def _person(user: AbstractBaseUser | None) -> str:
    return user.get_username() if user is not None and user.is_authenticated else "someone"


def _warehouse(order: Order) -> tuple[WMSConnection | None, str]:
    """The order's warehouse, or None and why there is none to act on."""
    try:
        warehouse = order.destination_warehouse()
    except CrossMerchantLink as exc:
        return None, str(exc)
    if warehouse is None:
        return None, "no warehouse is connected for this order's cart: connect one (or pick one on the cart)"
    return warehouse, ""


def sku_list_read(*, warehouse_id: int) -> str:
    """The worker's read of a warehouse's SKU list (stored by `warehouse_skus`)."""
    warehouse = WMSConnection.objects.filter(pk=warehouse_id).first()
    if warehouse is None:
        return f"warehouse {warehouse_id} is gone: nothing read"
    try:
        connector = warehouse_connector_for(connection=warehouse)
    except ConnectionNotConfigured as exc:
        sku_list_store(warehouse=warehouse, skus=None, error=str(exc))
        return f"{warehouse}: not read ({exc})"
    skus, note = warehouse_skus(connector=connector, warehouse=warehouse)
    return note or f"{warehouse}: {len(skus or ())} SKUs read"


def order_revalidate(*, order: Order, why: str) -> tuple[str, str]:
    """Translate and validate a pending order again with the SKU list as last read, hold or
    release it (history says why); returns its status and a note on how its SKUs were checked."""
    warehouse, _ = _warehouse(order)
    connector, stored = None, StoredSKUs(skus=None, read_at=None)
    if warehouse is not None:
        stored = sku_list_stored(warehouse=warehouse)
        try:
            connector = warehouse_connector_for(connection=warehouse)
        except ConnectionNotConfigured:
            connector = None
    ctx = load_context(
        merchant_id=order.merchant_id,
        warehouse=warehouse,
        warehouse_skus=set(stored.skus) if stored.skus is not None else None,
        warehouse_connector=connector,
    )
    status = order_prepare(order=order, lines=list(order.lines.all()), ctx=ctx, why=why)
    note = sku_list_refresh(warehouse=warehouse, stored=stored) if warehouse is not None else ""
    if status == OrderStatus.NEW and stored.skus is None and warehouse is not None:
        note = " Its SKUs were not checked: the warehouse's SKU list has never been read (a read is queued)." + note
    return status, note


def _outcome(order: Order, note: str) -> FixResult:
    number = order.order_number
    if order.status == OrderStatus.ERROR:
        return FixResult(True, "warning", f"Order #{number} is still held: {order.hold_reason}{note}")
    return FixResult(
        True,
        "success",
        f"Order #{number} released: it passes every check now and will go with the next sync (or use Send now).{note}",
    )


def order_hold_retry(*, order: Order, user: AbstractBaseUser | None) -> FixResult:
    """Re-check a held order now; release it only when it passes."""
    number = order.order_number
    if order.status != OrderStatus.ERROR:
        return FixResult(False, "info", f"Order #{number} is {order.get_status_display()}, not held: nothing to retry.")
    if order.hold_code in CART_SIDE_HOLDS:
        return FixResult(False, "warning", f"Order #{number} can only be fixed at the cart: {order.hold_reason}")
    if order.hold_code in PERSON_HOLDS:
        return FixResult(
            False, "warning", f"Order #{number} is held by hand: {order.hold_reason} Release it to send it."
        )
    try:
        order.destination_warehouse()
    except CrossMerchantLink as exc:
        return FixResult(False, "error", f"Order #{number} was not retried: {exc}")
    order_event(order=order, message=f"Retry asked by {_person(user)}.", code="retry_asked", user=user)
    _, note = order_revalidate(order=order, why=f"retry asked by {_person(user)}")
    return _outcome(order, note)


def order_send_check(*, order: Order, user: AbstractBaseUser | None) -> FixResult:
    """Whether the order can be sent now: a held order is re-checked first (as Retry does, with the
    SKU list as last read: no call to a platform); an order in its hold window is released from it
    (recorded with the person). `done` when it may be queued for the worker, which sends it
    (`sync.send_now`); otherwise the message says why not."""
    number = order.order_number
    if order.status == OrderStatus.ERROR:
        result = order_hold_retry(order=order, user=user)
        if order.status != OrderStatus.NEW:
            return FixResult(False, result.level, f"Not sent. {result.message}")
    elif order.status != OrderStatus.NEW:
        return FixResult(False, "info", f"Order #{number} is {order.get_status_display()}: there is nothing to send.")
    warehouse, why_not = _warehouse(order)
    if warehouse is None:
        return FixResult(False, "error", f"Order #{number} cannot be sent: {why_not}.")
    order_hold_window_release(order=order, user=user)
    return FixResult(True, "info", f"Order #{number} is queued to be sent to {warehouse.platform_label} by the worker.")


def order_hold_window_release(*, order: Order, user: AbstractBaseUser | None) -> bool:
    """End a `new` order's hold window now (a person asked to send it), recorded with the person;
    False when it was not waiting in one."""
    waited = order.hold_until
    if order.status != OrderStatus.NEW or waited is None or waited <= timezone.now():
        return False
    if not order_hold_window_end(order_id=order.pk):
        return False
    order.hold_until = None
    message = f"Released early from its hold window (it waited until {waited:%Y-%m-%d %H:%M} UTC) by {_person(user)}."
    order_event(order=order, message=message, code="hold_window_released", user=user)
    return True


def order_alias_add(*, order: Order, cart_sku: str, warehouse_sku: str, user: AbstractBaseUser | None) -> FixResult:
    """Save an SKU alias from an order's page once the warehouse lists its SKU, then re-check the
    orders held for that cart SKU."""
    cart_sku, warehouse_sku = cart_sku.strip(), warehouse_sku.strip()
    if cart_sku not in {line.cart_sku for line in order.lines.all()}:
        number = order.order_number
        return FixResult(False, "error", f"Not saved: order #{number} has no line with cart SKU '{cart_sku}'.")
    if not warehouse_sku or len(warehouse_sku) > SKUAlias._meta.get_field("warehouse_sku").max_length:
        return FixResult(False, "error", "Not saved: give the warehouse SKU (at most 200 characters).")
    warehouse, why_not = _warehouse(order)
    if warehouse is None:
        return FixResult(False, "error", f"Not saved: {why_not}.")
    check = warehouse_skus_check(warehouses=[warehouse], skus=[warehouse_sku])
    if check.refused:
        return FixResult(False, check.level, f"Not saved: {check.reason(warehouse_sku)}")
    refresh = check.note
    alias, created = SKUAlias.objects.update_or_create(
        merchant_id=order.merchant_id, cart_sku=cart_sku, defaults={"warehouse_sku": warehouse_sku}
    )
    what = f"SKU alias {cart_sku} → {warehouse_sku} {'added' if created else 'changed'} by {_person(user)}"
    order_event(order=order, message=f"{what}.", code="alias_saved", user=user)
    others = orders_held_for_alias(alias=alias).exclude(pk=order.pk)
    released = 0
    for other in others:
        if order_revalidate(order=other, why=what)[0] == OrderStatus.NEW:
            released += 1
    order.refresh_from_db()
    if order.status == OrderStatus.ERROR and order.hold_code not in CART_SIDE_HOLDS:
        order_revalidate(order=order, why=what)
    result = _outcome(order, refresh)
    more = f" {released} other held order(s) with this SKU released too." if released else ""
    return FixResult(True, result.level, f"Alias {cart_sku} → {warehouse_sku} saved. {result.message}{more}")


def order_ship_to_edit(*, order: Order, values: dict[str, str], user: AbstractBaseUser | None) -> FixResult:
    """Change the order's ship-to (only before it is sent), then validate it again."""
    number = order.order_number
    if order.status not in PENDING:
        return FixResult(
            False, "error", f"Not saved: order #{number} is {order.get_status_display()}; the warehouse has it already."
        )
    changes = []
    for name in SHIP_TO_FIELDS:
        if name not in values:
            continue
        new = (values[name] or "").strip()
        old = getattr(order, name) or ""
        if new != old:
            changes.append(f"{name.removeprefix('ship_').replace('_', ' ')} '{old}' → '{new}'")
            setattr(order, name, new)
    if not changes:
        return FixResult(False, "info", f"Order #{number}: the ship-to is unchanged.")
    order.save(update_fields=[*SHIP_TO_FIELDS, "updated_at"])
    message = f"Ship-to edited by {_person(user)}: {'; '.join(changes)}."
    order_event(order=order, message=message, code="ship_to_edited", user=user)
    if order.hold_code in CART_SIDE_HOLDS:
        return FixResult(True, "warning", f"Ship-to saved. Order #{number} stays held: {order.hold_reason}")
    _, note = order_revalidate(order=order, why=f"ship-to edited by {_person(user)}")
    result = _outcome(order, note)
    return FixResult(True, result.level, f"Ship-to saved. {result.message}")


def order_shipping_map_add(*, order: Order, ship_code: str, user: AbstractBaseUser | None) -> FixResult:
    """Map the order's shipping method (as the cart sent it) to a warehouse code, then re-check the
    orders of that warehouse held for it."""
    method, ship_code = (order.orig_ship_code or "").strip(), ship_code.strip()
    if not method:
        return FixResult(
            False,
            "error",
            "Not saved: the cart sent no shipping method to map (set a default ship "
            "code on the warehouse connection instead).",
        )
    if not ship_code or len(ship_code) > ShippingMethodMap._meta.get_field("ship_code").max_length:
        return FixResult(False, "error", "Not saved: give the warehouse's code (at most 80 characters).")
    warehouse, why_not = _warehouse(order)
    if warehouse is None:
        return FixResult(False, "error", f"Not saved: {why_not}.")
    existing = ShippingMethodMap.objects.filter(warehouse=warehouse, cart_method__iexact=method).first()
    if existing is not None:
        existing.ship_code = ship_code
        existing.save(update_fields=["ship_code"])
    else:
        ShippingMethodMap.objects.create(warehouse=warehouse, cart_method=method, ship_code=ship_code)
    what = f"shipping method '{method}' mapped to '{ship_code}' by {_person(user)}"
    order_event(order=order, message=f"{what[0].upper()}{what[1:]}.", code="shipping_mapped", user=user)
    released = 0
    for other in orders_held_for_shipping(warehouse_id=warehouse.pk, cart_method=method).exclude(pk=order.pk):
        released += order_revalidate(order=other, why=what)[0] == OrderStatus.NEW
    order.refresh_from_db()
    note = ""
    if order.status == OrderStatus.ERROR and order.hold_code not in CART_SIDE_HOLDS:
        note = order_revalidate(order=order, why=what)[1]
    result = _outcome(order, note)
    more = f" {released} other held order(s) with this method released too." if released else ""
    return FixResult(True, result.level, f"Mapping saved. {result.message}{more}")


@dataclass
class FixOptions:
    """What an order's page offers for its hold (both pages read this)."""

    can_retry: bool = False
    can_send: bool = False
    can_edit_ship_to: bool = False
    warehouse: WMSConnection | None = None
    alias_fixes: list[tuple[str, str]] = field(default_factory=list)  # (cart SKU, its alias's SKU or "")
    warehouse_skus: list[str] = field(default_factory=list)  # as last read, for the picker
    sku_list_note: str = ""  # when the list was read, and whether a fresh read is queued
    cart_method: str = ""  # to map, when the hold is an unmapped shipping method


def order_fix_options(*, order: Order) -> FixOptions:
    """What the order's page offers; a stale SKU list is read again in the worker when an alias is
    offered (and `sku_list_note` says so)."""
    options = FixOptions(
        can_retry=order.status == OrderStatus.ERROR and order.hold_code not in NOT_RECHECKED,
        can_send=order.status in PENDING and order.hold_code not in NOT_RECHECKED,
        can_edit_ship_to=order.status in PENDING,
    )
    if order.status != OrderStatus.ERROR:
        return options
    options.warehouse, _ = _warehouse(order)
    if order.hold_code == HoldCode.UNMAPPED_SHIPPING:
        options.cart_method = order.orig_ship_code or ""
    if order.hold_code != HoldCode.UNKNOWN_SKU:
        return options
    lines = [line for line in order.lines.all() if line.cart_sku]
    named = [line for line in lines if f"'{line.warehouse_sku}'" in order.hold_reason] or lines
    aliases = dict(
        SKUAlias.objects.filter(merchant_id=order.merchant_id, cart_sku__in=[ln.cart_sku for ln in named]).values_list(
            "cart_sku", "warehouse_sku"
        )
    )
    options.alias_fixes = list(dict.fromkeys((ln.cart_sku, aliases.get(ln.cart_sku, "")) for ln in named))
    if options.warehouse is not None:
        stored = sku_list_stored(warehouse=options.warehouse)
        options.warehouse_skus = sorted(stored.skus or ())
        refresh = sku_list_refresh(warehouse=options.warehouse, stored=stored)
        options.sku_list_note = refresh.strip() or f"{stored.describe().capitalize()}."
    return options
