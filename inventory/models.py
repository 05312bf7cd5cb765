from django.db import models

from integrations.models import CartConnection, WMSConnection


class StockLevel(models.Model):
    """What the warehouse has of one of its SKUs, as last read."""

    warehouse = models.ForeignKey(WMSConnection, on_delete=models.CASCADE, related_name="stock_levels")
    warehouse_sku = models.CharField("warehouse SKU", max_length=200)
    available = models.IntegerField()
    on_hand = models.IntegerField(null=True, blank=True)
    read_at = models.DateTimeField(help_text="When the warehouse last reported it.")

    class Meta:
        ordering = ["warehouse", "warehouse_sku"]
        constraints = [models.UniqueConstraint(fields=["warehouse", "warehouse_sku"], name="unique_stock_per_wms")]

    def __str__(self) -> str:
        return f"{self.warehouse_sku}: {self.available}"


class CartInventoryLevel(models.Model):
    """One cart item's level as we last computed and pushed it."""

    class State(models.TextChoices):
        OK = "ok", "in sync"
        UNKNOWN_AT_WAREHOUSE = "unknown_at_warehouse", "unknown at the warehouse"
        NOT_TRACKED = "not_tracked", "not tracked by the cart (unlimited)"
        REFUSED = "refused", "refused by the cart"
        UNVERIFIED = "unverified", "sent, but the cart does not show it"

    cart_connection = models.ForeignKey(CartConnection, on_delete=models.CASCADE, related_name="inventory_levels")
    cart_item_key = models.CharField(max_length=200, help_text="The cart's own id for the item (variant id...).")
    cart_sku = models.CharField("cart SKU", max_length=200, blank=True)
    warehouse_sku = models.CharField("warehouse SKU", max_length=200, blank=True)
    state = models.CharField(max_length=30, choices=State.choices, default=State.OK)
    cart_quantity = models.IntegerField(null=True, blank=True, help_text="What the cart showed when last read.")
    computed_quantity = models.IntegerField(null=True, blank=True, help_text="What we last computed for it.")
    pushed_quantity = models.IntegerField(null=True, blank=True, help_text="What the cart last accepted from us.")
    read_at = models.DateTimeField(null=True, blank=True)
    pushed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    unverified_runs = models.PositiveIntegerField(
        default=0,
        help_text="Pushes in a row whose level the cart did not show afterwards; "
        "at INVENTORY_UNVERIFIED_PROBLEM_AFTER_RUNS the connection gets a problem naming the SKU.",
    )

    class Meta:
        ordering = ["cart_connection", "cart_sku"]
        constraints = [
            models.UniqueConstraint(fields=["cart_connection", "cart_item_key"], name="unique_cart_item_level")
        ]
        indexes = [models.Index(fields=["warehouse_sku"]), models.Index(fields=["cart_sku"])]

    def __str__(self) -> str:
        return f"{self.cart_sku}: {self.pushed_quantity}"
