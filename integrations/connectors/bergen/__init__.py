"""Bergen Logistics (modelled on Extensiv 3PL Warehouse Manager) as a warehouse: `connector` holds the
session and the connector, `wire` reads its answers, `writes` builds what we send and reads it back."""
