"""TradeGecko payloads written and the bookkeeping around them, as pure functions: orders created
(TradeGecko as the warehouse) and idempotency keys. Fulfillments, written as the cart and read as
the warehouse, are in `fulfillments.py`.

Orders (`POST /orders`): the customer (`company`) and `shipping_address` are embedded, lines are
`{variant_id, quantity, price}`, our `cust_ref` is the `reference_number` (filterable, so the order
can be found again) and the cart's full order number (`cust_po_no`) and the shipping code go into
`notes`, where whoever ships it reads them. A 422 names fields: a taken `reference_number` is a
duplicate, address fields are an address to fix, anything else a refusal to show as it is.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from integrations.connectors.answers import status_phrase, summary
from integrations.connectors.canonical import (
    Address,
    WarehouseOrder,
    WarehouseOrderLine,
    WarehouseOrderRef,
)
from integrations.connectors.errors import DuplicateReferenceError, OrderRejectedError
from integrations.connectors.parsing import text
from integrations.connectors.tradegecko.stock import live
from integrations.connectors.tradegecko.wire import (
    api_id,
    describe_errors,
    error_fields,
    format_date,
    order_lines,
    parse_address,
    ships,
    whole_units,
)

_ADDRESS_FIELDS = ("address", "city", "zip", "country", "state", "suburb")


def idempotency_key(kind: str, *parts: Any) -> str:
    """An `Idempotency-Key` derived from what is sent: the same write resent (within TradeGecko's
    24 hours) is applied once, and a changed write is never answered with an old reply."""
    digest = hashlib.sha256("\n".join(str(p) for p in parts).encode()).hexdigest()
    return f"ob-{kind}-{digest[:48]}"


# --- orders out (warehouse role) -----------------------------------------------------------------


def address_body(address: Address) -> dict[str, Any]:
    line_2 = ", ".join(p for p in (address.address_2, address.address_3) if p)
    fields = {
        "label": "Shipping",
        "first_name": address.first_name,
        "last_name": address.last_name,
        "company_name": address.company,
        "address1": address.address_1,
        "address2": line_2,
        "city": address.city,
        "state": address.state,
        "zip_code": address.zip,
        "country": address.country,
        "phone_number": address.phone,
        "email": address.email,
    }
    return {k: v for k, v in fields.items() if v}


def order_notes(order: WarehouseOrder) -> str:
    notes = [f"Cart order {order.cust_po_no} (sent by Orderbridge as {order.cust_ref})"]
    if order.ship_code:
        said = order.orig_ship_code not in ("", order.ship_code)
        notes.append(f"Ship via: {order.ship_code}" + (f" (the cart said {order.orig_ship_code})" if said else ""))
    if order.is_test:
        notes.append("TEST ORDER: do not ship")
    if order.notes:
        notes.append(order.notes)
    return "\n".join(notes)


def format_order(
    order: WarehouseOrder, *, stock_location_id: str, variant_ids: Mapping[str, str] | None = None, today: date
) -> dict[str, Any]:
    """The `POST /orders` body. Lines name their variant once `variant_ids` (SKU -> variant id) is
    known; before that (the admin's preview) they show the SKU instead."""
    ship = order.ship_to
    variant_ids = variant_ids or {}
    lines = []
    for item in order.items:
        variant = variant_ids.get(item.sku)
        lines.append(
            {
                **({"variant_id": api_id(variant)} if variant else {"sku": item.sku}),
                "quantity": item.quantity,
                "price": str(item.price),
            }
        )
    body: dict[str, Any] = {
        "reference_number": order.cust_ref,
        "issued_at": format_date(order.ordered_at or today),
        "status": "active",
        "stock_location_id": api_id(stock_location_id),
        "email": ship.email,
        "phone_number": ship.phone,
        "notes": order_notes(order),
        "company": {
            "name": ship.company or ship.full_name or f"Order {order.cust_po_no}",
            "company_type": "consumer",
            "email": ship.email,
            "phone_number": ship.phone,
        },
        "shipping_address": address_body(ship),
        "order_line_items": lines,
    }
    body["company"] = {k: v for k, v in body["company"].items() if v}
    return {"order": {k: v for k, v in body.items() if v not in ("", None)}}


_NOTES_FIRST_LINE = re.compile(r"^Cart order (?P<po>.*) \(sent by Orderbridge as [^\n]*\)$")


def po_number_in_notes(notes: Any) -> str | None:
    """The cart's order number `order_notes` wrote on the first line; None when it is not there."""
    match = _NOTES_FIRST_LINE.match(text(notes).split("\n", 1)[0])
    return match["po"] if match else None


def found_order(
    order: dict[str, Any],
    lines: Iterable[dict[str, Any]],
    variants: Mapping[str, dict[str, Any]],
    addresses: Mapping[str, dict[str, Any]],
) -> WarehouseOrderRef:
    """An order found by reference, read back as what was sent: the cart's order number from its
    notes, its shipping address, and its product lines as (SKU, quantity)."""
    items = []
    for number, line in enumerate((ln for ln in order_lines(order, lines) if ships(ln)), 1):
        sku = text((variants.get(text(line.get("variant_id"))) or {}).get("sku"))
        quantity = whole_units(line.get("quantity"))
        # An unreadable quantity is kept as -1: a line no order of ours has, so it cannot match.
        items.append(WarehouseOrderLine(line_no=number, sku=sku, quantity=-1 if quantity is None else quantity))
    address = addresses.get(text(order.get("shipping_address_id")))
    return WarehouseOrderRef(
        warehouse_order_id=text(order.get("id")),
        cust_ref=text(order.get("reference_number")),
        status=text(order.get("status")),
        cust_po_no=po_number_in_notes(order.get("notes")),
        ship_to=parse_address(address) if address is not None else None,
        items=items,
    )


def classify_order_refusal(status: int, body: Any, cust_ref: str) -> Exception:
    """The typed error for a refused `POST /orders` (422 `{"errors": {field: [...]}}`)."""
    fields = error_fields(body)
    detail = summary(describe_errors(fields)) or status_phrase(status)
    message = f"TradeGecko refused order {cust_ref} ({status}): {detail}"
    for field, messages in fields.items():
        said = " ".join(messages).lower()
        if "reference_number" in field and any(w in said for w in ("taken", "exist", "unique", "duplicate")):
            return DuplicateReferenceError(message, status=status)
    if any(any(word in field for word in _ADDRESS_FIELDS) for field in fields):
        return OrderRejectedError(message, reason_code="missing_address", status=status)
    return OrderRejectedError(message, reason_code="warehouse_rejected", status=status)


def match_skus(skus: Iterable[str], variants: Iterable[dict[str, Any]]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(SKU -> its one variant id, SKU -> the ids of several variants) for the SKUs asked about.

    Matching is exact (TradeGecko's filter may be looser). SKUs are not unique in TradeGecko: when
    several live variants carry one, the active ones are preferred, and if that still leaves more
    than one it is an ambiguity for a person, never a guess.
    """
    found: dict[str, list[dict[str, Any]]] = {}
    wanted = set(skus)
    for variant in variants:
        sku = text(variant.get("sku"))
        if sku in wanted and live(variant) and text(variant.get("id")):
            found.setdefault(sku, []).append(variant)
    resolved: dict[str, str] = {}
    ambiguous: dict[str, list[str]] = {}
    for sku, candidates in found.items():
        unique = {text(v.get("id")): v for v in candidates}
        active = [vid for vid, v in unique.items() if text(v.get("status")).lower() in ("", "active")]
        pick = active if active else list(unique)
        if len(pick) == 1:
            resolved[sku] = pick[0]
        else:
            ambiguous[sku] = sorted(pick)
    return resolved, ambiguous
