"""The cart changing orders during a chaos run, and what each side ends up holding (sandbox side, no Django).

``ChangeDriver`` makes the scenario's ``CartChange``s at the Squarespace sandbox, each at its moment:
before delivery (the run's start plus its delay), once the Bergen sandbox holds the order (plus its
delay), once the warehouse has started picking it (the driver advances the order to "picking" itself,
then waits its delay), or after the warehouse shipped everything (``shipped=True``). The harness calls
``step`` on every poll, from the sandbox process's one thread.

``order_sides`` reads, for every order of the scenario, what the cart holds last (canceled or not, its
ship-to, lines and shipping method) and what the warehouse holds (absent, open, canceled or shipped,
with its ship-to, lines and routing): the figures about changes are judged on these two stores, not on
our database.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from sandbox.bergen import BergenSandbox
from sandbox.bergen_data import STATUS_CANCELED
from sandbox.chaos.scenario import AT_WAREHOUSE, BEFORE_DELIVERY, CANCEL, PICKING, SHIP_CODES, SHIPPED, CartChange
from sandbox.squarespace import SquarespaceSandbox

NEW_STREET = "99 Changed Street"


class ChangeDriver:
    """Makes ``changes`` at the cart at their moments; ``made`` maps an order number to the cart's
    ``modifiedOn`` after its change (the version our import must reach)."""

    def __init__(self, cart: SquarespaceSandbox, warehouse: BergenSandbox, changes: list[CartChange]) -> None:
        self.cart = cart
        self.warehouse = warehouse
        self.changes = changes
        self.started = time.monotonic()
        self.due: dict[str, float] = {}
        self.made: dict[str, str] = {}

    def step(self, *, shipped: bool) -> dict[str, Any]:
        """Make the changes that are due now; say how many are left before and after shipping."""
        now = time.monotonic()
        for change in self.changes:
            if change.number in self.made:
                continue
            if change.number not in self.due and self._moment_came(change, shipped):
                self.due[change.number] = now + change.delay
            if self.due.get(change.number, float("inf")) <= now:
                self.made[change.number] = self._make(change)
        left = [c for c in self.changes if c.number not in self.made]
        return {
            "left_before_shipping": sum(1 for c in left if c.moment != SHIPPED),
            "left": len(left),
            "made": dict(self.made),
        }

    def _moment_came(self, change: CartChange, shipped: bool) -> bool:
        if change.moment == BEFORE_DELIVERY:
            return True
        if change.moment == SHIPPED:
            return shipped
        record = warehouse_record(self.warehouse, change.number)
        if record is None or record["readOnly"]["isClosed"]:
            return False
        if change.moment == PICKING and not record["readOnly"].get("pickStarted"):
            self.warehouse.advance(record["referenceNum"], "picking")
        return change.moment in (AT_WAREHOUSE, PICKING)

    def _make(self, change: CartChange) -> str:
        order_id = cart_order_id(self.cart, change.number)
        with self.cart.lock:
            order = copy.deepcopy(self.cart.orders[order_id])
        if change.kind == CANCEL:
            fields: dict[str, Any] = {"fulfillmentStatus": "CANCELED"}
        elif change.edit == "address":
            fields = {"shippingAddress": {**order["shippingAddress"], "address1": NEW_STREET}}
        elif change.edit == "quantity":
            lines = order["lineItems"]
            lines[0]["quantity"] += 1
            fields = {"lineItems": lines}
        else:
            shipping = order["shippingLines"]
            other = [method for method in SHIP_CODES if method != shipping[0]["method"]]
            shipping[0]["method"] = other[0]
            fields = {"shippingLines": shipping}
        return self.cart.update_order(order_id, **fields)["modifiedOn"]


def cart_order_id(cart: SquarespaceSandbox, number: str) -> str:
    with cart.lock:
        return next(order_id for order_id, order in cart.orders.items() if order["orderNumber"] == number)


def warehouse_record(warehouse: BergenSandbox, number: str) -> dict[str, Any] | None:
    """The first order the warehouse stored for the cart's order ``number`` (its ``poNum``)."""
    with warehouse.lock:
        return next((o for o in warehouse.orders if o.get("poNum") == number), None)


def _lines(pairs: list[tuple[str, Any]]) -> dict[str, int]:
    units: dict[str, int] = {}
    for sku, quantity in pairs:
        units[sku] = units.get(sku, 0) + int(quantity)
    return units


def order_sides(cart: SquarespaceSandbox, warehouse: BergenSandbox, shipped: set[str]) -> dict[str, dict]:
    """Per cart order number: the cart's last version and the warehouse's order (``shipped``: the
    references the warehouse shipped). ``same`` is whether the warehouse holds the cart's version."""
    with cart.lock:
        versions = copy.deepcopy(list(cart.orders.values()))
    sides = {}
    for order in versions:
        address = order["shippingAddress"] or {}
        methods = order["shippingLines"] or [{}]
        at_cart = {
            "address": [address.get("address1"), address.get("city")],
            "lines": _lines([(li["sku"], li["quantity"]) for li in order["lineItems"]]),
            "ship_code": SHIP_CODES.get(methods[0].get("method") or "", ""),
        }
        record = warehouse_record(warehouse, order["orderNumber"])
        side = {"canceled_at_cart": order["fulfillmentStatus"] == "CANCELED", "warehouse": "absent", "same": False}
        if record is not None:
            read_only, routing = record["readOnly"], record.get("routingInfo") or {}
            at_warehouse = {
                "address": [record["shipTo"].get("address1"), record["shipTo"].get("city")],
                "lines": _lines([(i["itemIdentifier"]["sku"], i["qty"]) for i in record.get("orderItems") or []]),
                "ship_code": f"{routing.get('carrier')}:{routing.get('mode')}",
            }
            if record["referenceNum"] in shipped:
                side["warehouse"] = "shipped"
            elif read_only["status"] == STATUS_CANCELED:
                side["warehouse"] = "canceled"
            else:
                side["warehouse"] = "open"
            side["same"] = at_warehouse == at_cart
        sides[order["orderNumber"]] = side
    return sides
