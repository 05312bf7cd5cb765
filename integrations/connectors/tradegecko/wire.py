"""TradeGecko / QuickBooks Commerce payloads read, as pure functions: envelopes, paging, orders in.

Kept apart from the HTTP session (`api.py`) so each is tested with payloads shaped like the
documentation (developer.tradegecko.com), without a server. What the docs say and this module relies on:

- JSON is root-keyed: one record under its singular name, a list under the plural (`{"orders": [...]}`);
  paging metadata comes in an `X-Pagination` header holding JSON (`total_pages`, `last_page`,
  `out_of_bounds`...).
- An order carries ids only: `shipping_address_id`, `billing_address_id`, `order_line_item_ids`. A line
  (`order_line_items`) has `variant_id`, `quantity` and `price` as decimal strings ("1.0"), a `label` and a
  `line_type` (product, shipping, discount...), and no SKU: the SKU is the variant's.
- The shipping method is the label of the `line_type: "shipping"` line; shipping, discount and other
  non-product lines are never sent to a warehouse, and neither are freeform lines without a variant
  (a custom charge: nothing in stock stands behind it).
- Statuses: `draft`, `active`, `finalized`, `fulfilled`, `void`, `deleted`; `fulfillment_status`
  `unshipped`, `partial`, `shipped`.
- Addresses: `first_name, last_name, company_name, address1, address2, suburb, city, state, zip_code,
  country, phone_number, email`. `country` is a code (NZ, and NZL in one example) or a name: two letters
  are upper-cased, anything else is kept as given. `suburb` stands in for an empty city, else it becomes
  the third address line.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime, tzinfo
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from integrations.connectors.canonical import (
    CART_CANCELED,
    CART_FULFILLED,
    CART_OPEN,
    CART_OTHER,
    CART_PARTIAL,
    MAX_NUMBER_TEXT,
    MAX_PRICE,
    MAX_QUANTITY,
    Address,
    CartOrder,
    CartOrderLine,
    RejectedCartOrder,
)
from integrations.connectors.errors import BadPayloadError
from integrations.connectors.parsing import UnreadableOrder, address_from, as_utc, decimal_or_none, text
from integrations.connectors.parsing import parse_datetime as parse_iso_datetime

PRODUCT_LINE_TYPES = frozenset({"", "product"})
SHIPPING_LINE_TYPE = "shipping"


# --- scalars -------------------------------------------------------------------------------------


def whole_units(value: Any) -> int | None:
    """A stock count as whole units (a fraction of a unit cannot be sold: floored); None when unreadable."""
    number = decimal_or_none(value)
    return None if number is None else int(number.to_integral_value(rounding=ROUND_FLOOR))


def parse_quantity(value: Any) -> int:
    """An ordered quantity ("2.0") as a whole, non-negative number; a fraction cannot be picked."""
    if len(str(value)) > MAX_NUMBER_TEXT:
        raise UnreadableOrder(f"quantity {str(value)[:40]!r}… is not a quantity any order holds")
    number = decimal_or_none(value)
    if number is None:
        raise UnreadableOrder(f"quantity {value!r} is not a number")
    if number != number.to_integral_value():
        raise UnreadableOrder(f"quantity {value!r} is not a whole number (a warehouse ships whole units)")
    if number < 0:
        raise UnreadableOrder(f"quantity {value!r} is negative")
    if number > MAX_QUANTITY:
        raise UnreadableOrder(f"quantity {value!r} is more than any order holds (at most {MAX_QUANTITY})")
    return int(number)


def parse_datetime(value: Any, zone: tzinfo | None = None) -> datetime | None:
    """An ISO 8601 timestamp or a bare date (`parsing.parse_datetime`), with a `Z` read as +00:00
    wherever it stands: TradeGecko writes dates with a Z ("2024-05-01Z" is midnight UTC). One
    without an offset is read in `zone` (a warehouse connection's time zone, when set), else UTC."""
    return parse_iso_datetime(text(value).replace("Z", "+00:00"), zone=zone)


def format_date(value: datetime | date) -> str:
    if isinstance(value, datetime):
        value = as_utc(value).date()
    return value.isoformat()


def api_id(value: str) -> int | str:
    """An id as the API writes it (a number) when it is one; anything else is sent as given."""
    raw = text(value)
    return int(raw) if raw.isdigit() else raw


# --- envelopes -----------------------------------------------------------------------------------


def records(body: Any, root: str) -> list[dict[str, Any]]:
    """The records of a list answer (`{root: [...]}`); a page we cannot read fails the run, never ends it."""
    if not isinstance(body, dict) or root not in body:
        raise BadPayloadError(f"TradeGecko answered a {root} list without a `{root}` list")
    items = body[root]
    if items is None:
        return []
    if not isinstance(items, list):
        raise BadPayloadError(f"TradeGecko answered a {root} list whose `{root}` is not a list")
    return [item for item in items if isinstance(item, dict)]


def record(body: Any, root: str) -> dict[str, Any]:
    """The one record of a single answer (`{root: {...}}`)."""
    item = body.get(root) if isinstance(body, dict) else None
    if not isinstance(item, dict):
        raise BadPayloadError(f"TradeGecko answered without the `{root}` it was asked for")
    return item


def pagination(header: str | None) -> dict[str, Any] | None:
    """The `X-Pagination` header's JSON, or None when absent or unreadable (then a short page ends)."""
    if not header:
        return None
    try:
        value = json.loads(header)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def is_last_page(meta: dict[str, Any] | None, *, page: int, count: int, limit: int) -> bool:
    """Whether the walk stops after this page. With the header, it decides (`last_page`,
    `out_of_bounds`, `total_pages`), so a server that pages by fewer than `limit` is still read to
    the end; without it, a short page is the last."""
    if count == 0:
        return True
    if meta is None:
        return count < limit
    if meta.get("last_page") is True or meta.get("out_of_bounds") is True:
        return True
    total_pages = whole_units(meta.get("total_pages"))
    if total_pages is not None:
        return page >= total_pages
    return meta.get("last_page") is not False and count < limit


def error_fields(body: Any) -> dict[str, list[str]]:
    """A 422's `{"errors": {field: [messages]}}` as a plain dict (a bare message becomes `base`)."""
    errors = body.get("errors") if isinstance(body, dict) else None
    if isinstance(errors, dict):
        return {
            str(field): [text(m) for m in (msgs if isinstance(msgs, list) else [msgs]) if text(m)]
            for field, msgs in errors.items()
        }
    if isinstance(errors, list):
        return {"base": [text(m) for m in errors if text(m)]}
    message = text(body.get("message") or body.get("error")) if isinstance(body, dict) else ""
    return {"base": [message]} if message else {}


def describe_errors(fields: dict[str, list[str]]) -> str:
    parts = (", ".join(msgs) if field == "base" else f"{field} {', '.join(msgs)}" for field, msgs in fields.items())
    return "; ".join(parts)


# --- orders in -----------------------------------------------------------------------------------


def cart_status(status: Any, fulfillment_status: Any) -> str:
    """An order's state at the cart, from its status and its fulfillment status."""
    status, shipped = text(status).lower(), text(fulfillment_status).lower()
    if status in ("void", "deleted"):
        return CART_CANCELED
    if status == "draft":
        return CART_OTHER
    if status == "fulfilled" or shipped == "shipped":
        return CART_FULFILLED
    if shipped == "partial":
        return CART_PARTIAL
    if status in ("active", "finalized") and shipped in ("", "unshipped"):
        return CART_OPEN
    return CART_OTHER


ADDRESS_NAMES = {
    "first_name": "first_name",
    "last_name": "last_name",
    "company": "company_name",
    "address_1": "address1",
    "address_2": "address2",
    "city": "city",
    "state": "state",
    "zip": "zip_code",
    "country": "country",
    "phone": "phone_number",
    "email": "email",
}


def parse_address(payload: Any, *, fallback_email: str = "", fallback_phone: str = "") -> Address:
    if not isinstance(payload, dict):
        return Address(email=fallback_email, phone=fallback_phone)
    address = address_from(lambda name: text(payload.get(name)), ADDRESS_NAMES)
    city, suburb = address.city, text(payload.get("suburb"))
    address.address_3 = suburb if city and suburb and suburb.casefold() != city.casefold() else ""
    address.city = city or suburb
    if len(address.country) == 2:
        address.country = address.country.upper()
    address.phone = address.phone or fallback_phone
    address.email = address.email or fallback_email
    return address


def line_type(line: dict[str, Any]) -> str:
    return text(line.get("line_type")).lower()


def ships(line: dict[str, Any]) -> bool:
    """A product line standing on a variant; shipping, discount, other and freeform lines do not ship."""
    return line_type(line) in PRODUCT_LINE_TYPES and bool(text(line.get("variant_id")))


def unit_price(line: dict[str, Any]) -> Decimal:
    """The line's price less its percentage `discount`, when it has one."""
    price = decimal_or_none(line.get("price")) or Decimal("0")
    discount = decimal_or_none(line.get("discount"))
    # A price past any price column is not discounted (its digits may exceed the decimal context):
    # the import refuses the order with the price as out of range.
    if discount and 0 < discount <= 100 and abs(price) <= MAX_PRICE:
        price = (price * (Decimal(100) - discount) / Decimal(100)).quantize(Decimal("0.01"))
    return price


def order_lines(order: dict[str, Any], lines: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """This order's lines among a batch, in the order's own line order (`order_line_item_ids`,
    else `position` then id)."""
    order_id = text(order.get("id"))
    listed = order.get("order_line_item_ids")
    wanted = [text(i) for i in (listed if isinstance(listed, list) else []) if text(i)]
    mine = [ln for ln in lines if text(ln.get("order_id")) == order_id or text(ln.get("id")) in wanted]
    rank = {line_id: n for n, line_id in enumerate(wanted)}
    return sorted(
        mine,
        key=lambda ln: (
            rank.get(text(ln.get("id")), len(rank)),
            whole_units(ln.get("position")) or 0,
            whole_units(ln.get("id")) or 0,
        ),
    )


def parse_lines(lines: list[dict[str, Any]], variants: dict[str, dict[str, Any]]) -> tuple[str, list[CartOrderLine]]:
    """The shipping method (the first shipping line's label) and the lines that ship, numbered from 1.

    Raises `UnreadableOrder` naming the line whose quantity cannot be shipped.
    """
    ship_method, parsed = "", []
    for line in lines:
        if line_type(line) == SHIPPING_LINE_TYPE:
            ship_method = ship_method or text(line.get("label"))
            continue
        if not ships(line):
            continue
        variant = variants.get(text(line.get("variant_id"))) or {}
        line_no = len(parsed) + 1
        try:
            quantity = parse_quantity(line.get("quantity"))
        except UnreadableOrder as exc:
            named = text(variant.get("sku")) or f"variant {text(line.get('variant_id'))}"
            raise UnreadableOrder(f"line {line_no} ({named}): {exc}") from None
        parsed.append(
            CartOrderLine(
                line_no=line_no,
                sku=text(variant.get("sku")),
                quantity=quantity,
                description=text(line.get("label")) or text(variant.get("name")) or text(variant.get("product_name")),
                price=unit_price(line),
                cart_line_id=text(line.get("id")),
                cart_item_key=text(line.get("variant_id")),
            )
        )
    return ship_method, parsed


def parse_order(
    order: dict[str, Any],
    lines: list[dict[str, Any]],
    variants: dict[str, dict[str, Any]],
    addresses: dict[str, dict[str, Any]],
    *,
    required_location_id: str = "",
) -> CartOrder:
    """One order with its lines, variants and addresses (looked up in batches) as a canonical order.

    Raises `UnreadableOrder` with a reason for an order that cannot be shipped as it stands (a
    fractional or unreadable quantity): it is kept as rejected, never silently dropped.
    """
    order_id, order_number = text(order.get("id")), text(order.get("order_number"))
    if not order_id:
        raise UnreadableOrder("order has no id")
    if not order_number:
        raise UnreadableOrder("order has no order_number")
    email, phone = text(order.get("email")), text(order.get("phone_number"))
    ship_to = parse_address(
        addresses.get(text(order.get("shipping_address_id"))), fallback_email=email, fallback_phone=phone
    )
    billing = addresses.get(text(order.get("billing_address_id")))
    bill_to = parse_address(billing, fallback_email=email, fallback_phone=phone) if billing else None
    ship_method, parsed = parse_lines(lines, variants)
    cart_order = CartOrder(
        cart_order_id=order_id,
        order_number=order_number,
        cart_status=cart_status(order.get("status"), order.get("fulfillment_status")),
        ordered_at=parse_datetime(order.get("created_at")) or parse_datetime(order.get("issued_at")),
        modified_at=parse_datetime(order.get("updated_at")),
        ship_to=ship_to,
        bill_to=bill_to,
        email=email or ship_to.email,
        ship_method=ship_method,
        lines=parsed,
        raw={"order": order, "order_line_items": lines},
    )
    location = text(order.get("stock_location_id"))
    if required_location_id and location and location != str(required_location_id).strip():
        cart_order.skip_code = "other_location"
        cart_order.skip_reason = (
            f"TradeGecko order {order_number} is for stock location {location}, not the Required Location ID "
            f"{required_location_id} set on this connection"
        )
    return cart_order


def parse_order_page(
    orders: list[dict[str, Any]],
    lines: list[dict[str, Any]],
    variants: dict[str, dict[str, Any]],
    addresses: dict[str, dict[str, Any]],
    *,
    required_location_id: str = "",
) -> tuple[list[CartOrder], list[RejectedCartOrder]]:
    """One page of orders; each is parsed on its own, so one bad order does not hide the others."""
    parsed: list[CartOrder] = []
    rejected: list[RejectedCartOrder] = []
    for order in orders:
        try:
            parsed.append(
                parse_order(
                    order, order_lines(order, lines), variants, addresses, required_location_id=required_location_id
                )
            )
        except UnreadableOrder as exc:
            rejected.append(
                RejectedCartOrder(
                    cart_order_id=text(order.get("id")),
                    order_number=text(order.get("order_number")),
                    reason=str(exc),
                    raw=order,
                )
            )
    return parsed, rejected


def wanted_ids(items: Iterable[dict[str, Any]], *fields: str) -> list[str]:
    """The distinct ids some records point at (`variant_id`, `shipping_address_id`...), in first-seen order."""
    found = (text(item.get(field)) for item in items for field in fields)
    return list(dict.fromkeys(i for i in found if i))
