"""TradeGecko (renamed QuickBooks Commerce: one connector, two names) as a cart and as a warehouse.

The public API has been retired, so this connector is tested against the sandbox only. The session
(OAuth, refresh, paging, batches, rate limit) is `api.TradeGeckoApi`, shared by both roles; the
payloads are pure functions in `wire` (read), `writes` (written) and `stock` (variants as stock).

As a cart: orders are listed by update time (`GET /orders`), the first import asking for open ones
only (`status=active` and `finalized`, `fulfillment_status=unshipped`) and later runs for every status
so that cancellations are seen; the optional Required Location ID adds `stock_location_id`. Each page's
lines, variants (for the SKUs) and addresses are fetched in batches. Tracking goes back as fulfillments,
created and then given their tracking, for part of an order and the whole of it alike (see `writes`);
stock as stock adjustments by difference, at the Required Location ID or, when none is set, the
account's primary location (levels are then compared with the stock of all locations).

As a warehouse: orders are created at the connection's stock location with the customer and shipping
address embedded and lines by variant (each warehouse SKU resolved once per connector with
`GET /variants?sku[]=…`); shipments are the fulfillments updated in the window whose order is one of
ours (it has a reference number and is at our location); stock is read from the variants' locations.

Long because both roles live in this one module: they are one platform's two faces over one
session (`api.TradeGeckoApi`) and its rules. What the cart role writes as a fulfillment is what
the warehouse role reads back as a shipment, and each class has its QuickBooks Commerce twin here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from integrations.connectors.answers import status_phrase, summary
from integrations.connectors.base import CartConnector, ConfigField, WarehouseConnector
from integrations.connectors.canonical import (
    CartInventoryItem,
    CartShipment,
    InventoryPushResult,
    InventoryUpdate,
    OrderPage,
    Shipment,
    StockLevel,
    WarehouseOrder,
    WarehouseOrderRef,
)
from integrations.connectors.errors import BadPayloadError, DuplicateReferenceError, OrderRejectedError, PermanentError
from integrations.connectors.parsing import format_datetime, text
from integrations.connectors.tradegecko.api import ID_BATCH, TradeGeckoApi, chunks
from integrations.connectors.tradegecko.changes import TradeGeckoOrderChanges
from integrations.connectors.tradegecko.fulfillments import (
    fulfillment_create_body,
    fulfillment_line_items,
    fulfillment_to_write,
    fulfillment_update_body,
    parse_fulfillment,
    tracking_numbers_of,
)
from integrations.connectors.tradegecko.limits import SHIP_TO_LIMITS
from integrations.connectors.tradegecko.stock import (
    inventory_item,
    levels_shown,
    live,
    location_available,
    stock_adjustment_body,
    stock_deltas,
    tracks_stock,
    variant_on_hand,
)
from integrations.connectors.tradegecko.subscriptions import TradeGeckoWebhooks
from integrations.connectors.tradegecko.wire import describe_errors, error_fields, parse_order_page, record, wanted_ids
from integrations.connectors.tradegecko.writes import (
    classify_order_refusal,
    found_order,
    match_skus,
    po_number_in_notes,
)
from integrations.connectors.tradegecko.writes import format_order as order_body
from integrations.connectors.tradegecko.writes import idempotency_key as derive_key
from integrations.http import parse_json

OPEN_STATUSES = ("active", "finalized")
STOCK_CHUNK = 500


def _refusal(response: Any) -> str:
    """The refusal's field errors as a message may quote them, else the status's standard phrase."""
    try:
        body = response.json()
    except ValueError:
        body = None
    return summary(describe_errors(error_fields(body))) or status_phrase(response.status_code)


class TradeGeckoCart(TradeGeckoWebhooks, TradeGeckoApi, CartConnector):
    """Orders from TradeGecko; tracking and stock levels back to it."""

    key = "tradegecko"
    label = "TradeGecko"
    setting_fields = (
        ConfigField(
            name="required_location_id",
            label="Required Location ID",
            help_text=(
                "Optional: import only the orders meant for this stock location. To find the ID, edit a product "
                "variant stocked there, open its Stock Locations tab and click the location: the ID is the "
                "number in the browser's address bar. Stock levels are then set at this location."
            ),
            required=False,
        ),
    )
    location_setting = "required_location_id"
    accepts_multiple_shipments = True
    shipment_lines_supported = True
    inventory_batch_size = 100
    default_carrier_names = {
        "UPS": "UPS",
        "FDX": "FedEx",
        "FEDEX": "FedEx",
        "FXG": "FedEx",
        "USPS": "USPS",
        "DHL": "DHL",
        "DHLEXPRESS": "DHL Express",
        "ONTRAC": "OnTrac",
        "CANADAPOST": "Canada Post",
        "PUROLATOR": "Purolator",
        "ROYALMAIL": "Royal Mail",
        "AUSPOST": "Australia Post",
        "LASERSHIP": "LaserShip",
    }

    @property
    def required_location(self) -> str:
        return text(self.settings.get("required_location_id"))

    # --- orders in ---

    def iter_order_pages(
        self, *, modified_after: datetime, modified_before: datetime, open_only: bool
    ) -> Iterator[OrderPage]:
        base: dict[str, Any] = {
            "updated_at_min": format_datetime(modified_after),
            "updated_at_max": format_datetime(modified_before, round_up=True),
        }
        if self.required_location:
            base["stock_location_id"] = self.required_location
        listings = (
            [{**base, "status": status, "fulfillment_status": "unshipped"} for status in OPEN_STATUSES]
            if open_only
            else [base]
        )
        for params in listings:
            for orders in self.pages("/orders", "orders", params):
                yield self._order_page(orders)

    def _order_page(self, orders: list[dict[str, Any]]) -> OrderPage:
        """One page of orders with what they point at, fetched in batches (3 to 5 calls a page)."""
        if not orders:
            return OrderPage()
        lines = self.line_items_of(orders)
        variants = self.lookup("/variants", "variants", wanted_ids(lines, "variant_id"))
        address_ids = wanted_ids(orders, "shipping_address_id", "billing_address_id")
        addresses = self.lookup("/addresses", "addresses", address_ids)
        parsed, rejected = parse_order_page(
            orders, lines, variants, addresses, required_location_id=self.required_location
        )
        return OrderPage(orders=parsed, rejected=rejected)

    # --- tracking back ---

    def _fulfillments(self, cart_order_id: str) -> list[dict[str, Any]]:
        return self.every("/fulfillments", "fulfillments", {"order_id": cart_order_id})

    def existing_tracking_numbers(self, cart_order_id: str, *, ordered_at: datetime | None = None) -> set[str]:
        """The numbers the order's live fulfillments hold (`GET /fulfillments?order_id=`): asked before
        a push, and after it to see that TradeGecko shows what was sent."""
        return tracking_numbers_of(self._fulfillments(cart_order_id))

    def push_shipment(self, cart_order_id: str, shipment: CartShipment, *, notify_customer: bool) -> None:
        """A fulfillment of the parcel's lines (the rest of the order, for a complete parcel), then its
        tracking (see `writes`)."""
        order = self.get_record(f"/orders/{quote(cart_order_id, safe='')}", "order", f"order {cart_order_id}")
        if text(order.get("status")).lower() in ("void", "deleted"):
            raise PermanentError(
                f"TradeGecko order {text(order.get('order_number')) or cart_order_id} is {text(order.get('status'))}: "
                f"tracking {', '.join(shipment.tracking_numbers)} was not added"
            )
        fulfillments = self._fulfillments(cart_order_id)
        embedded = all(isinstance(f.get("fulfillment_line_items"), list) for f in fulfillments)
        fetched = (
            []
            if embedded
            else self.by_ids(
                "/fulfillment_line_items",
                "fulfillment_line_items",
                [text(i) for f in fulfillments for i in f.get("fulfillment_line_item_ids") or []],
            )
        )
        items = fulfillment_line_items(fulfillments, fetched)
        fulfillment_id, quantities = fulfillment_to_write(
            cart_order_id, self.line_items_of([order]), fulfillments, items, shipment
        )
        if not fulfillment_id:
            fulfillment_id = self._fulfillment_create(cart_order_id, quantities, sorted(shipment.tracking_numbers))
        updated = self.call(
            "PUT",
            f"/fulfillments/{quote(fulfillment_id, safe='')}",
            json_body=fulfillment_update_body(shipment, now=datetime.now(UTC)),
            ok_statuses=(422,),
        )
        if updated.status_code == 422:
            raise PermanentError(
                f"TradeGecko created fulfillment {fulfillment_id} of order {cart_order_id} but refused its tracking: "
                f"{_refusal(updated)}",
                status=422,
            )

    def _fulfillment_create(self, cart_order_id: str, quantities: dict[str, int], numbers: list[str]) -> str:
        """`POST /fulfillments` (created `packed`): the new fulfillment's id."""
        created = self.call(
            "POST",
            "/fulfillments",
            json_body=fulfillment_create_body(cart_order_id, quantities),
            idempotency_key=derive_key("fulfillment", cart_order_id, numbers, sorted(quantities.items())),
            ok_statuses=(422,),
        )
        if created.status_code == 422:
            raise PermanentError(
                f"TradeGecko refused the fulfillment of order {cart_order_id}: {_refusal(created)}", status=422
            )
        fulfillment_id = text(record(parse_json(created, self.label, self.api().secrets), "fulfillment").get("id"))
        if not fulfillment_id:
            raise BadPayloadError(f"TradeGecko created a fulfillment of order {cart_order_id} without giving its id")
        return fulfillment_id

    # --- inventory back ---

    def iter_inventory(self) -> Iterator[list[CartInventoryItem]]:
        for variants in self.pages("/variants", "variants"):
            items = [inventory_item(variant, self.required_location) for variant in variants]
            yield [item for item in items if item is not None]

    def adjustment_location(self) -> str:
        """Where stock is adjusted: the Required Location ID, else the account's primary location."""
        return self.required_location or text(self.account().get("primary_location_id"))

    def set_inventory(self, updates: list[InventoryUpdate], *, idempotency_key: str) -> InventoryPushResult:
        """Set levels by adjusting each variant by the difference from what it has available now."""
        if not updates:
            return InventoryPushResult()
        location = self.adjustment_location()
        if not location:
            reason = "no stock location to adjust: set the Required Location ID on the connection"
            return InventoryPushResult(refused={u.key: reason for u in updates})
        current = self.lookup("/variants", "variants", [u.key for u in updates])
        deltas, result = stock_deltas(updates, current, self.required_location)
        if not deltas:
            return result
        body = stock_adjustment_body(location, deltas)
        response = self.call(
            "POST",
            "/stock_adjustments",
            json_body=body,
            idempotency_key=derive_key("stock", idempotency_key, json.dumps(body, sort_keys=True)),
            ok_statuses=(422,),
        )
        if response.status_code == 422:
            reason = f"TradeGecko refused the stock adjustment: {_refusal(response)}"
            result.refused.update(dict.fromkeys(deltas, reason))
        else:
            result.accepted.extend(deltas)
            reread = self.lookup("/variants", "variants", list(deltas))
            levels_shown(result, [u for u in updates if u.key in deltas], reread, self.required_location)
        return result


class QuickBooksCommerceCart(TradeGeckoCart):
    """QuickBooks Commerce is TradeGecko renamed: the same API, under the name merchants now know."""

    key = "quickbooks_commerce"
    label = "QuickBooks Commerce"


class TradeGeckoWarehouse(TradeGeckoOrderChanges, TradeGeckoApi, WarehouseConnector):
    """Sends orders into TradeGecko at one stock location and reads back its fulfillments and stock."""

    key = "tradegecko"
    label = "TradeGecko"
    setting_fields = (
        ConfigField(
            name="stock_location_id",
            label="Stock location ID",
            help_text=(
                "The TradeGecko stock location that ships the orders sent here, and whose stock is read back. "
                "To find the ID, edit a product variant stocked there, open its Stock Locations tab and click "
                "the location: the ID is the number in the browser's address bar."
            ),
        ),
    )
    location_setting = "stock_location_id"
    # TradeGecko takes any reference; a longer one keeps the cart's order number whole more often.
    cust_ref_max_length = 50
    cust_ref_charset = "A-Za-z0-9_.-"
    field_limits = SHIP_TO_LIMITS  # `address1` required [doc], lengths assumed (see `limits`)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._variant_ids: dict[str, str] = {}

    @property
    def stock_location(self) -> str:
        return text(self.settings.get("stock_location_id"))

    # --- orders out ---

    def format_order(self, order: WarehouseOrder, variant_ids: dict[str, str] | None = None) -> dict[str, Any]:
        """The `POST /orders` body; without `variant_ids`, lines show the SKUs the variants resolved
        so far by this connector (and the SKU itself for the others)."""
        return order_body(
            order,
            stock_location_id=self.stock_location,
            variant_ids=self._variant_ids if variant_ids is None else variant_ids,
            today=datetime.now(UTC).date(),
        )

    def resolve_variants(self, skus: list[str]) -> dict[str, str]:
        """SKU -> variant id for every SKU, asked in batches and kept for this connector's life.

        Raises `OrderRejectedError`: `unknown_sku` naming the SKUs no variant carries, and
        `warehouse_rejected` naming those several variants carry (SKUs are not guaranteed unique in
        TradeGecko, so we will not guess).
        """
        wanted = list(dict.fromkeys(s for s in skus if s))
        missing = [sku for sku in wanted if sku not in self._variant_ids]
        ambiguous: dict[str, list[str]] = {}
        for batch in chunks(missing, ID_BATCH):
            resolved, several = match_skus(batch, self.every("/variants", "variants", {"sku[]": batch}))
            self._variant_ids.update(resolved)
            ambiguous.update(several)
        if ambiguous:
            named = "; ".join(f"{sku} (variants {', '.join(ids)})" for sku, ids in ambiguous.items())
            raise OrderRejectedError(
                f"SKUs are not guaranteed unique in TradeGecko, and several variants carry {named}: give each SKU "
                "to one variant in TradeGecko, or alias it to another SKU",
                reason_code="warehouse_rejected",
                skus=list(ambiguous),
            )
        unknown = [sku for sku in wanted if sku not in self._variant_ids]
        if unknown:
            raise OrderRejectedError(
                f"TradeGecko has no variant with SKU {', '.join(unknown)}",
                reason_code="unknown_sku",
                skus=unknown,
            )
        return {sku: self._variant_ids[sku] for sku in wanted}

    def submit_order(self, order: WarehouseOrder) -> WarehouseOrderRef:
        """Create the order, unless TradeGecko already has its reference: TradeGecko does not refuse a
        second order with the same `reference_number`, so we ask first (a resend within 24 hours is
        also caught by the idempotency key)."""
        existing = self._orders_with_reference(order.cust_ref)
        if existing:
            raise DuplicateReferenceError(
                f"TradeGecko already has order {text(existing[0].get('id'))} with reference {order.cust_ref}: "
                "not created again"
            )
        body = self.format_order(order, self.resolve_variants([item.sku for item in order.items]))
        response = self.call(
            "POST",
            "/orders",
            json_body=body,
            idempotency_key=derive_key("order", order.cust_ref, json.dumps(body, sort_keys=True)),
            ok_statuses=(422,),
        )
        if response.status_code == 422:
            try:
                answer = response.json()
            except ValueError:
                answer = None
            raise classify_order_refusal(422, answer, order.cust_ref)
        try:
            created = record(parse_json(response, self.label, self.api().secrets), "order")
        except BadPayloadError:
            created = {}
        if not text(created.get("id")):
            found = self.find_order(order.cust_ref)
            if found is None:
                raise BadPayloadError(
                    f"TradeGecko accepted order {order.cust_ref} ({response.status_code}) without giving its id"
                )
            return found
        # The answer has no lines (only their ids): the pipeline reads the order back with one lookup.
        return WarehouseOrderRef(
            warehouse_order_id=text(created.get("id")),
            cust_ref=text(created.get("reference_number")) or order.cust_ref,
            status=text(created.get("status")),
            cust_po_no=po_number_in_notes(created.get("notes")),
        )

    def _orders_with_reference(self, cust_ref: str) -> list[dict[str, Any]]:
        return [
            o
            for o in self.every("/orders", "orders", {"reference_number": cust_ref})
            if text(o.get("reference_number")) == cust_ref and text(o.get("id"))
        ]

    def find_orders(self, cust_ref: str) -> list[WarehouseOrderRef]:
        """The orders with exactly this reference, live ones first (a voided one still counts, as
        someone decided at the warehouse), each with its lines, their SKUs and its shipping address
        (fetched in batches, only when there is an order to read back)."""
        matches = self._orders_with_reference(cust_ref)
        if not matches:
            return []
        matches.sort(key=lambda o: text(o.get("status")).lower() in ("void", "deleted"))
        lines = self.line_items_of(matches)
        variants = self.lookup("/variants", "variants", wanted_ids(lines, "variant_id"))
        addresses = self.lookup("/addresses", "addresses", wanted_ids(matches, "shipping_address_id"))
        return [found_order(order, lines, variants, addresses) for order in matches]

    def list_skus(self) -> set[str]:
        return {
            text(v.get("sku"))
            for page in self.pages("/variants", "variants")
            for v in page
            if live(v) and text(v.get("sku"))
        }

    # --- shipments and stock back ---

    def _ours(self, fulfillment: dict[str, Any], orders: dict[str, dict[str, Any]]) -> bool:
        """A fulfillment of an order we could have sent: it has a reference and ships from our location."""
        order = orders.get(text(fulfillment.get("order_id"))) or {}
        location = text(fulfillment.get("stock_location_id")) or text(order.get("stock_location_id"))
        return bool(text(order.get("reference_number"))) and location in ("", self.stock_location)

    def iter_shipments(self, *, shipped_after: datetime, shipped_before: datetime) -> Iterator[list[Shipment]]:
        """Fulfilled fulfillments updated in the window (TradeGecko filters them by update time, which
        a shipment's is), with their lines, a page at a time (5 or 6 batched calls a page). The
        window is spelled, and dates without an offset read, in the connection's time zone when set."""
        params = {
            "updated_at_min": format_datetime(shipped_after, zone=self.time_zone),
            "updated_at_max": format_datetime(shipped_before, round_up=True, zone=self.time_zone),
        }
        for page in self.pages("/fulfillments", "fulfillments", params):
            shipped = [f for f in page if text(f.get("status")).lower() == "fulfilled"]
            orders = self.lookup("/orders", "orders", wanted_ids(shipped, "order_id"))
            ours = [f for f in shipped if self._ours(f, orders)]
            if not ours:
                continue
            fetched = self.by_ids(
                "/fulfillment_line_items",
                "fulfillment_line_items",
                [
                    text(i)
                    for f in ours
                    if not isinstance(f.get("fulfillment_line_items"), list)
                    for i in f.get("fulfillment_line_item_ids") or []
                ],
            )
            items = fulfillment_line_items(ours, fetched)
            lines = self.lookup("/order_line_items", "order_line_items", wanted_ids(items, "order_line_item_id"))
            variants = self.lookup("/variants", "variants", wanted_ids(lines.values(), "variant_id"))
            yield [
                parse_fulfillment(
                    f,
                    [i for i in items if text(i.get("fulfillment_id")) == text(f.get("id"))],
                    lines,
                    variants,
                    orders,
                    zone=self.time_zone,
                )
                for f in ours
            ]

    def iter_stock_levels(self) -> Iterator[list[StockLevel]]:
        """Stock per SKU at the connection's location, yielded once the whole listing is read (two
        variants may share a SKU across pages, and a partial sum must never reach the pipeline)."""
        levels: dict[str, StockLevel] = {}
        for page in self.pages("/variants", "variants"):
            for variant in page:
                sku = text(variant.get("sku"))
                if not sku or not live(variant) or not tracks_stock(variant):
                    continue
                here = [
                    entry
                    for entry in variant.get("locations") or []
                    if isinstance(entry, dict) and text(entry.get("location_id")) == self.stock_location
                ]
                level = levels.setdefault(sku, StockLevel(sku=sku, available=0, on_hand=0))
                level.available += sum(location_available(entry) for entry in here)
                level.on_hand = (level.on_hand or 0) + variant_on_hand(variant, self.stock_location)
        values = list(levels.values())
        for start in range(0, len(values), STOCK_CHUNK):
            yield values[start : start + STOCK_CHUNK]


class QuickBooksCommerceWarehouse(TradeGeckoWarehouse):
    """QuickBooks Commerce is TradeGecko renamed: the same API, under the name merchants now know."""

    key = "quickbooks_commerce"
    label = "QuickBooks Commerce"
