"""One TradeGecko account's records and the rules that change them, without any HTTP.

The HTTP layer (``sandbox.tradegecko``) parses requests and calls these methods; the seeding helpers call the
same ones, so an order seeded by a test and one created over the API follow the same rules.

Assumptions where the docs are silent (the connector must not rely on more):
- One id sequence for every resource, so an order id used as a line id is a 404, not another record.
- ``reference_number`` is unique per company whatever the first order's status (sandbox rule: the docs only
  say it is filterable); a second one is 422 ``{"errors": {"reference_number": ["has already been taken"]}}``.
  An embedded ``company`` is a new company every time, so the rule cannot catch a retried create then:
  look the reference up (``GET /orders?reference_number=``) first. ``order_number`` is unique in the account
  and generated (``SO0001``...) when not sent.
- Creating an order needs a company (``company_id`` or an embedded ``company``), a shipping address
  (``shipping_address_id`` or an embedded ``shipping_address`` with ``address1``) and ``issued_at``, the
  parts of the docs' "required" list we enforce; the billing address defaults to the shipping one, ``status``
  to ``draft`` (docs: ``active`` or ``draft`` on create), ``stock_location_id`` to the primary location.
- Only ``product`` lines are shippable. Active and finalized orders commit stock at their location; a
  ``fulfilled`` fulfillment takes its quantities off hand there. ``fulfillment_status`` (and
  ``packed_status``) follow the shipped (packed) quantities: unshipped, partial, shipped; ``status`` stays.
- Fulfillment quantities may not exceed what no other fulfillment holds yet; only active or finalized
  orders can be fulfilled; a fulfilled fulfillment cannot go back to packed.
- Stock adjustments may take stock below zero (TradeGecko allows negative stock); quantities may not be 0.

Long because every rule that changes the account's state (orders, fulfillments, stock) stays in
one class, apart from the HTTP resources (``tradegecko_api``) and the record shapes (``tradegecko_data``).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox import tradegecko_data as data
from sandbox.tradegecko_data import invalid

_ORDER_WRITABLE = (
    "email",
    "phone_number",
    "notes",
    "reference_number",
    "status",
    "payment_status",
    "tax_type",
    "ship_at",
    "issued_at",
    "source_url",
    "tags",
    "stock_location_id",
    "shipping_address_id",
    "billing_address_id",
    "tracking_number",
)
_COMMITTING = ("active", "finalized")


class Store:
    def __init__(self, account_name: str = "Sandbox Trading Co") -> None:
        self._ids = itertools.count(1001)
        self.locations: dict[int, dict[str, Any]] = {}
        self.companies: dict[int, dict[str, Any]] = {}
        self.addresses: dict[int, dict[str, Any]] = {}
        self.variants: dict[int, dict[str, Any]] = {}
        self.orders: dict[int, dict[str, Any]] = {}
        self.lines: dict[int, dict[str, Any]] = {}
        self.fulfillments: dict[int, dict[str, Any]] = {}
        self.fulfillment_lines: dict[int, dict[str, Any]] = {}
        self.adjustments: dict[int, dict[str, Any]] = {}
        self.adjustment_lines: dict[int, dict[str, Any]] = {}
        # Variant ids whose adjustment lines are recorded but change no stock: an account that drops
        # part of a write it answered 201 for, so that only a read-back shows it.
        self.ignored_adjustments: set[int] = set()
        self.on_hand: dict[tuple[int, int], Decimal] = {}
        self._order_sequence = itertools.count(1)
        primary = self.add_location("Main Warehouse")
        self.account = data.stamped(
            {
                "id": 1,
                "name": account_name,
                "country": "US",
                "default_currency_id": 1,
                "primary_location_id": primary,
                "primary_billing_location_id": primary,
                "time_zone": "UTC",
                "tax_label": "Tax",
                "default_tax_type": "exclusive",
            }
        )
        self.user = data.stamped(
            {
                "id": 1,
                "account_id": 1,
                "first_name": "Sandbox",
                "last_name": "Owner",
                "email": "owner@example.com",
                "status": "active",
                "billing_contact": True,
            }
        )

    def new_id(self) -> int:
        return next(self._ids)

    @property
    def primary_location_id(self) -> int:
        return self.account["primary_location_id"]

    # -- simple records ------------------------------------------------------------------------------

    def add_location(self, label: str) -> int:
        location = data.build_location(self.new_id(), label)
        self.locations[location["id"]] = location
        return location["id"]

    def add_variant(self, sku: str, name: str | None, price: str) -> dict[str, Any]:
        variant = data.build_variant(self.new_id(), self.new_id(), sku, name, price)
        self.variants[variant["id"]] = variant
        return variant

    def create_company(self, fields: Any, prefix: str = "") -> dict[str, Any]:
        if not isinstance(fields, dict):
            raise invalid(f"{prefix}company", "must be an object")
        if not str(fields.get("name") or "").strip():
            raise invalid(f"{prefix}name", "can't be blank")
        if fields.get("company_type") not in (None, *data.COMPANY_TYPES):
            raise invalid(f"{prefix}company_type", "is not included in the list")
        company = data.build_company(self.new_id(), fields)
        self.companies[company["id"]] = company
        return company

    def create_address(self, company_id: int, fields: Any, prefix: str = "") -> dict[str, Any]:
        if not isinstance(fields, dict):
            raise invalid(prefix.rstrip(".") or "address", "must be an object")
        if company_id not in self.companies:
            raise invalid(f"{prefix}company_id", "can't be blank")
        if not str(fields.get("address1") or "").strip():
            raise invalid(f"{prefix}address1", "can't be blank")
        address = data.build_address(self.new_id(), company_id, fields)
        self.addresses[address["id"]] = address
        self.companies[company_id]["address_ids"].append(address["id"])
        return address

    # -- orders --------------------------------------------------------------------------------------

    def create_order(self, body: dict[str, Any], moment: datetime | None = None) -> dict[str, Any]:
        """Validate everything first, then create company, addresses, order and lines (nothing on a 422)."""
        fields = {name: body.get(name) for name in _ORDER_WRITABLE}
        company_id = self._order_company(body)
        self._check_unique_reference(company_id, body.get("reference_number"), None)
        number = body.get("order_number")
        if number is not None and any(o["order_number"] == str(number) for o in self.orders.values()):
            raise invalid("order_number", "has already been taken")
        if not body.get("issued_at"):
            raise invalid("issued_at", "can't be blank")
        try:
            fields["issued_at"] = data.day(body["issued_at"])
            fields["ship_at"] = data.day(body["ship_at"]) if body.get("ship_at") else None
        except (TypeError, ValueError) as exc:
            raise invalid("issued_at", "is not a date") from exc
        if fields["status"] not in (None, "draft", "active"):
            raise invalid("status", "must be draft or active when creating an order")
        fields["stock_location_id"] = self._location(body.get("stock_location_id"))
        lines = data.check_lines(body.get("order_line_items"), self.variants)
        shipping_id = self._order_address(body, "shipping_address", company_id, required=True)
        billing_id = self._order_address(body, "billing_address", company_id, required=False)
        if company_id is None:
            company_id = self.create_company(body["company"], "company.")["id"]
        if shipping_id is None:
            shipping_id = self.create_address(company_id, body["shipping_address"], "shipping_address.")["id"]
        if billing_id is None:
            embedded = body.get("billing_address")
            billing_id = (
                self.create_address(company_id, embedded, "billing_address.")["id"] if embedded else shipping_id
            )
        fields.update(
            company_id=company_id,
            shipping_address_id=shipping_id,
            billing_address_id=billing_id,
            order_number=str(number) if number is not None else self._next_order_number(),
            source=body.get("source"),
        )
        order = data.build_order(self.new_id(), fields, moment or data.now_utc())
        self.orders[order["id"]] = order
        for position, line in enumerate(lines):
            record = data.build_line(self.new_id(), order["id"], position, **line)
            self.lines[record["id"]] = record
            order["order_line_item_ids"].append(record["id"])
        self._refresh(order, touch=False)
        return order

    def _order_company(self, body: dict[str, Any]) -> int | None:
        company_id = data.as_id(body.get("company_id"))
        if body.get("company_id") is not None:
            if company_id not in self.companies:
                raise invalid("company_id", "is invalid")
            return company_id
        embedded = body.get("company")
        if not isinstance(embedded, dict):
            raise invalid("company_id", "can't be blank")
        if not str(embedded.get("name") or "").strip():
            raise invalid("company.name", "can't be blank")
        return None

    def _order_address(self, body: dict[str, Any], kind: str, company_id: int | None, *, required: bool) -> int | None:
        address_id = data.as_id(body.get(f"{kind}_id"))
        if body.get(f"{kind}_id") is not None:
            address = self.addresses.get(address_id) if address_id is not None else None
            if address is None or (company_id is not None and address["company_id"] != company_id):
                raise invalid(f"{kind}_id", "is invalid")
            return address_id
        embedded = body.get(kind)
        if embedded is None and not required:
            return None
        if not isinstance(embedded, dict):
            raise invalid(f"{kind}_id", "can't be blank")
        if not str(embedded.get("address1") or "").strip():
            raise invalid(f"{kind}.address1", "can't be blank")
        return None

    def _check_unique_reference(self, company_id: int | None, reference: Any, own_id: int | None) -> None:
        if reference in (None, "") or company_id is None:
            return
        for order in self.orders.values():
            if order["id"] != own_id and order["company_id"] == company_id and order["reference_number"] == reference:
                raise invalid("reference_number", "has already been taken")

    def _location(self, location_id: Any) -> int:
        if location_id is None:
            return self.primary_location_id
        found = data.as_id(location_id)
        if found is None or found not in self.locations:
            raise invalid("stock_location_id", "is invalid")
        return found

    def _next_order_number(self) -> str:
        taken = {order["order_number"] for order in self.orders.values()}
        while (number := f"SO{next(self._order_sequence):04d}") in taken:
            pass
        return number

    def update_order(self, order: dict[str, Any], changes: dict[str, Any], moment: datetime | None = None) -> None:
        """PUT semantics: writable fields change, read-only and unknown ones are ignored."""
        updates = {name: changes[name] for name in _ORDER_WRITABLE if name in changes}
        if "status" in updates and updates["status"] not in data.ORDER_STATUSES:
            raise invalid("status", "is not included in the list")
        if "reference_number" in updates:
            self._check_unique_reference(order["company_id"], updates["reference_number"], order["id"])
        if "stock_location_id" in updates:
            updates["stock_location_id"] = self._location(updates["stock_location_id"])
        for kind in ("shipping_address_id", "billing_address_id"):
            if kind in updates:
                updates[kind] = data.as_id(updates[kind])
                if updates[kind] not in self.addresses:
                    raise invalid(kind, "is invalid")
        for kind in ("issued_at", "ship_at"):
            if updates.get(kind):
                try:
                    updates[kind] = data.day(updates[kind])
                except (TypeError, ValueError) as exc:
                    raise invalid(kind, "is not a date") from exc
        order.update(updates)
        order["updated_at"] = data.timestamp(moment or data.now_utc())

    # -- fulfillments --------------------------------------------------------------------------------

    def remaining(self, order: dict[str, Any]) -> dict[int, Decimal]:
        """Per shippable line: ordered quantity not yet in any fulfillment (packed or fulfilled)."""
        left: dict[int, Decimal] = {}
        for line_id in order["order_line_item_ids"]:
            line = self.lines[line_id]
            if line["line_type"] == "product":
                left[line_id] = Decimal(line["quantity"])
        for item in self.fulfillment_lines.values():
            if item["order_line_item_id"] in left:
                left[item["order_line_item_id"]] -= Decimal(item["quantity"])
        return left

    def create_fulfillment(
        self, body: dict[str, Any], shipped_at: datetime | None = None
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        order_id = data.as_id(body.get("order_id"))
        order = self.orders.get(order_id) if order_id is not None else None
        if order is None:
            raise invalid("order_id", "can't be blank" if body.get("order_id") is None else "is invalid")
        status = body.get("status") or "packed"
        if status not in data.FULFILLMENT_RECORD_STATUSES:
            raise invalid("status", "is not included in the list")
        if order["status"] not in _COMMITTING:
            raise invalid("base", f"A {order['status']} order cannot be fulfilled")
        items = body.get("fulfillment_line_items")
        if not isinstance(items, list) or not items:
            raise invalid("fulfillment_line_items", "can't be blank")
        left = self.remaining(order)
        wanted: dict[int, Decimal] = defaultdict(Decimal)
        for item in items:
            line_id = data.as_id(item.get("order_line_item_id")) if isinstance(item, dict) else None
            if line_id is None or line_id not in left:
                raise invalid("fulfillment_line_items.order_line_item_id", "is invalid")
            quantity = data.to_decimal(item.get("quantity"))
            if quantity is None or quantity <= 0:
                raise invalid("fulfillment_line_items.quantity", "must be greater than 0")
            wanted[line_id] += quantity
        for line_id, quantity in wanted.items():
            if quantity > left[line_id]:
                raise invalid("fulfillment_line_items.quantity", "exceeds the quantity left to fulfil")
        return self._fulfillment(order, status, body, wanted, shipped_at)

    def _fulfillment(
        self,
        order: dict[str, Any],
        status: str,
        fields: dict[str, Any],
        wanted: dict[int, Decimal],
        shipped_at: datetime | None,
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        fulfillment = data.build_fulfillment(self.new_id(), order, "packed", fields)
        self.fulfillments[fulfillment["id"]] = fulfillment
        items = []
        for line_id, quantity in wanted.items():
            item = {
                "id": self.new_id(),
                "fulfillment_id": fulfillment["id"],
                "order_line_item_id": line_id,
                "quantity": data.decimal_str(quantity),
                "base_price": self.lines[line_id]["price"],
                "position": len(items),
            }
            self.fulfillment_lines[item["id"]] = data.stamped(item)
            fulfillment["fulfillment_line_item_ids"].append(item["id"])
            self.lines[line_id]["fulfillment_line_item_ids"].append(item["id"])
            items.append(item)
        order["fulfillment_ids"].append(fulfillment["id"])
        if status == "fulfilled":
            self._ship(fulfillment, fields.get("shipped_at"), shipped_at)
        self._refresh(order)
        return fulfillment, items

    def update_fulfillment(self, fulfillment: dict[str, Any], changes: dict[str, Any]) -> None:
        status = changes.get("status", fulfillment["status"])
        if status not in data.FULFILLMENT_RECORD_STATUSES:
            raise invalid("status", "is not included in the list")
        if fulfillment["status"] == "fulfilled" and status == "packed":
            raise invalid("status", "cannot go back to packed once fulfilled")
        fulfillment.update({name: changes[name] for name in data.TRACKING_FIELDS if name in changes})
        if status == "fulfilled" and fulfillment["status"] == "packed":
            self._ship(fulfillment, changes.get("shipped_at"), None)
        fulfillment["updated_at"] = data.timestamp(data.now_utc())
        self._refresh(self.orders[fulfillment["order_id"]])

    def fulfil_order(self, order: dict[str, Any], fields: dict[str, Any]) -> None:
        """``actions/fulfil``: ship packed fulfillments and everything no fulfillment holds yet."""
        if order["status"] not in _COMMITTING:
            raise invalid("base", f"A {order['status']} order cannot be fulfilled")
        left = {line_id: quantity for line_id, quantity in self.remaining(order).items() if quantity > 0}
        packed = [self.fulfillments[i] for i in order["fulfillment_ids"] if self.fulfillments[i]["status"] == "packed"]
        if not left and not packed:
            raise invalid("base", "Order has nothing left to fulfil")
        for fulfillment in packed:
            self.update_fulfillment(fulfillment, {"status": "fulfilled", **fields})
        if left:
            self._fulfillment(order, "fulfilled", fields, left, None)

    def _ship(self, fulfillment: dict[str, Any], sent: Any, shipped_at: datetime | None) -> None:
        """Mark shipped at ``shipped_at`` (seeding), else the request's ``shipped_at``, else now; stock leaves."""
        when = shipped_at or (data.parse_time(sent) if isinstance(sent, str) else None)
        fulfillment["status"] = "fulfilled"
        fulfillment["shipped_at"] = data.timestamp(when or data.now_utc())
        location = fulfillment["stock_location_id"]
        for item_id in fulfillment["fulfillment_line_item_ids"]:
            item = self.fulfillment_lines[item_id]
            variant_id = self.lines[item["order_line_item_id"]]["variant_id"]
            key = (variant_id, location)
            self.on_hand[key] = self.on_hand.get(key, Decimal(0)) - Decimal(item["quantity"])

    def _refresh(self, order: dict[str, Any], *, touch: bool = True) -> None:
        ordered = shipped = packed = Decimal(0)
        total = Decimal(0)
        for line_id in order["order_line_item_ids"]:
            line = self.lines[line_id]
            total += Decimal(line["quantity"]) * Decimal(line["price"]) - Decimal(line["discount"] or 0)
            if line["line_type"] != "product":
                continue
            ordered += Decimal(line["quantity"])
            for item_id in line["fulfillment_line_item_ids"]:
                item = self.fulfillment_lines[item_id]
                packed += Decimal(item["quantity"])
                if self.fulfillments[item["fulfillment_id"]]["status"] == "fulfilled":
                    shipped += Decimal(item["quantity"])
        order["fulfillment_status"] = _progress(shipped, ordered, ("unshipped", "partial", "shipped"))
        order["packed_status"] = _progress(packed, ordered, ("unpacked", "partial", "packed"))
        order["total"] = data.decimal_str(total)
        if touch:
            order["updated_at"] = data.timestamp(data.now_utc())

    # -- stock ---------------------------------------------------------------------------------------

    def committed(self) -> dict[tuple[int, int], Decimal]:
        held: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
        for order in self.orders.values():
            if order["status"] not in _COMMITTING:
                continue
            for line_id, quantity in self.unshipped(order).items():
                held[(self.lines[line_id]["variant_id"], order["stock_location_id"])] += quantity
        return held

    def unshipped(self, order: dict[str, Any]) -> dict[int, Decimal]:
        left = {
            line_id: Decimal(self.lines[line_id]["quantity"])
            for line_id in order["order_line_item_ids"]
            if self.lines[line_id]["line_type"] == "product"
        }
        for fulfillment_id in order["fulfillment_ids"]:
            fulfillment = self.fulfillments[fulfillment_id]
            if fulfillment["status"] == "fulfilled":
                for item_id in fulfillment["fulfillment_line_item_ids"]:
                    item = self.fulfillment_lines[item_id]
                    left[item["order_line_item_id"]] -= Decimal(item["quantity"])
        return left

    def variant_views(self) -> list[dict[str, Any]]:
        held = self.committed()
        return [
            data.variant_view(variant, list(self.locations), self.on_hand, held) for variant in self.variants.values()
        ]

    def adjust_stock(self, body: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        if body.get("stock_location_id") is None:
            raise invalid("stock_location_id", "can't be blank")
        location_id = self._location(body["stock_location_id"])
        items = body.get("stock_adjustment_line_items")
        if not isinstance(items, list) or not items:
            raise invalid("stock_adjustment_line_items", "can't be blank")
        deltas = []
        for item in items:
            variant_id = data.as_id(item.get("variant_id")) if isinstance(item, dict) else None
            if variant_id is None or variant_id not in self.variants:
                raise invalid("stock_adjustment_line_items.variant_id", "is invalid")
            quantity = data.to_decimal(item.get("quantity"))
            if quantity is None or quantity == 0:
                raise invalid("stock_adjustment_line_items.quantity", "must be a number other than 0")
            deltas.append((variant_id, quantity, data.to_decimal(item.get("price"))))
        adjustment = data.stamped(
            {
                "id": self.new_id(),
                "adjustment_number": body.get("adjustment_number") or f"SA{len(self.adjustments) + 1:04d}",
                "stock_location_id": location_id,
                "reason": body.get("reason"),
                "notes": body.get("notes"),
                "stock_adjustment_line_item_ids": [],
            }
        )
        lines = []
        for position, (variant_id, quantity, price) in enumerate(deltas):
            line = data.stamped(
                {
                    "id": self.new_id(),
                    "stock_adjustment_id": adjustment["id"],
                    "variant_id": variant_id,
                    "quantity": data.decimal_str(quantity),
                    "position": position,
                    "price": data.decimal_str(price) if price is not None else None,
                }
            )
            applied = Decimal(0) if variant_id in self.ignored_adjustments else quantity
            self.on_hand[(variant_id, location_id)] = self.on_hand.get((variant_id, location_id), Decimal(0)) + applied
            self.adjustment_lines[line["id"]] = line
            adjustment["stock_adjustment_line_item_ids"].append(line["id"])
            lines.append(line)
        self.adjustments[adjustment["id"]] = adjustment
        return adjustment, lines


def _progress(done: Decimal, total: Decimal, names: tuple[str, str, str]) -> str:
    if total <= 0 or done <= 0:
        return names[0]
    return names[2] if done >= total else names[1]
