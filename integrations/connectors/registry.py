"""Every platform we speak, by key. The models take their platform choices from here."""

from __future__ import annotations

from integrations.connectors.base import CartConnector, WarehouseConnector
from integrations.connectors.bergen import BergenWarehouse
from integrations.connectors.overstock import OverstockCart
from integrations.connectors.squarespace import SquarespaceCart
from integrations.connectors.tradegecko import (
    QuickBooksCommerceCart,
    QuickBooksCommerceWarehouse,
    TradeGeckoCart,
    TradeGeckoWarehouse,
)
from integrations.platforms import PLATFORM_LABELS

CART_CONNECTORS: dict[str, type[CartConnector]] = {
    SquarespaceCart.key: SquarespaceCart,
    OverstockCart.key: OverstockCart,
    TradeGeckoCart.key: TradeGeckoCart,
    QuickBooksCommerceCart.key: QuickBooksCommerceCart,
}
WAREHOUSE_CONNECTORS: dict[str, type[WarehouseConnector]] = {
    BergenWarehouse.key: BergenWarehouse,
    TradeGeckoWarehouse.key: TradeGeckoWarehouse,
    QuickBooksCommerceWarehouse.key: QuickBooksCommerceWarehouse,
}


def cart_connector_class(key: str) -> type[CartConnector]:
    try:
        return CART_CONNECTORS[key]
    except KeyError:
        raise LookupError(f"{PLATFORM_LABELS.get(key, key)} is not yet supported as a cart") from None


def warehouse_connector_class(key: str) -> type[WarehouseConnector]:
    try:
        return WAREHOUSE_CONNECTORS[key]
    except KeyError:
        raise LookupError(f"{PLATFORM_LABELS.get(key, key)} is not yet supported as a warehouse") from None
