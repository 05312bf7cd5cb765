"""Fixtures for the Overstock sandbox (filled in by its author)."""
