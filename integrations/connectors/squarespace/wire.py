"""Squarespace Commerce payloads, as pure functions: orders read, tracking and stock levels written.

Kept apart from the HTTP session (`connector.py`) so each is tested with payloads shaped like the
documentation (developers.squarespace.com/commerce-apis), without a server. Squarespace documents
that every field is present but may be null, and that an empty list may be `null` or `[]`.

Tracking (`POST /orders/{id}/fulfillments`): one shipment entry per tracking number, each with the
four required fields. An empty service becomes "Standard" (Squarespace shows it next to the carrier;
the warehouse did not say). A missing ship date becomes now. A tracking URL is sent only when it is
an absolute http(s) URL, and, for a parcel with several numbers, only with the number it names
(Squarespace refuses the whole call for one bad URL, and a URL for another parcel misleads). A
shipment without any tracking number marks the order fulfilled without shipment entries when it
completes the order, and sends nothing otherwise. A tracking number without a carrier is refused
before sending: Squarespace needs a carrier name and we will not invent one.

Stock (`POST /inventory/adjustments`): absolute levels as `setFiniteOperations`, at most 50 per
call, under an `Idempotency-Key` of 1-64 letters, digits, `-` or `_`. The call answers without the
levels, so they are read back with `GET /inventory/{variantIds}` (up to 50 comma-separated ids).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from integrations.connectors.canonical import (
    CART_CANCELED,
    CART_FULFILLED,
    CART_OPEN,
    CART_OTHER,
    Address,
    CartInventoryItem,
    CartOrder,
    CartOrderLine,
    CartShipment,
    InventoryUpdate,
    OrderPage,
    RejectedCartOrder,
)
from integrations.connectors.errors import BadPayloadError, PermanentError
from integrations.connectors.parsing import (
    UnreadableOrder,
    address_from,
    format_datetime,
    money,
    parse_datetime,
    parse_quantity,
)

_STATUSES = {"PENDING": CART_OPEN, "FULFILLED": CART_FULFILLED, "CANCELED": CART_CANCELED}


# --- orders in ----------------------------------------------------------------------------------


def _text(value: Any) -> str:
    """A string field that may be null, missing or (in a lenient emulator) a number."""
    if value is None or isinstance(value, (dict, list)):
        return ""
    return str(value).strip()


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes")
    return bool(value)


def _list(value: Any, name: str) -> list[Any]:
    """Squarespace sends an empty list as `null` or `[]`; anything else is a malformed order."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise UnreadableOrder(f"{name} is not a list")
    return value


ADDRESS_NAMES = {
    "first_name": "firstName",
    "last_name": "lastName",
    "address_1": "address1",
    "address_2": "address2",
    "city": "city",
    "state": "state",
    "zip": "postalCode",
    "country": "countryCode",
    "phone": "phone",
}


def parse_address(payload: Any, *, email: str = "") -> Address:
    if not isinstance(payload, dict):
        return Address(email=email)
    address = address_from(lambda name: _text(payload.get(name)), ADDRESS_NAMES, email=email)
    address.country = address.country.upper()
    return address


def parse_money(value: Any) -> Decimal:
    """`{currency, value}` (value a string in the docs, a number in some payloads) as a Decimal."""
    return money(value.get("value") if isinstance(value, dict) else None)


def parse_line(payload: Any, line_no: int) -> CartOrderLine:
    if not isinstance(payload, dict):
        raise UnreadableOrder(f"line {line_no} is not an object")
    sku = _text(payload.get("sku"))
    try:
        quantity = parse_quantity(payload.get("quantity"))
    except UnreadableOrder as exc:
        raise UnreadableOrder(f"line {line_no} ({sku or 'no SKU'}): {exc}") from None
    return CartOrderLine(
        line_no=line_no,
        sku=sku,
        quantity=quantity,
        description=_text(payload.get("productName")),
        price=parse_money(payload.get("unitPricePaid")),
        cart_line_id=_text(payload.get("id")),
    )


# Line types that never go to a warehouse. Anything else (PHYSICAL, PHYSICAL_PRODUCT, a type we
# do not know, or none at all in older payloads) is shipped: better held by a person than dropped.
NON_SHIPPING_LINE_TYPES = frozenset(
    {"DIGITAL", "DIGITAL_PRODUCT", "SERVICE", "SERVICE_PRODUCT", "GIFT_CARD", "PAYWALL_PRODUCT"}
)


def ships(line: Any) -> bool:
    """Digital goods, services, gift cards and member-area access have nothing to ship."""
    if not isinstance(line, dict):
        return True  # let parse_line reject it with a reason
    return _text(line.get("lineItemType")).upper() not in NON_SHIPPING_LINE_TYPES


def parse_order(payload: dict[str, Any]) -> CartOrder:
    """One Squarespace order as a canonical order; raises `UnreadableOrder` with a reason.

    A missing shipping address (digital or pickup orders) is left empty on purpose: the billing
    address is not where the parcel goes, so validation holds the order for a person instead.
    """
    if not isinstance(payload, dict):
        raise UnreadableOrder("order is not an object")
    order_id = _text(payload.get("id"))
    if not order_id:
        raise UnreadableOrder("order has no id")
    order_number = _text(payload.get("orderNumber"))
    if not order_number:
        raise UnreadableOrder("order has no orderNumber")
    email = _text(payload.get("customerEmail"))
    ship_to = parse_address(payload.get("shippingAddress"), email=email)
    billing = payload.get("billingAddress")
    bill_to = parse_address(billing, email=email) if isinstance(billing, dict) else None
    if not ship_to.phone and bill_to is not None and isinstance(payload.get("shippingAddress"), dict):
        ship_to.phone = bill_to.phone  # carriers want a phone; the buyer's is the best we have
    methods = [
        _text(line.get("method"))
        for line in _list(payload.get("shippingLines"), "shippingLines")
        if isinstance(line, dict)
    ]
    lines = [
        parse_line(line, i)
        for i, line in enumerate(_list(payload.get("lineItems"), "lineItems"), start=1)
        if ships(line)
    ]
    return CartOrder(
        cart_order_id=order_id,
        order_number=order_number,
        cart_status=_STATUSES.get(_text(payload.get("fulfillmentStatus")).upper(), CART_OTHER),
        ordered_at=parse_datetime(payload.get("createdOn")),
        modified_at=parse_datetime(payload.get("modifiedOn")),
        ship_to=ship_to,
        bill_to=bill_to,
        email=email,
        ship_method=next((m for m in methods if m), ""),
        lines=lines,
        is_test=_flag(payload.get("testmode")),
        raw=payload,
    )


def page_items(body: Any, keys: tuple[str, ...], what: str) -> tuple[list[Any], str | None]:
    """The records of a cursor-paged listing and the next page's cursor (None on the last page).

    The page's own shape is checked strictly: a page we cannot read must fail the run, not end it
    early. Records are under the first of `keys` present; null is an empty last page.
    """
    key = next((k for k in keys if isinstance(body, dict) and k in body), None)
    if key is None:
        raise BadPayloadError(f"Squarespace answered {what} page without a `{keys[0]}` list")
    pagination = body.get("pagination")
    if not isinstance(pagination, dict):
        raise BadPayloadError(f"Squarespace answered {what} page without `pagination`")
    has_next = _flag(pagination.get("hasNextPage"))
    cursor = _text(pagination.get("nextPageCursor")) or None
    if has_next and not cursor:
        raise BadPayloadError("Squarespace said another page follows but gave no nextPageCursor")
    records = body[key]
    if records is None and not has_next:
        records = []
    if not isinstance(records, list):
        raise BadPayloadError(f"Squarespace answered {what} page whose `{key}` is not a list")
    return records, cursor if has_next else None


def parse_page(body: Any) -> tuple[OrderPage, str | None]:
    """One orders page and the next cursor; each order is parsed on its own, so one bad order
    does not hide the others."""
    result, cursor = page_items(body, ("result",), "an orders")
    page = OrderPage()
    for payload in result:
        try:
            page.orders.append(parse_order(payload))
        except UnreadableOrder as exc:
            known = payload if isinstance(payload, dict) else {}
            page.rejected.append(
                RejectedCartOrder(
                    cart_order_id=_text(known.get("id")),
                    order_number=_text(known.get("orderNumber")),
                    reason=str(exc),
                    raw=payload,
                )
            )
    return page, cursor


# --- tracking out --------------------------------------------------------------------------------

DEFAULT_SERVICE = "Standard"


def tracking_numbers_of(order: Any) -> set[str]:
    """The tracking numbers an order's `fulfillments` already hold (null or [] when none)."""
    if not isinstance(order, dict):
        raise BadPayloadError("Squarespace answered an order request with something that is not an order")
    fulfillments = order.get("fulfillments")
    if fulfillments is not None and not isinstance(fulfillments, list):
        raise BadPayloadError("Squarespace answered an order whose `fulfillments` is not a list")
    numbers = {_text(f.get("trackingNumber")) for f in fulfillments or [] if isinstance(f, dict)}
    return numbers - {""}


def _absolute_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def format_fulfillment(shipment: CartShipment, *, notify_customer: bool, now: datetime) -> dict[str, Any] | None:
    """The `POST /orders/{id}/fulfillments` body, or None when there is nothing to tell (see the
    module docstring for each fallback). Raises `PermanentError` for tracking without a carrier."""
    numbers = list(dict.fromkeys(n.strip() for n in shipment.tracking_numbers if n and n.strip()))
    if not numbers:
        if not shipment.complete:
            return None
        return {"shouldSendNotification": notify_customer, "shipments": []}
    carrier = (shipment.carrier or "").strip()
    if not carrier:
        raise PermanentError(
            f"Tracking {', '.join(numbers)} came without a carrier, and Squarespace needs a carrier name: "
            "check the parcel at the warehouse"
        )
    url = (shipment.tracking_url or "").strip()
    url = url if url and _absolute_url(url) else ""
    entries = []
    for number in numbers:
        entry = {
            "shipDate": format_datetime(shipment.shipped_at or now),
            "carrierName": carrier,
            "service": (shipment.service or "").strip() or DEFAULT_SERVICE,
            "trackingNumber": number,
        }
        if url and (len(numbers) == 1 or number in url):
            entry["trackingUrl"] = url
        entries.append(entry)
    return {"shouldSendNotification": notify_customer, "shipments": entries}


# --- stock out -----------------------------------------------------------------------------------

_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


def parse_inventory_page(body: Any) -> tuple[list[CartInventoryItem], str | None]:
    """One `GET /inventory` page and the next cursor. An item without a variantId cannot be set and
    is left out; an unlimited item has no quantity (None); a tracked item's unreadable count reads 0
    (it is only shown: the level pushed comes from the warehouse)."""
    records, cursor = page_items(body, ("inventory", "result"), "an inventory")
    items = [item for item in map(_inventory_item, records) if item is not None]
    return items, cursor


def _inventory_item(record: Any) -> CartInventoryItem | None:
    variant_id = _text(record.get("variantId")) if isinstance(record, dict) else ""
    if not variant_id:
        return None
    try:
        quantity: int | None = parse_quantity(record.get("quantity"))
    except UnreadableOrder:
        quantity = 0
    return CartInventoryItem(
        key=variant_id,
        sku=_text(record.get("sku")),
        quantity=None if _flag(record.get("isUnlimited")) else quantity,
        description=_text(record.get("descriptor")),
    )


def levels_shown(updates: list[InventoryUpdate], body: Any) -> tuple[list[str], dict[str, str]]:
    """Compare the levels sent with what `GET /inventory/{variantIds}` shows (`{"inventory": [...]}`):
    the variant ids at their level, and the others with what Squarespace shows instead (an item shown
    as unlimited, or not shown at all, is not at the level sent)."""
    records = body.get("inventory") if isinstance(body, dict) else None
    if not isinstance(records, list):
        raise BadPayloadError("Squarespace answered the inventory read-back without an `inventory` list")
    shown = {item.key: item for item in map(_inventory_item, records) if item is not None}
    verified: list[str] = []
    unverified: dict[str, str] = {}
    for update in updates:
        item = shown.get(update.key)
        if item is None:
            unverified[update.key] = f"Squarespace does not show variant {update.key} when asked for it"
        elif item.quantity is None:
            unverified[update.key] = f"Squarespace shows unlimited stock, not {update.quantity}"
        elif item.quantity != update.quantity:
            unverified[update.key] = f"Squarespace shows {item.quantity}, not {update.quantity}"
        else:
            verified.append(update.key)
    return verified, unverified


def format_adjustments(updates: list[InventoryUpdate], *, limit: int) -> dict[str, Any]:
    """The `POST /inventory/adjustments` body. Squarespace refuses the whole call for more than
    `limit` operations, a variant named twice or a quantity that is not a whole number ≥ 0, so
    those are the caller's bugs and raise ValueError here, before anything is sent."""
    if len(updates) > limit:
        raise ValueError(f"Squarespace takes at most {limit} inventory operations a call, not {len(updates)}")
    keys = [u.key for u in updates]
    if len(set(keys)) != len(keys) or not all(keys):
        raise ValueError("every inventory update needs its own, non-empty variant id")
    for update in updates:
        if isinstance(update.quantity, bool) or not isinstance(update.quantity, int) or update.quantity < 0:
            raise ValueError(f"quantity {update.quantity!r} for {update.sku or update.key} is not a whole number ≥ 0")
    return {"setFiniteOperations": [{"variantId": u.key, "quantity": u.quantity} for u in updates]}


def idempotency_header(value: str) -> str:
    """The caller's key if Squarespace takes it as is, else its SHA-256 in hex (64 characters):
    distinct keys stay distinct, and the same key always maps to the same header."""
    if not value:
        raise ValueError("an idempotency key is required")
    if _IDEMPOTENCY_KEY.fullmatch(value):
        return value
    return hashlib.sha256(value.encode()).hexdigest()


def retry_idempotency_key(key: str, refused: list[str]) -> str:
    """The key for resending a batch without its refused items: derived from the batch's key and
    the refused ids, so resending the same batch after a crash derives the same key again."""
    digest = hashlib.sha256("\n".join(sorted(refused)).encode()).hexdigest()[:16]
    return f"{key[:40]}-retry-{digest}"


def named_variants(text: str, variant_ids: list[str]) -> list[str]:
    """The variant ids of a batch that an error body names (message or details)."""
    return [v for v in variant_ids if re.search(rf"(?<![\w-]){re.escape(v)}(?![\w-])", text)]
