"""Changes to a TradeGecko order after it was created: its status (``void``), its shipping address and its
lines, and how far the order has got at the warehouse.

Documented (developer.tradegecko.com, archived): ``PUT /orders/{id}`` updates an order (204); an order's
``status`` is draft, active, finalized, fulfilled or void (``deleted`` also shows in recorded answers);
``packed_status`` and ``fulfillment_status`` are read-only; ``POST /order_line_items`` (201),
``PUT /order_line_items/{id}`` and ``DELETE /order_line_items/{id}`` (204) change the lines.

Modelled (the docs say nothing of when TradeGecko refuses): once an order has a fulfillment (packed or
shipped), or is fulfilled, void or deleted, it can no longer be voided, moved to another shipping
address or have its lines changed: 422 ``{"errors": {"<field>": ["..."]}}``. Voiding an order releases
its committed stock (only active and finalized orders commit it).
"""

from __future__ import annotations

import re
from typing import Any

from sandbox import tradegecko_data as data
from sandbox.server import RecordedRequest, Response, Route, json_response, route
from sandbox.tradegecko_data import invalid

_GUARDED_FIELDS = ("status", "shipping_address_id")
_FINAL = ("fulfilled", "void", "deleted")


def locked_because(store: Any, order: dict[str, Any]) -> str:
    """Why the order can no longer be changed at the warehouse, or "" while it can."""
    if order["status"] in _FINAL:
        return f"the order is {order['status']}"
    if any(line["fulfillment_line_item_ids"] for line in _product_lines(store, order)):
        return f"the order has been {'shipped' if order['fulfillment_status'] != 'unshipped' else 'packed'}"
    return ""


def _product_lines(store: Any, order: dict[str, Any]) -> list[dict[str, Any]]:
    return [store.lines[i] for i in order["order_line_item_ids"] if store.lines[i]["line_type"] == "product"]


def check_order_change(store: Any, order: dict[str, Any], changes: dict[str, Any]) -> None:
    """Refuse (422) a void or a new shipping address on an order that is too far on."""
    for field in _GUARDED_FIELDS:
        if field in changes and changes[field] != order.get(field):
            reason = locked_because(store, order)
            if reason:
                raise invalid(field, f"cannot be changed: {reason}")


def advance(store: Any, order: dict[str, Any], stage: str) -> None:
    """ "picking": the warehouse packs what is left to ship (a ``packed`` fulfillment)."""
    if stage != "picking":
        raise ValueError('stage must be "picking" (shipping is ``fulfil``)')
    left = store.remaining(order)
    items = [{"order_line_item_id": line_id, "quantity": str(qty)} for line_id, qty in left.items() if qty > 0]
    if not items:
        raise ValueError(f"order {order['id']} has nothing left to pack")
    store.create_fulfillment({"order_id": order["id"], "status": "packed", "fulfillment_line_items": items})


class LineApi:
    """``/order_line_items`` writes; ``wrap`` turns the store's exceptions into answers."""

    def __init__(self, store: Any, not_found: type[Exception]) -> None:
        self.store = store
        self.not_found = not_found

    def routes(self, wrap: Any) -> list[Route]:
        return [
            route("POST", r"/order_line_items/?", wrap(self._create)),
            route("PUT", r"/order_line_items/(?P<id>\d+)/?", wrap(self._update)),
            route("DELETE", r"/order_line_items/(?P<id>\d+)/?", wrap(self._delete)),
        ]

    def _line(self, match: re.Match[str]) -> tuple[dict[str, Any], dict[str, Any]]:
        line = self.store.lines.get(int(match["id"]))
        if line is None:
            raise self.not_found(f"Couldn't find OrderLineItem with 'id'={match['id']}")
        return line, self.store.orders[line["order_id"]]

    def _unlocked(self, order: dict[str, Any], field: str) -> None:
        reason = locked_because(self.store, order)
        if reason:
            raise invalid(field, f"cannot be changed: {reason}")

    def _create(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        body = request.json.get("order_line_item") if isinstance(request.json, dict) else None
        if not isinstance(body, dict):
            raise invalid("order_line_item", "can't be blank")
        order = self.store.orders.get(data.as_id(body.get("order_id")))
        if order is None:
            raise invalid("order_id", "is invalid")
        self._unlocked(order, "order_id")
        (checked,) = data.check_lines([body], self.store.variants)
        record = data.build_line(self.store.new_id(), order["id"], len(order["order_line_item_ids"]), **checked)
        self.store.lines[record["id"]] = record
        order["order_line_item_ids"].append(record["id"])
        self.store._refresh(order)
        return json_response(201, {"order_line_item": data.public_copy(record)})

    def _update(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        line, order = self._line(match)
        body = request.json.get("order_line_item") if isinstance(request.json, dict) else None
        if not isinstance(body, dict):
            raise invalid("order_line_item", "can't be blank")
        changes: dict[str, Any] = {}
        for name in ("quantity", "price"):
            if name in body:
                value = data.to_decimal(body[name])
                if value is None or (name == "quantity" and value <= 0):
                    raise invalid(name, "must be greater than 0")
                changes[name] = data.decimal_str(value)
        if "label" in body:
            changes["label"] = body["label"]
        if changes:
            self._unlocked(order, "quantity")
            line.update(changes)
            self.store._refresh(order)
        return Response(204)

    def _delete(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        line, order = self._line(match)
        self._unlocked(order, "base")
        order["order_line_item_ids"].remove(line["id"])
        del self.store.lines[line["id"]]
        self.store._refresh(order)
        return Response(204)
