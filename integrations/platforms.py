"""Platform keys, labels and the models' choices, all derived from the connector registry (where a
platform is declared once, by its connector class): adding a platform there adds it here."""

from integrations.connectors.bergen.connector import BergenWarehouse
from integrations.connectors.overstock.connector import OverstockCart
from integrations.connectors.registry import CART_CONNECTORS, CONNECTORS, WAREHOUSE_CONNECTORS
from integrations.connectors.squarespace.connector import SquarespaceCart
from integrations.connectors.tradegecko.connector import QuickBooksCommerceCart, TradeGeckoCart

SQUARESPACE = SquarespaceCart.key
TRADEGECKO = TradeGeckoCart.key
QUICKBOOKS_COMMERCE = QuickBooksCommerceCart.key
OVERSTOCK = OverstockCart.key
BERGEN = BergenWarehouse.key

PLATFORM_LABELS: dict[str, str] = {key: connector.label for key, connector in CONNECTORS.items()}

CART_PLATFORMS = [(key, connector.label) for key, connector in CART_CONNECTORS.items()]
WAREHOUSE_PLATFORMS = [(key, connector.label) for key, connector in WAREHOUSE_CONNECTORS.items()]
