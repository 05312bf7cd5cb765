from django.db import models

from integrations.models import Merchant


class SKUAlias(models.Model):
    """The cart calls an item `cart_sku`; the warehouse knows it as `warehouse_sku`."""

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="sku_aliases")
    cart_sku = models.CharField("cart SKU", max_length=200)
    warehouse_sku = models.CharField("warehouse SKU", max_length=200)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "SKU alias"
        verbose_name_plural = "SKU aliases"
        ordering = ["merchant", "cart_sku"]
        constraints = [models.UniqueConstraint(fields=["merchant", "cart_sku"], name="unique_alias_per_merchant")]
        indexes = [models.Index(fields=["merchant", "warehouse_sku"])]

    def __str__(self) -> str:
        return f"{self.cart_sku} → {self.warehouse_sku}"
