"""Translate an order for its warehouse, and check it is one the warehouse would accept.

Translation: SKU aliases (cart SKU → warehouse SKU), the shipping-method mapping, `cust_po_no`.
Validation returns holds, each with a reason code and a text that tells a person how to fix it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from integrations.connectors.base import WarehouseConnector
from integrations.connectors.canonical import Address, WarehouseOrder, WarehouseOrderLine
from integrations.connectors.errors import ConnectorError
from integrations.connectors.limits import FieldLimit
from integrations.connectors.registry import warehouse_connector_class
from integrations.models import WMSConnection
from orders.models import HoldCode, Order, OrderLine, SKUAlias
from orders.services.translation.addresses import country_code, subdivision_code
from orders.services.translation.field_limits import Fitted, address_fit
from orders.services.translation.sku_list import sku_list_store

# The ship-to fields a hold names, as a person calls them (not the canonical field names).
SHIP_TO_LABELS = {"name": "name", "address_1": "street", "city": "city", "zip": "postcode", "country": "country"}


@dataclass(frozen=True)
class Hold:
    code: str
    message: str


@dataclass
class TranslationContext:
    """What translating one merchant's orders for one warehouse needs, loaded once per run."""

    warehouse: WMSConnection | None
    aliases: dict[str, str]
    ship_map: dict[str, str]
    warehouse_skus: set[str] | None  # None: the warehouse's list could not be read (not checked)
    warehouse_connector: WarehouseConnector | None = None  # formats the payload preview
    # Set when `warehouse_skus` is the list as recently stored rather than read for this run: reads it
    # from the warehouse (see `skus_cover`).
    warehouse_skus_read: Callable[[], set[str] | None] | None = None

    def skus_cover(self, cart_skus: Iterable[str]) -> None:
        """Before orders with these cart SKUs are checked: a recently stored SKU list that lacks one of
        them (after aliases) is read from the warehouse again, so that an item added there since is
        never held as unknown against the older copy. Read at most once per run."""
        if self.warehouse_skus_read is None or self.warehouse_skus is None:
            return
        wanted = {self.aliases.get(sku, sku) for sku in cart_skus if sku}
        if wanted <= self.warehouse_skus:
            return
        self.warehouse_skus, self.warehouse_skus_read = self.warehouse_skus_read(), None


def load_context(
    *,
    merchant_id: int,
    warehouse: WMSConnection | None,
    warehouse_skus: set[str] | None,
    warehouse_connector: WarehouseConnector | None = None,
) -> TranslationContext:
    aliases = dict(SKUAlias.objects.filter(merchant_id=merchant_id).values_list("cart_sku", "warehouse_sku"))
    ship_map = {}
    if warehouse is not None:
        ship_map = {m.strip().lower(): c for m, c in warehouse.shipping_methods.values_list("cart_method", "ship_code")}
    return TranslationContext(
        warehouse=warehouse,
        aliases=aliases,
        ship_map=ship_map,
        warehouse_skus=warehouse_skus,
        warehouse_connector=warehouse_connector,
    )


def warehouse_skus(
    *, connector: WarehouseConnector | None, warehouse: WMSConnection | None = None
) -> tuple[set[str] | None, str]:
    """The warehouse's SKU list, or None with the reason when it cannot be read now. Given the
    `warehouse`, what was read (or why not) is stored for the order pages (`sku_list`)."""
    if connector is None:
        return None, ""
    try:
        skus = connector.list_skus()
    except ConnectorError as exc:
        if warehouse is not None:
            sku_list_store(warehouse=warehouse, skus=None, error=str(exc))
        return None, f"SKUs not checked before sending (the warehouse's list could not be read: {exc})"
    if warehouse is not None:
        sku_list_store(warehouse=warehouse, skus=skus)
    return skus, ""


def order_translate(*, order: Order, lines: Iterable[OrderLine], ctx: TranslationContext) -> list[Hold]:
    """Fill the warehouse-side fields on `order` and its `lines` (not saved); return holds."""
    holds: list[Hold] = []
    order.cust_po_no = order.order_number
    for line in lines:
        line.warehouse_sku = ctx.aliases.get(line.cart_sku, line.cart_sku)
    if ctx.warehouse is None:
        holds.append(
            Hold(
                HoldCode.NO_WAREHOUSE,
                "No warehouse is connected for this cart: connect a warehouse (or pick one on the cart "
                "connection), then retry.",
            )
        )
        return holds
    method = (order.orig_ship_code or "").strip()
    code = ctx.ship_map.get(method.lower()) or ctx.warehouse.default_ship_code
    if code:
        order.ship_code = code
    else:
        order.ship_code = ""
        shown = f"'{method}'" if method else "(none given by the cart)"
        holds.append(
            Hold(
                HoldCode.UNMAPPED_SHIPPING,
                f"Shipping method {shown} has no warehouse code: add a shipping method mapping for it on the "
                f"warehouse connection (or set a default ship code there), then retry.",
            )
        )
    return holds


def order_validate(*, order: Order, lines: list[OrderLine], ctx: TranslationContext) -> list[Hold]:
    """Holds for what the warehouse would refuse: no lines, bad quantities, address, unknown SKUs."""
    holds: list[Hold] = []
    lines = [line for line in lines if not line.canceled_at_cart]  # sent without them (`canceled_lines_note`)
    if not lines:
        holds.append(Hold(HoldCode.NO_LINES, "The order has no item lines to ship: check it at the cart."))
    bad_qty = [line for line in lines if line.quantity <= 0]
    if bad_qty:
        described = ", ".join(f"line {ln.line_no} ({ln.cart_sku or 'no SKU'}): {ln.quantity}" for ln in bad_qty)
        holds.append(
            Hold(HoldCode.ZERO_QUANTITY, f"Quantity must be at least 1 — {described}. Fix the order at the cart.")
        )
    missing = order_address(order=order).missing_fields()
    if missing:
        holds.append(
            Hold(
                HoldCode.MISSING_ADDRESS,
                f"The ship-to address lacks: {', '.join(SHIP_TO_LABELS.get(f, f) for f in missing)}. "
                "Correct the address at the cart "
                "(the next sync reads it again), then retry.",
            )
        )
    elif country_code(order.ship_country) is None:
        holds.append(
            Hold(
                HoldCode.MISSING_ADDRESS,
                f"The ship-to country '{order.ship_country}' is not a country the warehouse can read: correct it "
                "at the cart to a country's name or its ISO code (e.g. 'United States' or 'US'), then retry.",
            )
        )
    elif ctx.warehouse is not None:
        holds += [
            Hold(HoldCode.MISSING_ADDRESS, text)
            for text in order_ship_to(order=order, warehouse=ctx.warehouse).refusals
        ]
    no_sku = [line for line in lines if not line.warehouse_sku]
    if no_sku:
        numbers = ", ".join(str(line.line_no) for line in no_sku)
        holds.append(Hold(HoldCode.UNKNOWN_SKU, f"Line {numbers} has no SKU: give the item a SKU at the cart."))
    if ctx.warehouse_skus is not None:
        unknown = sorted(
            {ln.warehouse_sku for ln in lines if ln.warehouse_sku and ln.warehouse_sku not in ctx.warehouse_skus}
        )
        if unknown:
            holds.append(unknown_sku_hold(unknown))
    return holds


def unknown_sku_hold(skus: list[str]) -> Hold:
    names = ", ".join(f"'{s}'" for s in skus)
    plural = "SKUs" if len(skus) > 1 else "SKU"
    return Hold(
        HoldCode.UNKNOWN_SKU,
        f"The warehouse does not know {plural} {names}: add an SKU alias from the cart SKU to the warehouse's "
        f"SKU (or create the item at the warehouse), then retry.",
    )


def order_address(*, order: Order) -> Address:
    """The ship-to as a warehouse takes it, the order keeping what the cart sent: the country as its
    ISO 3166-1 alpha-2 code, a US or Canadian state as its code, and the company as the name when
    no person is named (a warehouse refuses a ship-to without a name). What cannot be read as a
    code is passed on as it is (validation holds an unknown country before any send)."""
    country = country_code(order.ship_country) or order.ship_country
    first_name, last_name = order.ship_first_name, order.ship_last_name
    if not ((first_name or "").strip() or (last_name or "").strip()):
        first_name, last_name = order.ship_company, ""
    return Address(
        first_name=first_name,
        last_name=last_name,
        company=order.ship_company,
        address_1=order.ship_address_1,
        address_2=order.ship_address_2,
        address_3=order.ship_address_3,
        city=order.ship_city,
        state=subdivision_code(country, order.ship_state) or order.ship_state,
        zip=order.ship_zip,
        country=country,
        phone=order.ship_phone,
        email=order.ship_e_mail,
    )


def warehouse_field_limits(*, warehouse: WMSConnection) -> tuple[FieldLimit, ...]:
    """What the warehouse's platform declares it takes in each ship-to field (none for a platform
    we do not speak)."""
    try:
        return warehouse_connector_class(warehouse.platform).field_limits
    except LookupError:
        return ()


def order_ship_to(*, order: Order, warehouse: WMSConnection | None) -> Fitted:
    """The order's ship-to fitted to what `warehouse` takes (`field_limits`): adapted values, what was
    changed, what holds it. The order itself keeps what the cart sent."""
    address = order_address(order=order)
    if warehouse is None:
        return Fitted(address=address)
    return address_fit(
        address=address, limits=warehouse_field_limits(warehouse=warehouse), warehouse=warehouse.platform_label
    )


def adaptation_note(*, order: Order) -> str:
    """What the payload sent changed of the order's ship-to to fit its warehouse, for its history
    ("" when nothing). Reads `order.warehouse` (loaded with the order where it is sent)."""
    warehouse = order.warehouse
    fitted = order_ship_to(order=order, warehouse=warehouse)
    if warehouse is None or not fitted.adaptations:
        return ""
    changes = "; ".join(a.describe(warehouse.platform_label) for a in fitted.adaptations)
    return f" Sent adapted to the warehouse's field limits (the order keeps the original): {changes}."


def canceled_lines_note(*, lines: Iterable) -> str:
    """What the send left out because the cart canceled it, for the order's history ("" when nothing)."""
    canceled = [line for line in lines if line.canceled_at_cart]
    if not canceled:
        return ""
    described = ", ".join(f"line {ln.line_no} ({ln.cart_sku or 'no SKU'})" for ln in canceled)
    return f" Sent without what was canceled at the cart: {described}."


def warehouse_order_for(*, order: Order, lines: Iterable[OrderLine]) -> WarehouseOrder:
    """What the warehouse is sent: the ship-to fitted to its field limits (`order.warehouse`, loaded
    with the order where it is sent), the lines not canceled at the cart."""
    return WarehouseOrder(
        cust_ref=order.cust_ref or "",
        cust_po_no=order.cust_po_no or order.order_number,
        ship_to=order_ship_to(order=order, warehouse=order.warehouse).address,
        ship_code=order.ship_code,
        orig_ship_code=order.orig_ship_code,
        ordered_at=order.ordered_at,
        is_test=order.is_test,
        notes="TEST ORDER: do not ship" if order.is_test else "",
        items=[
            WarehouseOrderLine(
                line_no=line.line_no,
                sku=line.warehouse_sku,
                quantity=line.quantity,
                description=line.description,
                price=line.price,
            )
            for line in lines
            if not line.canceled_at_cart
        ],
    )
