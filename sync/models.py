"""What the sync cycle records of its own: each reconciliation, so that pages show each day's result."""

from __future__ import annotations

from django.db import models

from integrations.models import CartConnection, Merchant
from integrations.tenancy import MerchantScoped


class Reconciliation(MerchantScoped):
    """One reconciliation of one cart connection: the cart's orders in the window, each classified.

    `counts` holds every class (`delivered_once`, `held`, `skipped`, `in_progress`, `missing_here`,
    `missing_at_warehouse`, `warehouse_duplicates`, `tracking_missing`), `cart_orders` and `gaps`;
    `gap_list` names each gap with what to do. A run with an `error` could not read a side in full
    and is never clean."""

    tenancy_fields = ("merchant", "cart_connection")

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="reconciliations")
    cart_connection = models.ForeignKey(CartConnection, on_delete=models.CASCADE, related_name="reconciliations")
    window_start = models.DateTimeField(help_text="The cart's orders listed from here…")
    window_end = models.DateTimeField(help_text="…to here.")
    counts = models.JSONField(default=dict, blank=True)
    gap_list = models.JSONField(
        default=list, blank=True, help_text="[{category, order_number, cart_order_id, reason, action}]"
    )
    error = models.TextField(blank=True, help_text="Why a side could not be read: then nothing is proven.")
    notes = models.TextField(blank=True)
    finished_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-finished_at", "-pk"]
        indexes = [models.Index(fields=["cart_connection", "-finished_at"])]

    def __str__(self) -> str:
        return f"reconciliation of {self.cart_connection} at {self.finished_at:%Y-%m-%d %H:%M}"

    @property
    def gaps(self) -> int:
        return int(self.counts.get("gaps", 0))

    @property
    def is_clean(self) -> bool:
        return not self.error and not self.gaps
