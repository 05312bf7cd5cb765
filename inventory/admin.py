from django.contrib import admin

from inventory.models import CartInventoryLevel, StockLevel


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):
    list_display = ["warehouse_sku", "available", "on_hand", "warehouse", "read_at"]
    list_filter = ["warehouse__merchant", "warehouse"]
    search_fields = ["warehouse_sku"]
    list_select_related = ["warehouse__merchant"]
    readonly_fields = [f.name for f in StockLevel._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(CartInventoryLevel)
class CartInventoryLevelAdmin(admin.ModelAdmin):
    list_display = [
        "cart_sku",
        "warehouse_sku",
        "merchant",
        "cart_connection",
        "state",
        "computed_quantity",
        "pushed_quantity",
        "unverified_runs",
        "read_at",
        "pushed_at",
    ]
    list_filter = ["state", "cart_connection__merchant", "cart_connection"]
    search_fields = ["cart_sku", "warehouse_sku"]
    list_select_related = ["cart_connection__merchant"]
    readonly_fields = [f.name for f in CartInventoryLevel._meta.fields]

    def has_add_permission(self, request):
        return False

    @admin.display(description="merchant", ordering="cart_connection__merchant__name")
    def merchant(self, obj: CartInventoryLevel):
        return obj.cart_connection.merchant
