"""An order's life at Bergen read, and its changes written, as pure functions (the Extensiv model).

Documented (Extensiv's rel pages `rels/orders/order`, `rels/orders/ordercancel`, `Rels/exceptions`):
`readOnly.status` is 0 open, 1 closed (confirmed: shipped), 2 canceled; `readOnly.isClosed`; the pick
and pack fields `pickStarted`, `pickDoneDate`, `packStarted`, `packDoneDate`. The canceler "cancels an
open order" and `PUT /orders/{id}` "updates an unconfirmed order", both under the order's ETag
(`If-Match`); a refused operation is 403 `OperationException {ErrorCode, Hint}` (codes such as
`OrderConfirmed`, `OrderCanceled`, `InUse`).

Read as: canceled when status is 2; shipped when it is 1 (or 3, or `isClosed`); picking when any pick
or pack field (or the older `pickTicketPrintDate`) is set; received otherwise. A 403 refusal is
judged by the order read again, not by its code alone (which code a warehouse answers for an order
in a pick is not published).

Modelled: the `PUT` body is the order as read (without `readOnly`, links and embedded lines) with
the changed parts laid over it (`shipTo`, `routingInfo`, `poNum`, `orderItems` by SKU), so that a
warehouse reading PUT as a whole replacement loses nothing. A cancel of some lines is such an
update with lower quantities (the rel pages document no cancel of part of an order).
"""

from __future__ import annotations

import copy
from typing import Any

from integrations.connectors.bergen.wire import order_ref, parse_wms_datetime, pick, whole_number
from integrations.connectors.bergen.writes import format_order, items_of, ship_to_of, split_ship_code
from integrations.connectors.canonical import (
    WH_CANCELED,
    WH_PICKING,
    WH_RECEIVED,
    WH_SHIPPED,
    Address,
    WarehouseOrder,
    WarehouseOrderState,
    units_by_sku,
)

# Pick and pack fields, latest step first, with the words a person reads for each.
_PICK_STEPS = (
    ("packDoneDate", "packed"),
    ("packStarted", "packing"),
    ("pickDoneDate", "picked"),
    ("pickStarted", "pick started"),
    ("pickTicketPrintDate", "pick ticket printed"),
)
_NOT_SENT_BACK = ("readOnly", "ReadOnly", "_links", "_embedded", "orderItems", "OrderItems")


def _is_set(value: Any) -> bool:
    """A flag that is true, or a date that is one (not .NET's "no date")."""
    if isinstance(value, bool):
        return value
    return parse_wms_datetime(value) is not None if isinstance(value, str) else False


def order_stage(record: dict[str, Any]) -> tuple[str, str]:
    """(WH_* state, the platform's words) of an order record (see the module docstring)."""
    read_only = pick(record, "readOnly", "ReadOnly") or {}
    status = whole_number(pick(read_only, "status", "Status"))
    if status == 2:
        return WH_CANCELED, "canceled"
    if status in (1, 3) or pick(read_only, "isClosed", "IsClosed") is True:
        return WH_SHIPPED, "closed (confirmed)"
    for field, words in _PICK_STEPS:
        if _is_set(pick(read_only, field, field[0].upper() + field[1:])):
            return WH_PICKING, f"open, {words}"
    return WH_RECEIVED, "open"


def ship_code_of(record: dict[str, Any]) -> str | None:
    """ "CARRIER:MODE" from `routingInfo` (as `writes.split_ship_code` reads it), None without one."""
    routing = pick(record, "routingInfo", "RoutingInfo")
    if not isinstance(routing, dict):
        return None
    carrier = str(pick(routing, "carrier", "Carrier") or "").strip()
    mode = str(pick(routing, "mode", "Mode") or "").strip()
    return f"{carrier}:{mode}" if mode else carrier


def state_of(record: dict[str, Any], version: str = "") -> WarehouseOrderState | None:
    """The order's state and contents as read (`GET /orders/{id}?detail=All`); None without an id."""
    ref = order_ref(record)
    if ref is None:
        return None
    state, words = order_stage(record)
    return WarehouseOrderState(
        warehouse_order_id=ref.warehouse_order_id,
        cust_ref=ref.cust_ref,
        state=state,
        platform_status=words,
        ship_to=ship_to_of(record),
        ship_code=ship_code_of(record),
        items=items_of(record),
        version=version,
    )


def _fold(value: Any) -> str:
    return " ".join(str(value or "").split()).casefold()


def _address_key(address: Address | None, *, read_back: bool) -> tuple[str, ...]:
    """What the warehouse keeps of a ship-to, comparable: its one name field holds the full name."""
    if address is None:
        return ()
    name = address.first_name if read_back else address.full_name
    line_2 = address.address_2 if read_back else ", ".join(p for p in (address.address_2, address.address_3) if p)
    parts = (name, address.address_1, line_2, address.city, address.state, address.zip, address.country)
    return tuple(_fold(part) for part in (*parts, address.phone, address.email))


def shows_update(state: WarehouseOrderState, payload: WarehouseOrder) -> bool:
    """Whether the order as read already is what `payload` says (ship-to, lines, shipping code)."""
    if _address_key(state.ship_to, read_back=True) != _address_key(payload.ship_to, read_back=False):
        return False
    if units_by_sku(state.items) != units_by_sku(payload.items):
        return False
    wanted = tuple(_fold(part) for part in split_ship_code(payload.ship_code))
    return tuple(_fold(part) for part in split_ship_code(state.ship_code or "")) == wanted


def _writable(record: dict[str, Any]) -> dict[str, Any]:
    return {k: copy.deepcopy(v) for k, v in record.items() if k not in _NOT_SENT_BACK}


def _items_body(units: dict[str, int]) -> list[dict[str, Any]]:
    return [{"itemIdentifier": {"sku": sku}, "qty": qty} for sku, qty in units.items()]


def update_body(record: dict[str, Any], payload: WarehouseOrder, *, customer_name: str, facility: str) -> dict:
    """The `PUT /orders/{id}` body making the order what `payload` says (see the module docstring)."""
    wanted = format_order(payload, customer_name=customer_name, facility=facility)
    body = _writable(record)
    for name in ("poNum", "shipTo", "notes"):
        if name in wanted:
            body[name] = wanted[name]
    routing = dict(pick(record, "routingInfo", "RoutingInfo") or {})
    routing.pop("carrier", None)
    routing.pop("mode", None)
    body["routingInfo"] = routing | wanted.get("routingInfo", {})
    body["orderItems"] = _items_body(units_by_sku(payload.items))
    return body


def lines_body(record: dict[str, Any], units: dict[str, int]) -> dict[str, Any]:
    """The `PUT /orders/{id}` body leaving the order with `units` (SKU -> quantity), all else as read."""
    body = _writable(record)
    body["orderItems"] = _items_body(units)
    return body


def refusal_code(body: Any) -> tuple[str, str, bool]:
    """(ErrorCode, Hint, whether it is an operation refusal rather than a missing permission) of a 403."""
    code = str(pick(body, "ErrorCode", "errorCode") or "")
    hint = str(pick(body, "Hint", "hint", "Message", "message") or "")
    kind = str(pick(body, "$type") or "")
    operation = "OperationException" in kind or (bool(code) and "Authoriz" not in kind and code != "Forbidden")
    return code, hint, operation
