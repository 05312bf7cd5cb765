"""TradeGecko variants as stock, as pure functions: levels read (both roles) and set (cart role).

A variant's `locations[]` `{location_id, stock_on_hand, committed, available}` [doc] tells its stock per
stock location; what is available there is `available`, or `stock_on_hand - committed` when that is
absent. `manage_stock` false means TradeGecko keeps no count (a service, a made-to-order item).

TradeGecko takes stock changes as deltas only (`POST /stock_adjustments`, with a `stock_location_id`
and `stock_adjustment_line_items [{variant_id, quantity ±}]`), so a level is set by sending the
difference from what the variant has available now; zero deltas are left out. The adjustment's answer
shows the differences, not the levels, so the variants are read again (`GET /variants?ids[]=…`) and
each level counts as set only when the variant shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.connectors.canonical import CartInventoryItem, InventoryPushResult, InventoryUpdate
from integrations.connectors.parsing import text
from integrations.connectors.tradegecko.wire import api_id, whole_units

GONE_STATUSES = frozenset({"deleted"})  # soft-deleted records some lists still return


def location_available(entry: dict[str, Any]) -> int:
    available = whole_units(entry.get("available"))
    if available is not None:
        return available
    return (whole_units(entry.get("stock_on_hand")) or 0) - (whole_units(entry.get("committed")) or 0)


def variant_available(variant: dict[str, Any], location_id: str = "") -> int:
    """Available units of a variant at one location (0 when it has none there), or, without a
    location, across all of them (the variant's own totals when it lists no locations)."""
    locations = [entry for entry in variant.get("locations") or [] if isinstance(entry, dict)]
    if location_id:
        return sum(location_available(e) for e in locations if text(e.get("location_id")) == str(location_id))
    if locations:
        return sum(location_available(e) for e in locations)
    return (whole_units(variant.get("stock_on_hand")) or 0) - (whole_units(variant.get("committed_stock")) or 0)


def variant_on_hand(variant: dict[str, Any], location_id: str) -> int:
    locations = [entry for entry in variant.get("locations") or [] if isinstance(entry, dict)]
    return sum(whole_units(e.get("stock_on_hand")) or 0 for e in locations if text(e.get("location_id")) == location_id)


def tracks_stock(variant: dict[str, Any]) -> bool:
    """`manage_stock` false (a service, a made-to-order item) means TradeGecko keeps no count."""
    manage = variant.get("manage_stock")
    return not (manage is False or text(manage) in ("0", "false"))


def live(variant: dict[str, Any]) -> bool:
    return text(variant.get("status")).lower() not in GONE_STATUSES


def inventory_item(variant: dict[str, Any], location_id: str = "") -> CartInventoryItem | None:
    """A variant as a cart stock item (key = variant id), or None for a deleted one."""
    variant_id = text(variant.get("id"))
    if not variant_id or not live(variant):
        return None
    return CartInventoryItem(
        key=variant_id,
        sku=text(variant.get("sku")),
        quantity=variant_available(variant, location_id) if tracks_stock(variant) else None,
        description=" ".join(p for p in (text(variant.get("product_name")), text(variant.get("name"))) if p),
    )


def stock_deltas(
    updates: list[InventoryUpdate], variants: Mapping[str, dict[str, Any]], location_id: str = ""
) -> tuple[dict[str, int], InventoryPushResult]:
    """Per variant, the difference to send to reach its level (never zero), and what needs no
    adjustment: a level already reached is accepted and verified, a variant gone or keeping no count is refused."""
    result = InventoryPushResult()
    deltas: dict[str, int] = {}
    for update in updates:
        variant = variants.get(update.key)
        if variant is None or not live(variant):
            result.refused[update.key] = f"TradeGecko has no variant {update.key} (deleted?)"
        elif not tracks_stock(variant):
            result.refused[update.key] = "TradeGecko keeps no stock count for this variant (manage stock is off)"
        else:
            delta = update.quantity - variant_available(variant, location_id)
            if delta:
                deltas[update.key] = delta
            else:  # already at its level in the read just made: nothing to send, nothing to doubt
                result.accepted.append(update.key)
                result.verified.append(update.key)
    return deltas, result


def stock_adjustment_body(stock_location_id: str, deltas: Mapping[str, int]) -> dict[str, Any]:
    """`POST /stock_adjustments`: the differences (never zero) at one location."""
    return {
        "stock_adjustment": {
            "stock_location_id": api_id(stock_location_id),
            "reason": "Warehouse stock sync",
            "notes": "Set by Orderbridge to the stock the warehouse has available",
            "stock_adjustment_line_items": [
                {"variant_id": api_id(variant_id), "quantity": delta} for variant_id, delta in deltas.items() if delta
            ],
        }
    }


def levels_shown(
    result: InventoryPushResult,
    updates: list[InventoryUpdate],
    variants: Mapping[str, dict[str, Any]],
    location_id: str = "",
) -> None:
    """Record in `result` how the variants, read after the adjustment, show the levels sent: the
    keys at their level as verified, the others with what TradeGecko shows instead."""
    where = f" at location {location_id}" if location_id else ""
    for update in updates:
        variant = variants.get(update.key)
        if variant is None or not live(variant):
            result.unverified[update.key] = f"TradeGecko does not show variant {update.key} when asked for it"
        elif not tracks_stock(variant):
            result.unverified[update.key] = f"TradeGecko keeps no stock count for it now, not {update.quantity}"
        elif (shown := variant_available(variant, location_id)) != update.quantity:
            result.unverified[update.key] = f"TradeGecko shows {shown} available{where}, not {update.quantity}"
        else:
            result.verified.append(update.key)
