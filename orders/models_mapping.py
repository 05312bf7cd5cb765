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
