from django.contrib import admin, messages

from inventory.models import SKUAlias
from orders.services.holds import sku_alias_saved


@admin.register(SKUAlias)
class SKUAliasAdmin(admin.ModelAdmin):
    list_display = ["cart_sku", "warehouse_sku", "merchant", "note", "updated_at"]
    list_filter = ["merchant"]
    search_fields = ["cart_sku", "warehouse_sku"]
    list_select_related = ["merchant"]
    autocomplete_fields = ["merchant"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        released = sku_alias_saved(alias=obj)["released"]
        if released:
            self.message_user(request, f"{released} held order(s) released and ready to send.", messages.SUCCESS)
