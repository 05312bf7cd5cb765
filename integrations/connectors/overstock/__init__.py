"""Overstock Supplier Oasis as a cart: `connector` holds the session and the connector, `wire` reads
its orders, `writes` builds ship confirmations and stock levels, `xml` reads and writes its XML safely."""
