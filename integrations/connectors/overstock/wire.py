"""Overstock sales orders (`GET /salesorders`) as canonical orders: pure functions over parsed XML.

The listing's root is `processedSalesOrderMessage`; orders are `processedSalesOrder` elements, or,
in some versions, `list` elements (ShipWorks and others read `Root.Elements("list")`); a `list`
that only wraps orders is looked into as well. Field by field, as integrators read them:

- `salesChannelOrderNumber` is the order number Overstock and the customer know, and our dedupe
  key: it is both `cart_order_id` and `order_number`. An order without one cannot be stored.
- `orderDate` is when it was placed; `sofsCreatedDate` when it reached Supplier Oasis. Overstock
  gives no modification date, so `modified_at` is the latest of those and of the lines' ship
  confirmation dates: an order that ships at Overstock reads as changed.
- `warehouseName` holds the warehouse as `<warehouseName><code>…</code></warehouseName>` (some
  versions: its own text, or `warehouse/code`). It must be this connection's Warehouse Name (or its
  warehouse code), case-insensitively; an order for another warehouse is returned with
  `skip_code="other_warehouse"`. An order that names no warehouse is taken.
- Lines `processedSalesOrderLine`: `salesChannelLineNumber` (older payloads: `salesChannelLineId`)
  is the line's id, sent back with tracking; `partnerSKU` is the supplier's SKU; `salesChannelSKU`
  is Overstock's "OptionSku", the key inventory is sent under; the price is `unitCost` (what
  Overstock pays the supplier), else `itemPrice`/`unitPrice`.
- A line whose `lineStatus` says cancelled, or that carries a cancellation request element, is
  kept and marked `canceled`: Overstock does not support line cancellation through integrations,
  so the pipeline holds or flags the order for a person instead of changing it silently. A
  cancellation request on the order itself marks every line.
- Status: every live line confirmed shipped (`shipConfirmationDetail`, or `lineStatus` SHIPPED) →
  fulfilled; some → partial; every line cancelled, or an order `status` that says cancelled →
  canceled; else open.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from xml.etree.ElementTree import Element  # noqa: S405 - the type only; parsing goes through defusedxml

from integrations.connectors.answers import summary
from integrations.connectors.canonical import (
    CART_CANCELED,
    CART_FULFILLED,
    CART_OPEN,
    CART_PARTIAL,
    Address,
    CartOrder,
    CartOrderLine,
    OrderPage,
    RejectedCartOrder,
)
from integrations.connectors.errors import BadPayloadError
from integrations.connectors.overstock.xml import (
    child,
    children,
    descendants,
    error_summary,
    first_text,
    local_name,
    own_text,
    text,
    to_dict,
)
from integrations.connectors.parsing import UnreadableOrder, address_from, money, parse_datetime, parse_quantity

OTHER_WAREHOUSE = "other_warehouse"
ADDRESS_NAMES = {
    "address_1": "address1",
    "address_2": "address2",
    "address_3": "address3",
    "city": "city",
    "zip": "postalCode",
    "country": "countryCode",
    "phone": "phone",
}
_ORDER = "processedSalesOrder"
_LINE = "processedSalesOrderLine"
_FALSE_TEXTS = frozenset({"false", "0", "no", "n"})
# Dates that say something happened to the order (never promised dates such as a deliver-by).
_EVENT_DATES = ("dateShipped", "dateConfirmed", "shipDate", "cancelDate", "cancellationDate", "lastModifiedDate")


@dataclass(frozen=True)
class WarehouseFilter:
    """Which Overstock warehouse this connection ships for: its Warehouse Name, and optionally the
    code Overstock uses for it when that differs."""

    name: str
    code: str = ""

    def accepts(self, values: list[str]) -> bool:
        ours = {v.strip().casefold() for v in (self.name, self.code) if v and v.strip()}
        return not ours or not values or any(v.strip().casefold() in ours for v in values)


def order_elements(root: Element) -> list[Element]:
    """The order elements of a listing (see the module docstring for the `list` variants)."""
    if local_name(root.tag).lower() == _ORDER.lower():
        return [root]
    found: list[Element] = []
    for element in root:
        name = local_name(element.tag).lower()
        if name == _ORDER.lower():
            found.append(element)
        elif name == "list":
            if child(element, "salesChannelOrderNumber") is not None or children(element, _LINE):
                found.append(element)
            else:
                found.extend(order_elements(element))
    return found


def check_listing(root: Element, orders: list[Element]) -> None:
    """Refuse a body that is not an order listing, or that says it holds more orders than it does."""
    name = local_name(root.tag)
    if not orders and "salesorder" not in name.lower():
        message = error_summary(root)
        said = f": {message}" if message else ""
        raise BadPayloadError(
            f"Overstock answered with <{summary(name, 40)}> where an order listing was expected{said}"
        )
    total = text(root, "totalCount")
    if total.isdecimal() and (len(total.lstrip("0")) > 9 or int(total) > len(orders)):
        raise BadPayloadError(
            f"Overstock said the window holds {total} orders but sent {len(orders)}: the listing is cut short "
            "(lower the connection's window hours so that each window holds fewer orders)"
        )


def warehouse_values(order: Element) -> list[str]:
    """Every way the order names its warehouse (name, code; see the module docstring)."""
    values = [
        own_text(child(order, "warehouseName")),
        text(order, "warehouseName", "code"),
        text(order, "warehouseName", "name"),
        text(order, "warehouse", "code"),
        text(order, "warehouse", "name"),
        text(order, "warehouseCode"),
    ]
    return list(dict.fromkeys(v for v in values if v))


def sales_channel_name(order: Element) -> str:
    return text(order, "salesChannelName")


def parse_address(element: Element | None) -> Address:
    """`shipToAddress`: one `contactName`, split at its last space into first and last name."""
    name = " ".join(text(element, "contactName").split())
    first, _, last = name.rpartition(" ")
    if not first:
        first, last = last, ""
    address = address_from(
        lambda field: text(element, field),
        ADDRESS_NAMES,
        first_name=first,
        last_name=last,
        company=first_text(element, ("companyName",), ("company",)),
        state=first_text(element, ("stateOrProvince",), ("state",)),
        email=first_text(element, ("email",), ("emailAddress",)),
    )
    address.country = address.country.upper()
    return address


def ship_method(order: Element) -> str:
    """`{carrier} {service level}` from the shipping specifications ("FEDEX GROUND"), either part
    alone when the other is missing: readable, and stable enough to map to a warehouse code."""
    specs = child(order, "shippingSpecifications")
    parcel = child(specs, "smallParcelShipment")
    carrier = text(parcel, "carrier", "code")
    service = text(parcel, "shippingServiceLevel", "code")
    for level in descendants(specs, "shippingServiceLevel"):
        service = service or text(level, "code")
    for found in descendants(specs, "carrier"):
        carrier = carrier or text(found, "code")
    return " ".join(p for p in (carrier.upper(), service.upper()) if p)


def _says_cancelled(status: str) -> bool:
    return "CANCEL" in status.upper()


_CANCEL_FLAGS = frozenset({"cancelled", "canceled", "iscancelled", "iscanceled", "cancellation"})


def _cancellation_requested(element: Element) -> bool:
    """A direct child that asks for or reports a cancellation (`cancellationRequest`,
    `cancelRequested`, `isCancelled`…) and does not say "false". Names such as a cancel-by date
    are not requests and are left alone."""
    for kid in element:
        name = local_name(kid.tag).lower()
        if not (name.startswith("cancel") and "request" in name) and name not in _CANCEL_FLAGS:
            continue
        if len(kid) or own_text(kid).lower() not in _FALSE_TEXTS:
            return True
    return False


def line_shipped(line: Element) -> bool:
    status = text(line, "lineStatus").upper()
    return bool(children(line, "shipConfirmationDetail")) or status in ("SHIPPED", "DELIVERED")


def parse_line(line: Element, position: int, *, order_canceled: bool) -> tuple[CartOrderLine, bool]:
    """One line and whether Overstock has it confirmed shipped."""
    line_id = first_text(line, ("salesChannelLineNumber",), ("salesChannelLineId",))
    sku = text(line, "partnerSKU")
    label = f"line {line_id or position} ({sku or 'no partnerSKU'})"
    if not line_id:
        raise UnreadableOrder(f"{label} has no salesChannelLineNumber, which tracking must name")
    try:
        quantity = parse_quantity(text(line, "quantity"))
    except UnreadableOrder as exc:
        raise UnreadableOrder(f"{label}: {exc}") from None
    canceled = order_canceled or _says_cancelled(text(line, "lineStatus")) or _cancellation_requested(line)
    parsed = CartOrderLine(
        line_no=position,
        sku=sku,
        quantity=quantity,
        description=text(line, "itemName"),
        price=money(first_text(line, ("unitCost",), ("itemPrice",), ("unitPrice",))),
        cart_line_id=line_id,
        cart_item_key=text(line, "salesChannelSKU"),
        canceled=canceled,
    )
    return parsed, line_shipped(line)


def _line_numbers(lines: list[CartOrderLine]) -> None:
    """Number lines by Overstock's own line numbers when they are distinct whole numbers (stable
    across re-reads whatever the element order), else by position."""
    ids = [line.cart_line_id for line in lines]
    if all(i.isdecimal() and len(i) <= 9 and int(i) > 0 for i in ids) and len(set(map(int, ids))) == len(ids):
        for line in lines:
            line.line_no = int(line.cart_line_id)


def _status(order: Element, lines: list[CartOrderLine], shipped: list[bool]) -> str:
    if _says_cancelled(text(order, "status")):
        return CART_CANCELED
    live = [done for line, done in zip(lines, shipped, strict=True) if not line.canceled]
    if lines and not live:
        return CART_CANCELED
    if live and all(live):
        return CART_FULFILLED
    if any(live):
        return CART_PARTIAL
    return CART_OPEN


def _modified_at(order: Element, ordered_at: datetime | None) -> datetime | None:
    dates = [ordered_at, parse_datetime(text(order, "sofsCreatedDate"))]
    for name in _EVENT_DATES:
        dates += [parse_datetime(own_text(found)) for found in descendants(order, name)]
    known = [d for d in dates if d is not None]
    return max(known) if known else None


def parse_order(order: Element, *, warehouse: WarehouseFilter | None = None) -> CartOrder:
    """One `processedSalesOrder` as a canonical order; raises `UnreadableOrder` with a reason.

    An order for another warehouse is returned skipped even when its lines cannot be read: it is
    not ours to reject.
    """
    number = text(order, "salesChannelOrderNumber")
    if not number:
        raise UnreadableOrder("order has no salesChannelOrderNumber")
    theirs = warehouse_values(order)
    skip_reason = ""
    if warehouse is not None and not warehouse.accepts(theirs):
        ours = " / ".join(v for v in (warehouse.name, warehouse.code) if v)
        skip_reason = (
            f"For Overstock warehouse {' / '.join(theirs)}, not this connection's Warehouse Name {ours}: "
            "not imported (check the Warehouse Name in the connection settings if this is wrong)."
        )
    try:
        parsed = _parse_order(order, number)
    except UnreadableOrder:
        if not skip_reason:
            raise
        parsed = CartOrder(
            cart_order_id=number,
            order_number=number,
            cart_status=CART_OPEN,
            ordered_at=parse_datetime(text(order, "orderDate")),
            modified_at=None,
            ship_to=Address(),
            raw=to_dict(order),
        )
    if skip_reason:
        parsed.skip_code, parsed.skip_reason = OTHER_WAREHOUSE, skip_reason
    return parsed


def _parse_order(order: Element, number: str) -> CartOrder:
    order_canceled = _cancellation_requested(order)
    parsed = [parse_line(line, i, order_canceled=order_canceled) for i, line in enumerate(children(order, _LINE), 1)]
    lines = [line for line, _ in parsed]
    _line_numbers(lines)
    ordered_at = parse_datetime(text(order, "orderDate")) or parse_datetime(text(order, "sofsCreatedDate"))
    ship_to = parse_address(child(order, "shipToAddress"))
    return CartOrder(
        cart_order_id=number,
        order_number=number,
        cart_status=_status(order, lines, [done for _, done in parsed]),
        ordered_at=ordered_at,
        modified_at=_modified_at(order, ordered_at),
        ship_to=ship_to,
        email=ship_to.email,
        ship_method=ship_method(order),
        lines=lines,
        raw=to_dict(order),
    )


def parse_orders(root: Element, *, warehouse: WarehouseFilter | None = None) -> OrderPage:
    """One window's listing as a page. Each order is parsed on its own (one bad order does not hide
    the others); an order listed twice is kept once: its latest readable version."""
    elements = order_elements(root)
    check_listing(root, elements)
    page = OrderPage()
    by_number: dict[str, CartOrder] = {}
    for element in elements:
        try:
            order = parse_order(element, warehouse=warehouse)
        except UnreadableOrder as exc:
            page.rejected.append(
                RejectedCartOrder(
                    cart_order_id=text(element, "salesChannelOrderNumber"),
                    order_number=text(element, "salesChannelOrderNumber"),
                    reason=str(exc),
                    raw=to_dict(element),
                )
            )
            continue
        known = by_number.get(order.cart_order_id)
        if known is None or _later_or_same(order, known):
            by_number[order.cart_order_id] = order
    page.orders = list(by_number.values())
    # A version that could be read wins over one that could not; one rejection per order number.
    rejected: dict[str, RejectedCartOrder] = {}
    for index, rejection in enumerate(page.rejected):
        if rejection.cart_order_id not in by_number:
            rejected[rejection.cart_order_id or f"#{index}"] = rejection
    page.rejected = list(rejected.values())
    return page


def _later_or_same(new: CartOrder, old: CartOrder) -> bool:
    if new.modified_at is None or old.modified_at is None:
        return True
    return new.modified_at >= old.modified_at


def tracking_numbers(order: Element) -> set[str]:
    """The tracking numbers Overstock holds for an order's lines (`shipConfirmationDetail`)."""
    numbers = {
        own_text(found)
        for detail in descendants(order, "shipConfirmationDetail")
        for found in descendants(detail, "trackingNumber")
    }
    return numbers - {""}
