"""Platform keys and names, shared by the models (choices) and the connector registry.

Kept free of imports so that the models' choices do not depend on loading every connector.
"""

SQUARESPACE = "squarespace"
TRADEGECKO = "tradegecko"
QUICKBOOKS_COMMERCE = "quickbooks_commerce"
OVERSTOCK = "overstock"
BERGEN = "bergen"

PLATFORM_LABELS: dict[str, str] = {
    SQUARESPACE: "Squarespace Commerce",
    TRADEGECKO: "TradeGecko",
    QUICKBOOKS_COMMERCE: "QuickBooks Commerce",
    OVERSTOCK: "Overstock Supplier Oasis",
    BERGEN: "Bergen Logistics",
}

CART_PLATFORMS = [(k, PLATFORM_LABELS[k]) for k in (SQUARESPACE, TRADEGECKO, QUICKBOOKS_COMMERCE, OVERSTOCK)]
WAREHOUSE_PLATFORMS = [(k, PLATFORM_LABELS[k]) for k in (BERGEN, TRADEGECKO, QUICKBOOKS_COMMERCE)]
