"""TradeGecko (renamed QuickBooks Commerce: one connector, two names) as a cart and as a warehouse.

The public API has been retired, so this connector is tested against the sandbox only. The session
(OAuth, refresh, paging, batches, rate limit) is `tradegecko_api.TradeGeckoApi`, shared by both roles;
the payloads are pure functions in `tradegecko_wire` (read) and `tradegecko_writes` (written).

As a cart: orders are listed by update time (`GET /orders`), the first import asking for open ones
only (`status=active` and `finalized`, `fulfillment_status=unshipped`) and later runs for every status
so that cancellations are seen; the optional Required Location ID adds `stock_location_id`. Each page's
lines, variants (for the SKUs) and addresses are fetched in batches. Tracking goes back as fulfillments
(see `tradegecko_writes`), stock as stock adjustments by difference, at the Required Location ID or, when
none is set, the account's primary location (levels are then compared with the stock of all locations).

As a warehouse: orders are created at the connection's stock location with the customer and shipping
address embedded and lines by variant (each warehouse SKU resolved once per connector with
`GET /variants?sku[]=…`); shipments are the fulfillments updated in the window whose order is one of
ours (it has a reference number and is at our location); stock is read from the variants' locations.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from integrations.connectors.answers import status_phrase, summary
from integrations.connectors.base import CartConnector, ConfigField
from integrations.connectors.canonical import (
    CartInventoryItem,
    CartShipment,
    InventoryPushResult,
    InventoryUpdate,
    OrderPage,
)
from integrations.connectors.errors import PermanentError
from integrations.connectors.tradegecko_api import TradeGeckoApi
from integrations.connectors.tradegecko_stock import (
    inventory_item,
    live,
    stock_adjustment_body,
    tracks_stock,
    variant_available,
)
from integrations.connectors.tradegecko_warehouse import QuickBooksCommerceWarehouse, TradeGeckoWarehouse
from integrations.connectors.tradegecko_wire import (
    describe_errors,
    error_fields,
    format_datetime,
    parse_order_page,
    record,
    text,
    wanted_ids,
)
from integrations.connectors.tradegecko_writes import (
    FULFIL_ALL,
    fulfil_body,
    fulfillment_create_body,
    fulfillment_line_items,
    fulfillment_update_body,
    plan_fulfilment,
    tracking_numbers_of,
    unshipped_quantities,
)
from integrations.connectors.tradegecko_writes import idempotency_key as derive_key
from integrations.http import parse_json

__all__ = ["QuickBooksCommerceCart", "QuickBooksCommerceWarehouse", "TradeGeckoCart", "TradeGeckoWarehouse"]

OPEN_STATUSES = ("active", "finalized")


def _refusal(response: Any) -> str:
    """The refusal's field errors as a message may quote them, else the status's standard phrase."""
    try:
        body = response.json()
    except ValueError:
        body = None
    return summary(describe_errors(error_fields(body))) or status_phrase(response.status_code)


class TradeGeckoCart(TradeGeckoApi, CartConnector):
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
        return tracking_numbers_of(self._fulfillments(cart_order_id))

    def push_shipment(self, cart_order_id: str, shipment: CartShipment, *, notify_customer: bool) -> None:
        """Fulfil the rest of the order, or the parcel's lines (see `tradegecko_writes`)."""
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
        unshipped = unshipped_quantities(self.line_items_of([order]), fulfillment_line_items(fulfillments, fetched))
        plan, quantities = plan_fulfilment(cart_order_id, unshipped, shipment)
        now = datetime.now(UTC)
        numbers = sorted(shipment.tracking_numbers)
        if plan == FULFIL_ALL:
            response = self.call(
                "POST",
                f"/orders/{quote(cart_order_id, safe='')}/actions/fulfil",
                json_body=fulfil_body(shipment, now=now),
                idempotency_key=derive_key("fulfil", cart_order_id, numbers, shipment.carrier),
                ok_statuses=(422,),
            )
            if response.status_code == 422:
                raise PermanentError(
                    f"TradeGecko refused to fulfil order {cart_order_id}: {_refusal(response)}", status=422
                )
            return
        created = self.call(
            "POST",
            "/fulfillments",
            json_body=fulfillment_create_body(cart_order_id, quantities),
            idempotency_key=derive_key("fulfillment", cart_order_id, numbers, sorted(quantities.items())),
            ok_statuses=(422,),
        )
        if created.status_code == 422:
            raise PermanentError(
                f"TradeGecko refused the fulfillment of part of order {cart_order_id}: {_refusal(created)}", status=422
            )
        fulfillment_id = text(record(parse_json(created, self.label, self.api().secrets), "fulfillment").get("id"))
        updated = self.call(
            "PUT",
            f"/fulfillments/{quote(fulfillment_id, safe='')}",
            json_body=fulfillment_update_body(shipment, now=now),
            ok_statuses=(422,),
        )
        if updated.status_code == 422:
            raise PermanentError(
                f"TradeGecko created fulfillment {fulfillment_id} of order {cart_order_id} but refused its tracking: "
                f"{_refusal(updated)}",
                status=422,
            )

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
        result = InventoryPushResult()
        location = self.adjustment_location()
        if not location:
            reason = "no stock location to adjust: set the Required Location ID on the connection"
            return InventoryPushResult(refused={u.key: reason for u in updates})
        current = self.lookup("/variants", "variants", [u.key for u in updates])
        deltas: dict[str, int] = {}
        for update in updates:
            variant = current.get(update.key)
            if variant is None or not live(variant):
                result.refused[update.key] = f"TradeGecko has no variant {update.key} (deleted?)"
            elif not tracks_stock(variant):
                result.refused[update.key] = "TradeGecko keeps no stock count for this variant (manage stock is off)"
            else:
                delta = update.quantity - variant_available(variant, self.required_location)
                if delta:
                    deltas[update.key] = delta
                else:
                    result.accepted.append(update.key)
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
        return result


class QuickBooksCommerceCart(TradeGeckoCart):
    """QuickBooks Commerce is TradeGecko renamed: the same API, under the name merchants now know."""

    key = "quickbooks_commerce"
    label = "QuickBooks Commerce"
