"""Canonical cart orders onto our rows: field by field, cut to the columns' lengths."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache

from django.db import models

from integrations.connectors.canonical import CartOrder
from orders.models import Order, OrderLine
from orders.services.bulk import EncodedJSON

# The order's ship-to as the cart gives it (`apply_cart_fields`), which a person may also edit on a held order.
SHIP_TO_FIELDS = (
    "ship_first_name",
    "ship_last_name",
    "ship_company",
    "ship_address_1",
    "ship_address_2",
    "ship_address_3",
    "ship_city",
    "ship_state",
    "ship_zip",
    "ship_country",
    "ship_phone",
    "ship_e_mail",
)


def fit(model: type[models.Model], field: str, value: str | None) -> str:
    """Cut to the column's length, without NUL characters (PostgreSQL refuses them in text)."""
    value = (value or "").replace("\x00", "")
    max_length = _max_length(model, field)
    return value[:max_length] if max_length else value


@cache
def _max_length(model: type[models.Model], field: str) -> int | None:
    return model._meta.get_field(field).max_length


def apply_cart_fields(*, order: Order, co: CartOrder) -> None:
    order.order_number = fit(Order, "order_number", co.order_number or co.cart_order_id)
    order.cart_status = co.cart_status
    order.is_test = co.is_test
    order.ordered_at = _as_stored(co.ordered_at)
    order.cart_modified_at = _as_stored(co.modified_at)
    order.customer_email = fit(Order, "customer_email", co.email)
    a = co.ship_to
    for field, value in (
        ("ship_first_name", a.first_name),
        ("ship_last_name", a.last_name),
        ("ship_company", a.company),
        ("ship_address_1", a.address_1),
        ("ship_address_2", a.address_2),
        ("ship_address_3", a.address_3),
        ("ship_city", a.city),
        ("ship_state", a.state),
        ("ship_zip", a.zip),
        ("ship_country", a.country),
        ("ship_phone", a.phone),
        ("ship_e_mail", a.email or co.email),
    ):
        setattr(order, field, fit(Order, field, (value or "").strip()))
    order.bill_to = jsonable({f"cust_{k}": v for k, v in vars(co.bill_to).items() if v} if co.bill_to else {})
    order.orig_ship_code = fit(Order, "orig_ship_code", co.ship_method)
    order.cart_payload = jsonable(co.raw)


def build_lines(*, order: Order, co: CartOrder) -> list[OrderLine]:
    return [
        OrderLine(
            order=order,
            line_no=line.line_no,
            cart_line_id=fit(OrderLine, "cart_line_id", line.cart_line_id),
            cart_item_key=fit(OrderLine, "cart_item_key", line.cart_item_key),
            canceled_at_cart=line.canceled,
            cart_sku=fit(OrderLine, "cart_sku", (line.sku or "").strip()),
            description=fit(OrderLine, "description", line.description),
            quantity=line.quantity,
            price=_price_as_stored(line.price),
        )
        for line in co.lines
    ]


_CENTS = Decimal(1).scaleb(-OrderLine._meta.get_field("price").decimal_places)


# A new order is sent as it is in memory, then retried as read back: both must say the same.
def _as_stored(moment: datetime | None) -> datetime | None:
    """An aware time in UTC, as both databases give it back."""
    return moment.astimezone(UTC) if moment is not None and moment.tzinfo is not None else moment


def _price_as_stored(price: object) -> object:
    """Rounded to the column's cents (half up, as PostgreSQL's numeric rounds)."""
    if price is None or isinstance(price, bool):
        return price
    try:
        return Decimal(str(price)).quantize(_CENTS, rounding=ROUND_HALF_UP)
    except (InvalidOperation, ValueError):
        return price  # not a number: left for the insert to refuse


def jsonable(value: object) -> object:
    """The payload as JSON our database stores: no NUL characters, no NaN or infinities (PostgreSQL's
    JSON has neither; they are kept as text), anything else as its repr. A clean object comes back
    as `EncodedJSON`, with the text this check made, for the bulk insert to store as it is."""
    try:
        text = json.dumps(value, allow_nan=False)
    except ValueError as exc:
        if "out of range float" not in str(exc).lower():
            return repr(value)[:10000].replace("\x00", "")
        return _cleaned(value)
    except (TypeError, RecursionError):
        return repr(value)[:10000].replace("\x00", "")
    # JSON always escapes NUL: without that escape there is nothing to take out.
    if "\\u0000" in text:
        return _cleaned(value)
    return EncodedJSON(value, text) if type(value) is dict else value


def _cleaned(value: object) -> object:
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, float) and not math.isfinite(value):
        return repr(value)
    if isinstance(value, dict):
        return {_cleaned(k): _cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    return value
