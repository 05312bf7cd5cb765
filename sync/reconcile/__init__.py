"""Reconciliation: the standing proof that every cart order was delivered once, held or skipped (issue 16, point 5)."""
