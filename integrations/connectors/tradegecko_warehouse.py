"""TradeGecko (QuickBooks Commerce) as the warehouse side: orders created in it, shipments and stock
read back. Re-exported by `tradegecko`, the module the registry knows; see its docstring for the
whole picture and `tradegecko_writes` for the payloads.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from integrations.connectors.base import ConfigField, WarehouseConnector
from integrations.connectors.canonical import Shipment, StockLevel, WarehouseOrder, WarehouseOrderRef
from integrations.connectors.errors import BadPayloadError, DuplicateReferenceError, OrderRejectedError
from integrations.connectors.tradegecko_api import ID_BATCH, TradeGeckoApi, chunks
from integrations.connectors.tradegecko_stock import live, location_available, tracks_stock, variant_on_hand
from integrations.connectors.tradegecko_wire import (
    format_datetime,
    record,
    text,
    wanted_ids,
)
from integrations.connectors.tradegecko_writes import (
    classify_order_refusal,
    found_order,
    fulfillment_line_items,
    idempotency_key,
    match_skus,
    parse_fulfillment,
)
from integrations.connectors.tradegecko_writes import format_order as order_body
from integrations.http import parse_json

STOCK_CHUNK = 500


class TradeGeckoWarehouse(TradeGeckoApi, WarehouseConnector):
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
            idempotency_key=idempotency_key("order", order.cust_ref, json.dumps(body, sort_keys=True)),
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
        return WarehouseOrderRef(
            warehouse_order_id=text(created.get("id")),
            cust_ref=text(created.get("reference_number")) or order.cust_ref,
            status=text(created.get("status")),
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
        a shipment's is), with their lines, a page at a time (5 or 6 batched calls a page)."""
        params = {
            "updated_at_min": format_datetime(shipped_after),
            "updated_at_max": format_datetime(shipped_before, round_up=True),
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
                    f, [i for i in items if text(i.get("fulfillment_id")) == text(f.get("id"))], lines, variants, orders
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
