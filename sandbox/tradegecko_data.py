"""TradeGecko values as the API writes them, the records the sandbox seeds, and index filtering and paging.

Shapes follow the developer.tradegecko.com reference (archived as github.com/tradegecko/docs_old) and the
official ``gecko-ruby`` client (github.com/tradegecko/gecko), which reads the ``X-Pagination`` header, sends
``Idempotency-Key`` and expects 422 ``{"errors": {...}}``.

Assumptions where the docs are silent:
- Decimals are JSON strings as Rails writes BigDecimal: ``"1.0"``, ``"189.0"``, ``"12.5"`` (the docs' examples).
- Timestamps are UTC with milliseconds, ``2014-01-22T08:10:33.123Z`` (the docs show whole seconds, later
  API answers carried milliseconds); ``issued_at``, ``ship_at`` and ``packed_at`` are dates ``2014-01-10``.
- ``*_min``/``*_max`` time filters are inclusive; a time without an offset is UTC; a bad one is 400.
- Every list is ordered by ``id`` ascending unless ``order`` (``"<field> asc|desc"`` on ``id``,
  ``created_at``, ``updated_at``) says otherwise. Unknown query parameters are ignored, as Rails does.
- Multi-valued filters (``status``, ``fulfillment_status``...) take one value, ``name[]=a&name[]=b`` or
  ``a,b`` (the filters page); single-valued ones (``order_id``, ``sku``...) match exactly.
- An empty result has ``total_pages`` 0; a page past the last one is an empty 200 with ``out_of_bounds``.
- A product line without a ``label`` is labelled with the variant's name; other lines need one.

Long because every record shape and list filter of the API, with no state, stays in one place
beside the store (``tradegecko_store``) and the HTTP resources (``tradegecko_api``).
"""

from __future__ import annotations

import copy
import json
import math
import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

ORDER_STATUSES = ("draft", "active", "finalized", "fulfilled", "void")
SHIPPING_STATUSES = ("unshipped", "partial", "shipped")
FULFILLMENT_RECORD_STATUSES = ("packed", "fulfilled")
LINE_TYPES = ("product", "shipping", "discount", "deposit", "payment", "fee")
COMPANY_TYPES = ("business", "consumer", "supplier")
DEFAULT_LIMIT = 50
MAX_LIMIT = 250
ADDRESS_FIELDS = (
    "first_name",
    "last_name",
    "company_name",
    "address1",
    "address2",
    "suburb",
    "city",
    "state",
    "zip_code",
    "country",
    "phone_number",
    "email",
    "label",
)
TRACKING_FIELDS = ("tracking_number", "tracking_company", "tracking_url", "service", "notes", "delivery_type")

_SORTABLE = ("id", "created_at", "updated_at")


class BadRequest(Exception):
    """A request the API answers 400 (malformed parameters, missing root key)."""


class Invalid(Exception):
    """A write refused with 422 and Rails-style ``{"errors": {field: [message]}}``."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(json.dumps(errors))
        self.errors = errors


def invalid(field: str, message: str) -> Invalid:
    return Invalid({field: [message]})


# -- values ----------------------------------------------------------------------------------------


def now_utc() -> datetime:
    return datetime.now(UTC)


def timestamp(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def day(value: date | datetime | str) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).date().isoformat() if value.tzinfo else value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    parsed = parse_time(value)
    if parsed is None:
        raise ValueError(f"not a date: {value!r}")
    return parsed.date().isoformat()


_DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_time(value: str) -> datetime | None:
    """ISO 8601 date or date-time (``Z``, an offset or none, meaning UTC), or None when it is neither."""
    try:
        if _DATE_ONLY.fullmatch(value):
            return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def to_decimal(value: Any) -> Decimal | None:
    """A JSON number or numeric string as Decimal; None for anything else (booleans included)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def as_id(value: Any) -> int | None:
    """A record id sent as a JSON integer or a string of digits (Rails casts both); None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def decimal_str(value: Decimal | int | str) -> str:
    """Rails' BigDecimal#to_s as TradeGecko sends it: ``"1.0"``, ``"189.0"``, ``"12.5"``, ``"-3.0"``."""
    number = Decimal(value).normalize()
    if number == number.to_integral_value():
        return f"{int(number)}.0"
    return format(number, "f")


def public_copy(record: Any) -> Any:
    """A deep copy, so a caller holding a returned record cannot change the sandbox's state by accident."""
    return copy.deepcopy(record)


# -- records ---------------------------------------------------------------------------------------


def stamped(record: dict[str, Any], moment: datetime | None = None) -> dict[str, Any]:
    when = timestamp(moment or now_utc())
    record.setdefault("created_at", when)
    record["updated_at"] = when
    return record


def build_location(location_id: int, label: str) -> dict[str, Any]:
    return stamped(
        {
            "id": location_id,
            "label": label,
            "address1": None,
            "address2": None,
            "suburb": None,
            "city": None,
            "state": None,
            "zip_code": None,
            "country": None,
            "holds_stock": True,
            "status": "active",
        }
    )


def build_company(company_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    record = {
        "id": company_id,
        "name": fields.get("name"),
        "company_type": fields.get("company_type") or "business",
        "company_code": fields.get("company_code"),
        "email": fields.get("email"),
        "phone_number": fields.get("phone_number"),
        "website": fields.get("website"),
        "status": "active",
        "tax_number": None,
        "default_tax_type": "exclusive",
        "address_ids": [],
        "contact_ids": [],
        "tags": [],
    }
    return stamped(record)


def build_address(address_id: int, company_id: int, fields: dict[str, Any]) -> dict[str, Any]:
    record: dict[str, Any] = {"id": address_id, "company_id": company_id}
    record.update({name: fields.get(name) for name in ADDRESS_FIELDS})
    record["label"] = record["label"] or "Shipping"
    record["status"] = "active"
    return stamped(record)


def build_variant(variant_id: int, product_id: int, sku: str, name: str | None, price: str) -> dict[str, Any]:
    """The variant's own fields; stock (``stock_on_hand``, ``locations``...) is added when it is read."""
    record = {
        "id": variant_id,
        "product_id": product_id,
        "sku": sku,
        "name": name or sku,
        "product_name": name or sku,
        "product_status": "active",
        "product_type": None,
        "status": "active",
        "upc": None,
        "supplier_code": None,
        "opt1": None,
        "opt2": None,
        "opt3": None,
        "weight": None,
        "retail_price": price,
        "wholesale_price": price,
        "buy_price": None,
        "manage_stock": True,
        "keep_selling": False,
        "sellable": True,
        "taxable": True,
        "composite": False,
        "is_online": False,
    }
    return stamped(record)


def variant_view(
    variant: dict[str, Any],
    location_ids: list[int],
    on_hand: dict[tuple[int, int], Decimal],
    committed: dict[tuple[int, int], Decimal],
) -> dict[str, Any]:
    """A variant as ``GET /variants`` answers: totals plus one ``locations[]`` entry per stock location."""
    view = public_copy(variant)
    locations, total_on_hand, total_committed = [], Decimal(0), Decimal(0)
    for location_id in location_ids:
        key = (variant["id"], location_id)
        if key not in on_hand and key not in committed:
            continue
        stock, held = on_hand.get(key, Decimal(0)), committed.get(key, Decimal(0))
        total_on_hand, total_committed = total_on_hand + stock, total_committed + held
        locations.append(
            {
                "location_id": location_id,
                "stock_on_hand": decimal_str(stock),
                "committed": decimal_str(held),
                "incoming": None,
                "available": decimal_str(stock - held),
                "bin_location": None,
            }
        )
    view.update(
        stock_on_hand=decimal_str(total_on_hand),
        committed_stock=decimal_str(total_committed),
        available_stock=decimal_str(total_on_hand - total_committed),
        incoming_stock="0.0",
        locations=locations,
    )
    return view


def build_line(
    line_id: int,
    order_id: int,
    position: int,
    *,
    variant_id: int | None,
    quantity: Decimal,
    price: Decimal,
    label: str | None,
    line_type: str,
    discount: Decimal | None = None,
    tax_rate_override: Decimal | None = None,
) -> dict[str, Any]:
    record = {
        "id": line_id,
        "order_id": order_id,
        "variant_id": variant_id,
        "tax_type_id": None,
        "quantity": decimal_str(quantity),
        "price": decimal_str(price),
        "discount": decimal_str(discount) if discount is not None else None,
        "label": label,
        "line_type": line_type,
        "freeform": variant_id is None,
        "shippable": line_type == "product",
        "position": position,
        "tax_rate": "0.0",
        "tax_rate_override": decimal_str(tax_rate_override) if tax_rate_override is not None else None,
        "image_url": None,
        "fulfillment_line_item_ids": [],
        "invoice_line_item_ids": [],
    }
    return stamped(record)


def check_lines(lines: Any, variants: dict[int, dict[str, Any]]) -> list[dict[str, Any]]:
    """``order_line_items`` of a new order, validated and converted for ``build_line`` (Invalid otherwise)."""
    if lines is None:
        return []
    if not isinstance(lines, list):
        raise invalid("order_line_items", "must be an array")
    checked = []
    for line in lines:
        if not isinstance(line, dict):
            raise invalid("order_line_items", "must be objects")
        variant_id = as_id(line.get("variant_id"))
        line_type = line.get("line_type") or ("product" if line.get("variant_id") is not None else None)
        if line_type not in LINE_TYPES:
            raise invalid("order_line_items.line_type", "is not included in the list")
        if line_type == "product" and variant_id not in variants:
            blank = line.get("variant_id") is None
            raise invalid("order_line_items.variant_id", "can't be blank" if blank else "is invalid")
        if line_type != "product" and not line.get("label"):
            raise invalid("order_line_items.label", "can't be blank")
        quantity = to_decimal(line.get("quantity", 1))
        if quantity is None or quantity <= 0:
            raise invalid("order_line_items.quantity", "must be greater than 0")
        price = to_decimal(line.get("price", "0"))
        if price is None:
            raise invalid("order_line_items.price", "is not a number")
        discount, override = line.get("discount"), line.get("tax_rate_override")
        label = line.get("label") or (variants[variant_id]["name"] if line_type == "product" else None)
        checked.append(
            {
                "variant_id": variant_id if line_type == "product" else None,
                "quantity": quantity,
                "price": price,
                "label": label,
                "line_type": line_type,
                "discount": to_decimal(discount) if discount is not None else None,
                "tax_rate_override": to_decimal(override) if override is not None else None,
            }
        )
    return checked


def build_order(order_id: int, fields: dict[str, Any], moment: datetime) -> dict[str, Any]:
    record = {
        "id": order_id,
        "order_number": fields["order_number"],
        "reference_number": fields.get("reference_number"),
        "company_id": fields["company_id"],
        "shipping_address_id": fields["shipping_address_id"],
        "billing_address_id": fields["billing_address_id"],
        "stock_location_id": fields["stock_location_id"],
        "user_id": 1,
        "assignee_id": None,
        "currency_id": 1,
        "contact_id": None,
        "email": fields.get("email"),
        "phone_number": fields.get("phone_number"),
        "notes": fields.get("notes"),
        "status": fields.get("status") or "draft",
        "payment_status": fields.get("payment_status") or "unpaid",
        "invoice_status": "uninvoiced",
        "packed_status": "unpacked",
        "fulfillment_status": "unshipped",
        "return_status": "unreturned",
        "tax_type": fields.get("tax_type") or "exclusive",
        "tax_label": None,
        "tax_override": None,
        "default_price_list_id": "retail",
        "issued_at": fields["issued_at"],
        "ship_at": fields.get("ship_at"),
        "tracking_number": None,
        "source": fields.get("source"),
        "source_id": None,
        "source_url": fields.get("source_url"),
        "tags": fields.get("tags") or [],
        "total": "0.0",
        "invoice_numbers": {},
        "fulfillment_ids": [],
        "invoice_ids": [],
        "payment_ids": [],
        "order_line_item_ids": [],
    }
    return stamped(record, moment)


def build_fulfillment(
    fulfillment_id: int, order: dict[str, Any], status: str, fields: dict[str, Any]
) -> dict[str, Any]:
    record = {
        "id": fulfillment_id,
        "order_id": order["id"],
        "shipping_address_id": order["shipping_address_id"],
        "billing_address_id": order["billing_address_id"],
        "stock_location_id": order["stock_location_id"],
        "status": status,
        "exchange_rate": "1.0",
        "packed_at": day(now_utc()),
        "shipped_at": None,
        "received_at": None,
        "delivery_type": fields.get("delivery_type") or "Courier",
        "receipt": {},
        "fulfillment_line_item_ids": [],
    }
    record.update({name: fields.get(name) for name in TRACKING_FIELDS if name != "delivery_type"})
    return stamped(record)


# -- index filtering and paging -------------------------------------------------------------------


def list_param(query: dict[str, list[str]], name: str) -> list[str] | None:
    """Values of ``name`` given as ``name=a``, ``name=a,b`` or ``name[]=a&name[]=b``; None when absent."""
    raw = query.get(f"{name}[]", []) + query.get(name, [])
    if not raw:
        return None
    return [part.strip() for value in raw for part in value.split(",") if part.strip()]


def filter_records(
    records: list[dict[str, Any]], query: dict[str, list[str]], filters: dict[str, tuple[str, str]]
) -> list[dict[str, Any]]:
    """Apply ``ids`` and the resource's ``filters`` ({param: (field, kind)}; kinds: in, eq, min, max)."""
    selected = list(records)
    ids = list_param(query, "ids")
    if ids is not None:
        selected = [record for record in selected if str(record["id"]) in ids]
    for param, (field, kind) in filters.items():
        if kind == "in":
            wanted = list_param(query, param)
            if wanted is not None:
                selected = [record for record in selected if str(record.get(field)) in wanted]
            continue
        value = (query.get(param) or [None])[0]
        if value is None:
            continue
        if kind == "eq":
            selected = [record for record in selected if record.get(field) is not None and str(record[field]) == value]
            continue
        bound = parse_time(value)
        if bound is None:
            raise BadRequest(f"{param} must be an ISO 8601 date or time, got {value!r}.")
        selected = [record for record in selected if record.get(field) and _within(record[field], bound, kind)]
    return _sorted(selected, (query.get("order") or [None])[0])


def _within(value: str, bound: datetime, kind: str) -> bool:
    moment = parse_time(value)
    return moment is not None and (moment >= bound if kind == "min" else moment <= bound)


def _sorted(records: list[dict[str, Any]], order: str | None) -> list[dict[str, Any]]:
    if not order:
        return sorted(records, key=lambda record: record["id"])
    field, _, direction = order.strip().partition(" ")
    direction = direction.strip().lower() or "asc"
    if field not in _SORTABLE or direction not in ("asc", "desc"):
        raise BadRequest(f"order must be one of {', '.join(_SORTABLE)} followed by asc or desc.")
    return sorted(records, key=lambda record: (record[field], record["id"]), reverse=direction == "desc")


def paging(query: dict[str, list[str]]) -> tuple[int, int]:
    """``limit`` (default 50, at most 250) and ``page`` (from 1), or BadRequest."""
    limit_raw, page_raw = (query.get("limit") or [None])[0], (query.get("page") or [None])[0]
    limit = DEFAULT_LIMIT if limit_raw is None else _integer(limit_raw, "limit")
    page = 1 if page_raw is None else _integer(page_raw, "page")
    if limit > MAX_LIMIT:
        raise BadRequest(f"limit must be {MAX_LIMIT} or less.")
    if page < 1:
        raise BadRequest("page must be 1 or more.")
    return limit, page


def _integer(raw: str, name: str) -> int:
    if not raw.strip().isdigit():
        raise BadRequest(f"{name} must be a non-negative integer.")
    return int(raw)


def page_of(records: list[Any], limit: int, page: int) -> tuple[list[Any], dict[str, Any]]:
    """One page and its ``X-Pagination`` value; ``limit=0`` counts without listing (gecko-ruby's ``count``)."""
    total = len(records)
    total_pages = math.ceil(total / limit) if limit else 0
    offset = (page - 1) * limit
    header = {
        "total_records": total,
        "total_pages": total_pages,
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "out_of_bounds": page > max(total_pages, 1),
        "offset": offset,
    }
    return records[offset : offset + limit], header
