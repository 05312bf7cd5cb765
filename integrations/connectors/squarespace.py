"""Squarespace Commerce as a cart: its Orders API read into canonical orders.

Wire contract (developers.squarespace.com/commerce-apis): `Authorization: Bearer <API key>`, a
mandatory `User-Agent`, 300 requests a minute with a one-minute cooldown after a 429 (no
Retry-After). `GET /1.0/commerce/orders` takes a date range (both ends together) and optionally
`fulfillmentStatus`; later pages are asked for with `cursor` alone, because the API refuses a
cursor combined with any other filter. Everything platform-specific stays in this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from integrations.connectors.base import CartConnector, ConfigField
from integrations.connectors.canonical import (
    CART_CANCELED,
    CART_FULFILLED,
    CART_OPEN,
    CART_OTHER,
    Address,
    CartOrder,
    CartOrderLine,
    OrderPage,
    RejectedCartOrder,
)
from integrations.connectors.errors import BadPayloadError
from integrations.http import ApiClient

ORDERS_PATH = "/1.0/commerce/orders"

_STATUSES = {"PENDING": CART_OPEN, "FULFILLED": CART_FULFILLED, "CANCELED": CART_CANCELED}


class UnreadableOrder(ValueError):
    """One order in an otherwise good page that cannot be turned into a canonical order."""


# --- parsing (pure) ------------------------------------------------------------------------------


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


def parse_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from ISO 8601 (Z or an offset, with or without fractions), else None.

    A date is not needed to ship an order, so an unreadable one is dropped rather than losing the
    whole order; the raw payload keeps the original.
    """
    text = _text(value)
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_datetime(value: datetime, *, round_up: bool = False) -> str:
    """ISO 8601 UTC with a Z, whole seconds (the form the docs show).

    Rounding the window's start down and its end up leaves no gap between consecutive windows;
    the small overlap is harmless because orders are stored once by id.
    """
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    whole = value.replace(microsecond=0)
    if round_up and whole != value:
        whole += timedelta(seconds=1)
    return whole.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_address(payload: Any, *, email: str = "") -> Address:
    if not isinstance(payload, dict):
        return Address(email=email)
    return Address(
        first_name=_text(payload.get("firstName")),
        last_name=_text(payload.get("lastName")),
        address_1=_text(payload.get("address1")),
        address_2=_text(payload.get("address2")),
        city=_text(payload.get("city")),
        state=_text(payload.get("state")),
        zip=_text(payload.get("postalCode")),
        country=_text(payload.get("countryCode")).upper(),
        phone=_text(payload.get("phone")),
        email=email,
    )


def parse_quantity(value: Any) -> int:
    """A whole, non-negative quantity; zero is kept so that validation holds the order with a reason."""
    if isinstance(value, bool) or value is None:
        raise UnreadableOrder(f"quantity {value!r} is not a number")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise UnreadableOrder(f"quantity {value!r} is not a number") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise UnreadableOrder(f"quantity {value!r} is not a whole number")
    if number < 0:
        raise UnreadableOrder(f"quantity {value!r} is negative")
    return int(number)


def parse_money(value: Any) -> Decimal:
    """`{currency, value}` (value a string in the docs, a number in some payloads) as a Decimal."""
    amount = value.get("value") if isinstance(value, dict) else None
    if amount is None or isinstance(amount, bool):
        return Decimal("0")
    try:
        number = Decimal(str(amount).strip())
    except InvalidOperation:
        return Decimal("0")
    return number if number.is_finite() else Decimal("0")


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


def parse_page(body: Any) -> tuple[OrderPage, str | None]:
    """One listing page and the cursor of the next page (None on the last page).

    The page's own shape is checked strictly (a page we cannot read must fail the run, not end it
    early); each order in it is parsed on its own, so one bad order does not hide the others.
    """
    if not isinstance(body, dict) or "result" not in body:
        raise BadPayloadError("Squarespace answered an orders page without a `result` list")
    pagination = body.get("pagination")
    if not isinstance(pagination, dict):
        raise BadPayloadError("Squarespace answered an orders page without `pagination`")
    has_next = _flag(pagination.get("hasNextPage"))
    cursor = _text(pagination.get("nextPageCursor")) or None
    if has_next and not cursor:
        raise BadPayloadError("Squarespace said another page follows but gave no nextPageCursor")
    result = body["result"]
    if result is None and not has_next:
        result = []
    if not isinstance(result, list):
        raise BadPayloadError("Squarespace answered an orders page whose `result` is not a list")
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
    return page, cursor if has_next else None


# --- HTTP ----------------------------------------------------------------------------------------


class SquarespaceCart(CartConnector):
    """Reads orders from a Squarespace site with a Developer API key (webhooks need OAuth: we poll)."""

    key = "squarespace"
    label = "Squarespace Commerce"
    default_base_url = "https://api.squarespace.com"
    base_url_help = "Leave as is for Squarespace; point it at a sandbox to test."
    credential_fields = (
        ConfigField(
            name="api_key",
            label="API key",
            help_text=(
                "Squarespace: Settings → Advanced → Developer API Keys → Generate key. Give Orders the "
                "“Read and Write” permission (writing is needed to send tracking). The key is shown once."
            ),
            secret=True,
        ),
    )

    def client(self) -> ApiClient:
        return self.make_client(
            headers={
                "Authorization": f"Bearer {self.credentials.get('api_key', '')}",
                "Accept": "application/json",
            },
            credential_name="the API key",
            min_interval=0.2,  # 300 requests a minute
            default_cooldown=60,  # a 429 means a one-minute cooldown, with no Retry-After
        )

    def iter_order_pages(
        self, *, modified_after: datetime, modified_before: datetime, open_only: bool
    ) -> Iterator[OrderPage]:
        client = self.client()
        params: dict[str, str] = {
            "modifiedAfter": format_datetime(modified_after),
            "modifiedBefore": format_datetime(modified_before, round_up=True),
        }
        if open_only:
            params["fulfillmentStatus"] = "PENDING"
        seen: set[str] = set()
        while True:
            page, cursor = parse_page(client.get_json(ORDERS_PATH, params=params))
            yield page
            if cursor is None:
                return
            if cursor in seen:
                raise BadPayloadError("Squarespace returned the same page cursor twice: stopping the listing")
            seen.add(cursor)
            params = {"cursor": cursor}  # a cursor cannot be combined with the date range

    def test_connection(self) -> str:
        now = datetime.now(UTC)
        self.client().get_json(
            ORDERS_PATH,
            params={
                "modifiedAfter": format_datetime(now - timedelta(minutes=5)),
                "modifiedBefore": format_datetime(now, round_up=True),
            },
        )
        return "credentials accepted: the API key can read orders"
