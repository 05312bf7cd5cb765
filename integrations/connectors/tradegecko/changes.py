"""TradeGecko (as the warehouse) orders changed after delivery: read, write, read back.

Documented (developer.tradegecko.com, archived): `PUT /orders/{id}` (204) with a writable `status`
(draft, active, finalized, fulfilled, void) and `shipping_address_id`; `POST /addresses`;
`POST /order_line_items`, `PUT /order_line_items/{id}` and `DELETE /order_line_items/{id}`. Read:
`status`, `packed_status` and `fulfillment_status`. A cancel is the status `void`; a cancel of some
lines lowers or deletes those lines; an update moves the order to a new shipping address, makes its
lines the payload's and rewrites the "Ship via" line of its notes (where `writes.order_notes` puts the
shipping code: TradeGecko has no field for it).

Read as: canceled when void or deleted; shipped when fulfilled or any unit shipped; picking when any
unit is packed; received otherwise. When TradeGecko refuses (422) is not documented: a refusal is
judged by the order read again, too late when it is packing or shipped, else for a person.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from integrations.connectors.canonical import (
    CHANGE_ALREADY,
    CHANGE_APPLIED,
    WH_CANCELED,
    WH_PICKING,
    WH_RECEIVED,
    WH_SHIPPED,
    ChangeResult,
    WarehouseOrder,
    WarehouseOrderLine,
    WarehouseOrderRef,
    WarehouseOrderState,
    units_by_sku,
    units_left,
)
from integrations.connectors.errors import (
    ChangeRefusedError,
    ChangeTooLateError,
    ChangeUnconfirmedError,
    ConnectorError,
)
from integrations.connectors.parsing import text
from integrations.connectors.tradegecko.wire import record, ships, wanted_ids, whole_units
from integrations.connectors.tradegecko.writes import address_body, found_order, order_notes

LABEL = "TradeGecko"
_SHIP_VIA = re.compile(r"^Ship via: (?P<code>.*?)(?: \(the cart said .*\))?$", re.MULTILINE)


def order_stage(order: dict[str, Any]) -> tuple[str, str]:
    """(WH_* state, TradeGecko's words) of an order (see the module docstring)."""
    status = text(order.get("status")).lower()
    packed, shipped = text(order.get("packed_status")).lower(), text(order.get("fulfillment_status")).lower()
    words = f"{status or 'no status'}, {packed or 'unpacked'}, {shipped or 'unshipped'}"
    if status in ("void", "deleted"):
        return WH_CANCELED, words
    if status == "fulfilled" or shipped in ("shipped", "partial"):
        return WH_SHIPPED, words
    if packed in ("packed", "partial"):
        return WH_PICKING, words
    return WH_RECEIVED, words


def ship_code_in(notes: Any) -> str:
    match = _SHIP_VIA.search(text(notes))
    return match["code"].strip() if match else ""


_ADDRESS_KEYS = (
    "first_name",
    "last_name",
    "company_name",
    "address1",
    "address2",
    "city",
    "state",
    "zip_code",
    "country",
    "phone_number",
    "email",
)


def same_address(stored: dict[str, Any], wanted: dict[str, Any]) -> bool:
    """Whether a stored address holds what `writes.address_body` would send (blank for blank)."""

    def fold(value: Any) -> str:
        return " ".join(str(value or "").split()).casefold()

    return all(fold(stored.get(key)) == fold(wanted.get(key)) for key in _ADDRESS_KEYS)


class TradeGeckoOrderChanges:
    """`order_state`, `order_cancel` and `order_update` for TradeGecko as the warehouse."""

    partial_cancel_supported = True  # by lowering or deleting order lines [doc]

    def _read(self, ref: WarehouseOrderRef) -> tuple[WarehouseOrderState, dict[str, Any], list[dict[str, Any]]]:
        order_id = ref.warehouse_order_id or self._id_of(ref.cust_ref)
        response = self.call("GET", f"/orders/{order_id}", ok_statuses=(404,))
        if response.status_code == 404:
            raise ChangeRefusedError(f"{LABEL} has no order {order_id} ({ref.cust_ref}): nothing to change there")
        order = record(response.json(), "order")
        lines = [ln for ln in self.line_items_of([order]) if ships(ln)]
        variants = self.lookup("/variants", "variants", wanted_ids(lines, "variant_id"))
        addresses = self.lookup("/addresses", "addresses", wanted_ids([order], "shipping_address_id"))
        found = found_order(order, lines, variants, addresses)
        state, words = order_stage(order)
        for line in lines:
            line["sku"] = text((variants.get(text(line.get("variant_id"))) or {}).get("sku"))
        address = addresses.get(text(order.get("shipping_address_id"))) or {}
        order["_address"] = address
        view = WarehouseOrderState(
            found.warehouse_order_id,
            found.cust_ref,
            state,
            words,
            found.ship_to,
            ship_code_in(order.get("notes")),
            found.items,
            text(order.get("updated_at")),
        )
        return view, order, lines

    def _id_of(self, cust_ref: str) -> str:
        found = self.find_order(cust_ref)
        if found is None:
            raise ChangeRefusedError(f"{LABEL} has no order {cust_ref}: nothing to change there")
        return found.warehouse_order_id

    def order_state(self, ref: WarehouseOrderRef) -> WarehouseOrderState:
        return self._read(ref)[0]

    def order_cancel(
        self, ref: WarehouseOrderRef, *, reason: str, lines: list[WarehouseOrderLine] | None = None
    ) -> ChangeResult:
        """Void the order; with `lines`, lower or delete them (leaving the order as sent, `ref.items`,
        less those units), or void it when nothing is left."""
        if lines:
            if ref.items is None:
                raise ValueError("a cancel of some lines needs the lines as sent (ref.items)")
            left = units_left(ref.items, lines)
            if left:
                return self._change(
                    ref,
                    "Cancel of some lines",
                    lambda s, o: units_by_sku(s.items) == left,
                    lambda o, ls: self._set_lines(o, ls, left),
                )
        note = f"Canceled by Orderbridge: {(reason or 'canceled at the cart').strip()[:200]}"

        def void(order: dict[str, Any], _lines: list[dict[str, Any]]) -> None:
            notes = "\n".join(p for p in (text(order.get("notes")), note) if p)
            self.call(
                "PUT", f"/orders/{order['id']}", json_body={"order": {"status": "void", "notes": notes}}, ok_statuses=()
            )

        return self._change(ref, "Cancel", lambda s, o: s.state == WH_CANCELED, void, cancel=True)

    def order_update(self, ref: WarehouseOrderRef, payload: WarehouseOrder) -> ChangeResult:
        wanted_address = address_body(payload.ship_to)
        wanted_units = units_by_sku(payload.items)

        def done(state: WarehouseOrderState, order: dict[str, Any]) -> bool:
            address_same = same_address(order.get("_address") or {}, wanted_address)
            same_code = state.ship_code.casefold() == (payload.ship_code or "").casefold()
            return (
                state.state != WH_CANCELED and address_same and same_code and units_by_sku(state.items) == wanted_units
            )

        def write(order: dict[str, Any], lines: list[dict[str, Any]]) -> None:
            changes: dict[str, Any] = {"notes": order_notes(payload)}
            if not same_address(order.get("_address") or {}, wanted_address):
                body = {"address": {**address_body(payload.ship_to), "company_id": order.get("company_id")}}
                created = record(self.call("POST", "/addresses", json_body=body).json(), "address")
                changes["shipping_address_id"] = created.get("id")
            self.call("PUT", f"/orders/{order['id']}", json_body={"order": changes})
            self._set_lines(order, lines, wanted_units)

        return self._change(ref, "Update", done, write)

    def _set_lines(self, order: dict[str, Any], lines: list[dict[str, Any]], units: dict[str, int]) -> None:
        """Make the order's product lines `units` (SKU -> quantity): lower, raise, delete, add."""
        seen: set[str] = set()
        for line in lines:
            sku = line["sku"]
            if sku in seen or units.get(sku, 0) <= 0:
                self.call("DELETE", f"/order_line_items/{text(line.get('id'))}", ok_statuses=(404,))
            elif whole_units(line.get("quantity")) != units[sku]:
                body = {"order_line_item": {"quantity": units[sku]}}
                self.call("PUT", f"/order_line_items/{text(line.get('id'))}", json_body=body)
            seen.add(sku)
        missing = [sku for sku in units if sku not in seen]
        if missing:
            variants = self.resolve_variants(missing)
            for sku in missing:
                body = {
                    "order_line_item": {"order_id": order["id"], "variant_id": variants[sku], "quantity": units[sku]}
                }
                self.call("POST", "/order_line_items", json_body=body)

    def _change(
        self,
        ref: WarehouseOrderRef,
        action: str,
        done: Callable[..., bool],
        write: Callable[..., None],
        *,
        cancel: bool = False,
    ) -> ChangeResult:
        state, order, lines = self._read(ref)
        if done(state, order):
            return ChangeResult(CHANGE_ALREADY, state, f"{action}: the order already is so at {LABEL}")
        _refuse_by_state(state, action, cancel=cancel)
        try:
            write(order, lines)
        except ConnectorError as exc:
            if exc.status != 422:
                raise
            state, order, _ = self._read(ref)
            if done(state, order):
                return ChangeResult(CHANGE_ALREADY, state, f"{action}: the order already is so at {LABEL}")
            _refuse_by_state(state, action, cancel=cancel, said=str(exc))
            raise ChangeRefusedError(
                f"{LABEL} refused the {action.lower()} of order {ref.cust_ref}: {exc}", status=422
            ) from exc
        after, order, _ = self._read(ref)
        if done(after, order):
            return ChangeResult(CHANGE_APPLIED, after, f"{action}: confirmed by reading the order back")
        raise ChangeUnconfirmedError(
            f"{action} of order {ref.cust_ref}: {LABEL} accepted it, but the order read back does not show it "
            f"({after.platform_status})"
        )


def _refuse_by_state(state: WarehouseOrderState, action: str, *, cancel: bool, said: str = "") -> None:
    reference = state.cust_ref or state.warehouse_order_id
    if state.state == WH_SHIPPED or (said and state.state == WH_PICKING):
        answer = f" ({said})" if said else ""
        raise ChangeTooLateError(
            f"Too late: {LABEL} refused the {action.lower()} of order {reference}, which is {state.platform_status}"
            f"{answer}. It may ship as it was: ask the warehouse to intercept it, or plan a return",
            state=state.state,
            platform_status=state.platform_status,
            status=422 if said else None,
        )
    if state.state == WH_CANCELED and not cancel:
        raise ChangeRefusedError(
            f"{LABEL} has voided order {reference}: the {action.lower()} was not sent; check with the warehouse "
            "whether it should ship"
        )
