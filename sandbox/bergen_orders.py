"""The Bergen sandbox's orders after they are created: checks of an order's body, its life at the
warehouse (received → picking → shipped, or canceled) and the two writes that change it.

Written from the Extensiv 3PL Warehouse Manager REST API's rel pages (``rels/orders/order``,
``rels/orders/ordercancel``, ``Rels/headers``, ``Rels/exceptions``), independently of the connector:
- ``POST /orders/{id}/canceler`` "cancels an open order": body ``{"reason" (required), "charge"?}``,
  ``If-Match`` with the order's ETag required, answers 204.
- ``PUT /orders/{id}`` "updates an unconfirmed order": ``If-Match`` required, answers 200 with the
  order and its new ETag.
- Without ``If-Match`` a write is 428 (``PreconditionRequired``); with another ETag than the order's,
  412 (``PreconditionFailed``). Refusals of the operation are 403 ``OperationException`` bodies
  ``{"$type", "ActionNameType", "ActionName", "ErrorCode", "Hint"}``: ``OrderConfirmed`` once the order is
  closed (shipped), ``OrderCanceled`` once it is canceled (both documented codes).

Modelled where the public material is silent (the connector must tolerate otherwise):
- Picking: ``readOnly.pickStarted``/``pickDoneDate``/``packStarted``/``packDoneDate`` (documented
  fields) move with ``advance``. Extensiv's help centre says that once an order is in a pick batch a
  cancel is "usually no longer possible"; the sandbox refuses a cancel or an update of an order whose
  pick has started with 403 ``InUse`` (a documented code; which one a real warehouse answers is a guess).
  ``changes_after_pick = True`` models a warehouse that still takes them until the order is confirmed,
  as the rel pages read literally.
- An update replaces what it names among ``poNum``, ``shipTo``, ``routingInfo``, ``notes`` and
  ``orderItems`` (lines replaced as a whole, by SKU, and allocated again); other fields are ignored.
- A cancel or an update releases the order's allocation by its ordered quantities (as shipping does).
"""

from __future__ import annotations

import copy
from typing import Any

from sandbox import bergen_data as data
from sandbox.server import RecordedRequest, Response, Route, json_response, route

_HAL = "application/hal+json; charset=utf-8"
_OPERATION_EXCEPTION = "WMS.V2.Generic.Models.Exceptions.OperationException, WMS.V2.Generic.Models"
_UPDATABLE = ("poNum", "shipTo", "routingInfo", "notes", "orderItems")
STAGES = ("picking", "picked", "packing", "packed")


class OrderLifecycle:
    """Mixed into ``BergenSandbox``: payload checks shared by create and update, the order's stages,
    and the canceler and update endpoints."""

    # False: a warehouse that refuses changes once the pick started (see the module docstring).
    changes_after_pick = False

    # -- payload checks (create and update) --------------------------------------------------------

    def _missing(self, field: str) -> Response:
        return self.error_response(400, f"{field} is required.", code="MissingRequiredField", field=field)

    def _check_ship_to(self, ship_to: Any) -> Response | None:
        problem = data.ship_to_problem(ship_to)
        if problem is None:
            return None
        message, code, field = problem
        return self.error_response(400, message, code=code, field=field)

    def _check_items(self, lines: Any, customer_id: int) -> tuple[list[tuple[str, float]], Response | None]:
        if not isinstance(lines, list) or not lines:
            return [], self._missing("orderItems")
        items = []
        for index, line in enumerate(lines):
            ident = line.get("itemIdentifier") if isinstance(line, dict) else None
            sku = ident.get("sku") if isinstance(ident, dict) else None
            if not isinstance(sku, str) or not sku:
                return [], self._missing(f"orderItems[{index}].itemIdentifier.sku")
            if (customer_id, sku) not in self._item_ids:
                return [], self.error_response(
                    400, f"Item SKU '{sku}' does not exist for this customer.", code="ItemNotFound", sku=sku
                )
            qty = line.get("qty")
            if isinstance(qty, bool) or not isinstance(qty, int | float) or qty <= 0:
                return [], self.error_response(
                    400, f"orderItems[{index}].qty must be greater than 0.", code="InvalidValue", sku=sku
                )
            items.append((sku, qty))
        return items, None

    # -- the order's life (seeding and chaos hooks) ------------------------------------------------

    def advance(self, reference_num: str, stage: str, *, customer: str | None = None) -> dict[str, Any]:
        """Move an open order on at the warehouse: "picking" (pick started), "picked", "packing",
        "packed"; each stage includes the ones before. Shipping is ``ship_order``."""
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}")
        with self.lock:
            order = self.order(reference_num, customer)
            read_only = order["readOnly"]
            if read_only["status"] != data.STATUS_OPEN:
                raise ValueError(f"order {reference_num} is not open")
            now = data.wms_time(zone=self.zone)
            read_only["pickStarted"] = True
            if stage in ("picked", "packing", "packed"):
                read_only["pickDoneDate"] = read_only.get("pickDoneDate") or now
            if stage in ("packing", "packed"):
                read_only["packStarted"] = True
            if stage == "packed":
                read_only["packDoneDate"] = read_only.get("packDoneDate") or now
            self._touch(order, now)
            return order

    def cancel_order(self, reference_num: str, *, customer: str | None = None) -> None:
        """The warehouse cancels the order itself (no request)."""
        with self.lock:
            order = self.order(reference_num, customer)
            self._cancel(order, "Canceled at the warehouse")

    def _cancel(self, order: dict[str, Any], reason: str) -> None:
        now = data.wms_time(zone=self.zone)
        order["readOnly"].update(status=data.STATUS_CANCELED, isClosed=True, cancelReason=reason)
        self._release(order)
        self._touch(order, now)

    def _touch(self, order: dict[str, Any], now: str) -> None:
        order["readOnly"]["lastModifiedDate"] = now
        self._versions[order["readOnly"]["orderId"]] += 1

    def _release(self, order: dict[str, Any]) -> None:
        customer_id, facility_id = (
            order["readOnly"]["customerIdentifier"]["id"],
            order["readOnly"]["facilityIdentifier"]["id"],
        )
        for item in order.get("orderItems") or []:
            level = self._level(customer_id, facility_id, item["itemIdentifier"]["sku"])
            if level is not None:
                level.allocated = max(0, level.allocated - int(item["qty"]))
        self._stock_changed()

    # -- the endpoints -----------------------------------------------------------------------------

    def change_routes(self) -> list[Route]:
        return [
            route("POST", r"(?i)/orders/(?P<order_id>\d+)/canceler", self._canceler),
            route("PUT", r"(?i)/orders/(?P<order_id>\d+)", self._update_order),
        ]

    def _writable(self, request: RecordedRequest, match: Any, action: str) -> tuple[dict, Response | None]:
        """The order a write names, once its ``If-Match`` and its state allow the write."""
        order_id = int(match["order_id"])
        if not 1 <= order_id <= len(self.orders):
            return {}, self.error_response(404, f"Order {order_id} was not found.", code="NotFound")
        given = (request.header("If-Match") or "").strip()
        if not given:
            return {}, self.error_response(428, "If-Match is required when updating a resource.")
        if given.removeprefix("W/") != self._etag(order_id):
            return {}, self.error_response(412, f"Order {order_id} was changed since that ETag was read.")
        order = self.orders[order_id - 1]
        refusal = self._refusal(order, action)
        return order, refusal

    def _refusal(self, order: dict[str, Any], action: str) -> Response | None:
        read_only, order_id = order["readOnly"], order["readOnly"]["orderId"]
        if read_only["status"] == data.STATUS_CANCELED:
            code, hint = "OrderCanceled", f"Order {order_id} is canceled."
        elif read_only["status"] != data.STATUS_OPEN or read_only["isClosed"]:
            code, hint = "OrderConfirmed", f"Order {order_id} is confirmed (shipped) and closed."
        elif read_only.get("pickStarted") and not self.changes_after_pick:
            code, hint = "InUse", f"Order {order_id} is being picked: it can no longer be changed or canceled."
        else:
            return None
        payload = {
            "$type": _OPERATION_EXCEPTION,
            "ActionNameType": "Order",
            "ActionName": action,
            "ErrorCode": code,
            "Hint": hint,
        }
        return json_response(403, payload)

    def _canceler(self, request: RecordedRequest, match: Any) -> Response:
        with self.lock:
            order, error = self._writable(request, match, "Cancel")
            if error is not None:
                return error
            body = request.json if isinstance(request.json, dict) else {}
            reason = body.get("reason")
            if not isinstance(reason, str) or not reason.strip():
                return self.error_response(400, "Reason is required.", code="Required", Reason=None)
            self._cancel(order, reason)
            return Response(204)

    def _update_order(self, request: RecordedRequest, match: Any) -> Response:
        with self.lock:
            order, error = self._writable(request, match, "Update")
            if error is not None:
                return error
            body = request.json
            if not isinstance(body, dict):
                return self.error_response(400, "The body must be a JSON order object.", code="InvalidValue")
            error = self._check_update(order, body)
            if error is not None:
                return error
            changes = {name: copy.deepcopy(body[name]) for name in _UPDATABLE if name in body}
            if "orderItems" in changes:
                self._replace_items(order, changes.pop("orderItems"))
            order.update(changes)
            self._touch(order, data.wms_time(zone=self.zone))
            order_id = order["readOnly"]["orderId"]
            view = data.order_view(order, "OrderItems")
            return json_response(200, view, content_type=_HAL, headers={"ETag": self._etag(order_id)})

    def _check_update(self, order: dict[str, Any], body: dict[str, Any]) -> Response | None:
        if "shipTo" in body:
            error = self._check_ship_to(body["shipTo"])
            if error is not None:
                return error
        if "orderItems" in body:
            _, error = self._check_items(body["orderItems"], order["readOnly"]["customerIdentifier"]["id"])
            if error is not None:
                return error
        reference = body.get("referenceNum")
        if reference is not None and reference != order["referenceNum"]:
            return self.error_response(400, "referenceNum cannot be changed.", code="InvalidValue")
        return None

    def _replace_items(self, order: dict[str, Any], lines: list[dict[str, Any]]) -> None:
        read_only = order["readOnly"]
        customer_id, facility_id = read_only["customerIdentifier"]["id"], read_only["facilityIdentifier"]["id"]
        self._release(order)
        items = [(line["itemIdentifier"]["sku"], line["qty"]) for line in lines]
        fully = self._allocate(customer_id, facility_id, items)
        built = []
        for line in lines:
            sku = line["itemIdentifier"]["sku"]
            item_id = self._next_order_item_id
            self._next_order_item_id += 1
            built.append(
                {
                    **copy.deepcopy(line),
                    "itemIdentifier": {"id": self._item_ids[(customer_id, sku)], "sku": sku},
                    "readOnly": {"orderItemId": item_id, "fullyAllocated": fully},
                }
            )
        order["orderItems"] = built
        read_only["fullyAllocated"] = fully
