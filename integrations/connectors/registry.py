"""Every platform we speak, by key: the one place a platform is declared.

A platform's key and label are its connector class's `key` and `label`; the models' choices and the
labels shown everywhere else (`integrations.platforms`) are derived from these two maps. Their order
is the order of the choices (a change of order would be a migration) and of the setup pages.
"""

from __future__ import annotations

from integrations.connectors.base import CartConnector, Connector, WarehouseConnector
from integrations.connectors.bergen.connector import BergenWarehouse
from integrations.connectors.overstock.connector import OverstockCart
from integrations.connectors.squarespace.connector import SquarespaceCart
from integrations.connectors.tradegecko.connector import (
    QuickBooksCommerceCart,
    QuickBooksCommerceWarehouse,
    TradeGeckoCart,
    TradeGeckoWarehouse,
)

CART_CONNECTORS: dict[str, type[CartConnector]] = {
    SquarespaceCart.key: SquarespaceCart,
    TradeGeckoCart.key: TradeGeckoCart,
    QuickBooksCommerceCart.key: QuickBooksCommerceCart,
    OverstockCart.key: OverstockCart,
}
WAREHOUSE_CONNECTORS: dict[str, type[WarehouseConnector]] = {
    BergenWarehouse.key: BergenWarehouse,
    TradeGeckoWarehouse.key: TradeGeckoWarehouse,
    QuickBooksCommerceWarehouse.key: QuickBooksCommerceWarehouse,
}
CONNECTORS: dict[str, type[Connector]] = {**CART_CONNECTORS, **WAREHOUSE_CONNECTORS}


def platform_label(key: str) -> str:
    """The platform's name as people know it; the key itself for a platform we do not speak."""
    connector = CONNECTORS.get(key)
    return connector.label if connector is not None else key


def cart_connector_class(key: str) -> type[CartConnector]:
    try:
        return CART_CONNECTORS[key]
    except KeyError:
        raise LookupError(f"{platform_label(key)} is not yet supported as a cart") from None


def warehouse_connector_class(key: str) -> type[WarehouseConnector]:
    try:
        return WAREHOUSE_CONNECTORS[key]
    except KeyError:
        raise LookupError(f"{platform_label(key)} is not yet supported as a warehouse") from None
