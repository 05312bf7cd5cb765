"""TradeGecko / QuickBooks Commerce as a cart and as a warehouse: `connector` holds both roles' connectors,
`api` the session they share, `wire` the payloads read, `writes` those written, `stock` variants as stock."""
