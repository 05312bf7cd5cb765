"""The mapping models that translate a cart's names into a warehouse's and back: SKU aliases,
shipping methods and carrier names. They live together because translation and holds read them
as one set of rules; `orders.models` imports them so they belong to the orders app.

Their tables keep the names they were created with (`db_table`), so the rows stay where they are.
"""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower

from integrations.models import CartConnection, Merchant, WMSConnection


class SKUAlias(models.Model):
    """The cart calls an item `cart_sku`; the warehouse knows it as `warehouse_sku`."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="sku_aliases")
    cart_sku = models.CharField("cart SKU", max_length=200)
    warehouse_sku = models.CharField("warehouse SKU", max_length=200)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "inventory_skualias"
        verbose_name = "SKU alias"
        verbose_name_plural = "SKU aliases"
        ordering = ["merchant", "cart_sku"]
        constraints = [
            models.UniqueConstraint(
                fields=["merchant", "cart_sku"],
                name="unique_alias_per_merchant",
                violation_error_message="This cart SKU already has an alias for this merchant.",
            )
        ]
        indexes = [models.Index(fields=["merchant", "warehouse_sku"])]

    def __str__(self) -> str:
        return f"{self.cart_sku} → {self.warehouse_sku}"


class ShippingMethodMap(models.Model):
    """A cart's shipping method (as the cart names it) → the warehouse's carrier/service code."""

    warehouse = models.ForeignKey(WMSConnection, on_delete=models.CASCADE, related_name="shipping_methods")
    cart_method = models.CharField(
        max_length=200, help_text="As the cart sends it, e.g. 'Standard Shipping' (matched ignoring case)."
    )
    ship_code = models.CharField(max_length=80, help_text="The warehouse's code, e.g. 'UPS:Ground' or 'FEDEX'.")

    class Meta:
        db_table = "integrations_shippingmethodmap"
        verbose_name = "shipping method mapping"
        constraints = [
            models.UniqueConstraint(
                Lower("cart_method"),
                "warehouse",
                name="unique_ship_method_per_warehouse",
                violation_error_message="This shipping method already has a mapping on this warehouse connection.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.cart_method} → {self.ship_code}"


class CarrierNameMap(models.Model):
    """A warehouse's carrier code → the carrier name a cart expects (defaults come from the connector)."""

    cart_connection = models.ForeignKey(CartConnection, on_delete=models.CASCADE, related_name="carrier_names")
    warehouse_carrier = models.CharField(max_length=80, help_text="As the warehouse reports it, e.g. 'FDX'.")
    cart_carrier = models.CharField(max_length=80, help_text="As the cart should show it, e.g. 'FedEx'.")

    class Meta:
        db_table = "integrations_carriernamemap"
        verbose_name = "carrier name mapping"
        constraints = [
            models.UniqueConstraint(
                Lower("warehouse_carrier"),
                "cart_connection",
                name="unique_carrier_map_per_cart",
                violation_error_message="This carrier already has a name on this cart connection.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.warehouse_carrier} → {self.cart_carrier}"


class WarehouseSKUList(models.Model):
    """The warehouse's SKUs as last read (`list_skus`): what an SKU alias made from an order page is
    checked against without calling the warehouse in the request. Written by every read (a sync, a
    re-check, a read the order page queues); older than `WAREHOUSE_SKU_LIST_MAX_AGE_MINUTES` it is
    read again in the worker."""

    warehouse = models.OneToOneField(WMSConnection, on_delete=models.CASCADE, related_name="sku_list")
    skus = models.JSONField(default=list, help_text="The warehouse's SKUs, sorted, as last read.")
    read_at = models.DateTimeField(null=True, blank=True, help_text="When the list was last read; empty: never.")
    read_queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When a person's page last queued a read in the worker."
    )
    read_error = models.TextField(blank=True, help_text="Why the last read failed (empty when it worked).")

    class Meta:
        verbose_name = "warehouse SKU list"

    def __str__(self) -> str:
        return f"{self.warehouse}: {len(self.skus)} SKUs"
