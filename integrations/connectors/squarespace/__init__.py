"""Squarespace Commerce as a cart: `connector` holds the session and the connector, `wire` the
payloads read and written."""
