"""TradeGecko fulfillments, as pure functions: tracking written into TradeGecko as the cart, and
parcels read back from it as the warehouse.

Tracking (cart role), the documented way for part of an order and the whole of it alike: a
fulfillment of the parcel's lines (`POST /fulfillments` `{"fulfillment": {order_id,
fulfillment_line_items: [{order_line_item_id, quantity}]}}`, created `packed`), then `fulfilled`
with the fulfillment's documented tracking fields (`PUT /fulfillments/{id}`). A `packed` one
without tracking that holds exactly the parcel's lines (an earlier attempt's, its PUT lost) is
finished instead of a second one created. A fulfillment holds one tracking number: several are
written comma-separated and read back split from `GET /fulfillments?order_id=` (which the pipeline
reads after a push). What is left to ship is what was ordered less what non-void fulfillments
hold. TradeGecko's API has no "notify the customer" switch, so that preference is not sent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, tzinfo
from typing import Any
from urllib.parse import urlsplit

from integrations.connectors.canonical import CartShipment, Shipment, ShipmentLine
from integrations.connectors.errors import PermanentError
from integrations.connectors.parsing import format_datetime, text
from integrations.connectors.tradegecko.wire import api_id, parse_datetime, ships, whole_units

VOID_FULFILLMENT = frozenset({"void", "deleted"})


# --- tracking into TradeGecko (cart role) -------------------------------------------------------


def split_tracking(value: Any) -> set[str]:
    return {part.strip() for part in text(value).split(",") if part.strip()}


def tracking_numbers_of(fulfillments: Iterable[dict[str, Any]]) -> set[str]:
    """Tracking numbers an order's live fulfillments hold."""
    numbers: set[str] = set()
    for fulfillment in fulfillments:
        if text(fulfillment.get("status")).lower() not in VOID_FULFILLMENT:
            numbers |= split_tracking(fulfillment.get("tracking_number"))
    return numbers


def tracking_fields(shipment: CartShipment, *, now: datetime) -> dict[str, Any]:
    numbers = list(dict.fromkeys(n.strip() for n in shipment.tracking_numbers if n and n.strip()))
    url = (shipment.tracking_url or "").strip()
    parts = urlsplit(url)
    fields = {
        "tracking_number": ", ".join(numbers),
        "tracking_company": (shipment.carrier or "").strip(),
        "tracking_url": url if parts.scheme in ("http", "https") and parts.netloc else "",
        "service": (shipment.service or "").strip(),
        "shipped_at": format_datetime(shipment.shipped_at or now),
    }
    return {k: v for k, v in fields.items() if v}


def fulfillment_create_body(order_id: str, quantities: Mapping[str, int]) -> dict[str, Any]:
    """`POST /fulfillments` for part of an order (TradeGecko creates it `packed`)."""
    return {
        "fulfillment": {
            "order_id": api_id(order_id),
            "fulfillment_line_items": [
                {"order_line_item_id": api_id(line_id), "quantity": qty} for line_id, qty in quantities.items()
            ],
        }
    }


def fulfillment_update_body(shipment: CartShipment, *, now: datetime) -> dict[str, Any]:
    """`PUT /fulfillments/{id}`: the packed fulfillment has shipped, with this tracking."""
    return {"fulfillment": {"status": "fulfilled", **tracking_fields(shipment, now=now)}}


def fulfillment_line_items(
    fulfillments: Iterable[dict[str, Any]], fetched: Iterable[dict[str, Any]] = ()
) -> list[dict[str, Any]]:
    """The line items of live fulfillments: embedded in each fulfillment when the answer has them,
    else among those fetched by id."""
    live_ids, items = set(), []
    for fulfillment in fulfillments:
        if text(fulfillment.get("status")).lower() in VOID_FULFILLMENT:
            continue
        live_ids.add(text(fulfillment.get("id")))
        for item in fulfillment.get("fulfillment_line_items") or []:
            if isinstance(item, dict):
                items.append({**item, "fulfillment_id": text(fulfillment.get("id"))})
    items += [item for item in fetched if text(item.get("fulfillment_id")) in live_ids]
    return list({text(i.get("id")) or str(n): i for n, i in enumerate(items)}.values())


def unshipped_quantities(lines: Iterable[dict[str, Any]], fulfilled: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Per product line id: ordered less what live fulfillments already hold (only lines with some left)."""
    taken: Counter[str] = Counter()
    for item in fulfilled:
        taken[text(item.get("order_line_item_id"))] += whole_units(item.get("quantity")) or 0
    left = {}
    for line in lines:
        if not ships(line):
            continue
        line_id = text(line.get("id"))
        remaining = (whole_units(line.get("quantity")) or 0) - taken[line_id]
        if remaining > 0:
            left[line_id] = remaining
    return left


def plan_fulfilment(cart_order_id: str, unshipped: Mapping[str, int], shipment: CartShipment) -> dict[str, int]:
    """The quantities per product line id this parcel's fulfillment holds: the whole rest of the
    order (a complete parcel that names no lines), else the parcel's lines capped at what is left.

    Raises `PermanentError` for what a person must look at: an order with nothing left to ship, or a
    partial parcel that names no line TradeGecko still has open.
    """
    numbers = ", ".join(shipment.tracking_numbers) or "without a tracking number"
    if not unshipped:
        raise PermanentError(
            f"TradeGecko order {cart_order_id} has nothing left to ship: tracking {numbers} was not added. "
            "Check its fulfillments in TradeGecko"
        )
    wanted: Counter[str] = Counter()
    for line in shipment.lines:
        if line.quantity > 0:
            wanted[str(line.cart_line_id)] += line.quantity
    if not wanted:
        if shipment.complete:
            return dict(unshipped)
        raise PermanentError(
            f"The warehouse did not say which items parcel {numbers} holds, and TradeGecko needs them for part "
            f"of order {cart_order_id}: fulfil it in TradeGecko by hand"
        )
    take = {line_id: min(quantity, unshipped[line_id]) for line_id, quantity in wanted.items() if line_id in unshipped}
    if not take:
        raise PermanentError(
            f"Parcel {numbers} holds lines of TradeGecko order {cart_order_id} that are already shipped there: "
            "nothing was added"
        )
    return take


def _packed_without_tracking(
    fulfillments: Iterable[dict[str, Any]], items: Iterable[dict[str, Any]]
) -> dict[str, dict[str, int]]:
    """Per id of a `packed` fulfillment with no tracking number: the quantities per product line it
    holds (one an earlier attempt created before its tracking was lost may be finished instead)."""
    packed = {
        text(f.get("id")): {}
        for f in fulfillments
        if text(f.get("status")).lower() == "packed" and not split_tracking(f.get("tracking_number"))
    }
    for item in items:
        held = packed.get(text(item.get("fulfillment_id")))
        if held is not None:
            line_id = text(item.get("order_line_item_id"))
            held[line_id] = held.get(line_id, 0) + (whole_units(item.get("quantity")) or 0)
    return packed


def fulfillment_to_write(
    cart_order_id: str,
    lines: Iterable[dict[str, Any]],
    fulfillments: list[dict[str, Any]],
    items: list[dict[str, Any]],
    shipment: CartShipment,
) -> tuple[str, dict[str, int]]:
    """(the id of a `packed` fulfillment without tracking that holds exactly this parcel's lines, to
    be finished with the tracking, or "" to create one; the quantities per product line). Raises
    `PermanentError` as `plan_fulfilment` does."""
    lines = list(lines)
    packed = _packed_without_tracking(fulfillments, items)
    if packed:
        others = [i for i in items if text(i.get("fulfillment_id")) not in packed]
        try:
            wanted = plan_fulfilment(cart_order_id, unshipped_quantities(lines, others), shipment)
        except PermanentError:
            wanted = None
        for fulfillment_id, held in packed.items():
            if held and held == wanted:
                return fulfillment_id, wanted
    return "", plan_fulfilment(cart_order_id, unshipped_quantities(lines, items), shipment)


# --- shipments read back (warehouse role) --------------------------------------------------------


def parse_fulfillment(
    fulfillment: dict[str, Any],
    items: Iterable[dict[str, Any]],
    order_lines: Mapping[str, dict[str, Any]],
    variants: Mapping[str, dict[str, Any]],
    orders: Mapping[str, dict[str, Any]],
    *,
    zone: tzinfo | None = None,
) -> Shipment:
    """One fulfillment as a canonical parcel: its order's `reference_number` is our `cust_ref`, its
    lines are the variants' SKUs (summed per SKU). Nothing is dropped here: a fulfillment without a
    tracking number or carrier comes back as it is, and the pipeline names it for a person. A ship
    date without an offset is read in the warehouse's `zone` (`wire.parse_datetime`)."""
    order_id = text(fulfillment.get("order_id"))
    quantities: Counter[str] = Counter()
    for item in items:
        line = order_lines.get(text(item.get("order_line_item_id"))) or {}
        sku = text((variants.get(text(line.get("variant_id"))) or {}).get("sku"))
        quantity = whole_units(item.get("quantity")) or 0
        if sku and quantity > 0:
            quantities[sku] += quantity
    return Shipment(
        warehouse_shipment_id=text(fulfillment.get("id")),
        cust_ref=text((orders.get(order_id) or {}).get("reference_number")),
        carrier=text(fulfillment.get("tracking_company")),
        service=text(fulfillment.get("service")),
        tracking_numbers=sorted(split_tracking(fulfillment.get("tracking_number"))),
        tracking_url=text(fulfillment.get("tracking_url")),
        shipped_at=parse_datetime(fulfillment.get("shipped_at"), zone),
        lines=[ShipmentLine(sku=sku, quantity=quantity) for sku, quantity in quantities.items()],
        warehouse_order_id=order_id,
    )
