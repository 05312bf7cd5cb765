"""Admin of the mapping models: SKU aliases and shipping method maps on their own pages, and the
shipping and carrier maps as inlines that the connection pages (`integrations.admin`) show.

Saving an alias or a shipping mapping releases the orders it was holding, and says how many.
"""

from __future__ import annotations

from django.contrib import admin, messages

from config.admin_filters import AutocompleteFiltersMixin, autocomplete_filter
from config.admin_guard import KeyCheckedAutocompleteMixin
from orders.models import CarrierNameMap, ShippingMethodMap, SKUAlias
from orders.services.delivery.holds import shipping_mapping_saved, sku_alias_saved


@admin.register(SKUAlias)
class SKUAliasAdmin(KeyCheckedAutocompleteMixin, AutocompleteFiltersMixin, admin.ModelAdmin):
    list_display = ["cart_sku", "warehouse_sku", "merchant", "note", "updated_at"]
    list_filter = [autocomplete_filter("merchant")]
    search_fields = ["cart_sku", "warehouse_sku"]
    list_select_related = ["merchant"]
    autocomplete_fields = ["merchant"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        released = sku_alias_saved(alias=obj)["released"]
        if released:
            self.message_user(request, f"{released} held order(s) released and ready to send.", messages.SUCCESS)


@admin.register(ShippingMethodMap)
class ShippingMethodMapAdmin(AutocompleteFiltersMixin, admin.ModelAdmin):
    list_display = ["cart_method", "ship_code", "warehouse"]
    list_filter = [autocomplete_filter("warehouse")]
    search_fields = ["cart_method", "ship_code"]
    list_select_related = ["warehouse__merchant"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        released = shipping_mapping_saved(warehouse_id=obj.warehouse_id, cart_method=obj.cart_method)["released"]
        if released:
            self.message_user(request, f"{released} held order(s) released and ready to send.", messages.SUCCESS)


class ShippingMethodMapInline(admin.TabularInline):
    model = ShippingMethodMap
    extra = 1


class CarrierNameMapInline(admin.TabularInline):
    model = CarrierNameMap
    extra = 1
    verbose_name_plural = "carrier names (warehouse code → name the cart shows; common carriers have defaults)"
