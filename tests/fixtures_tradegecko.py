"""Fixtures for the TradeGecko sandbox (filled in by its author)."""
