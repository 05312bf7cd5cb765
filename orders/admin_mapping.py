"""Admin of the mapping models: SKU aliases and shipping method maps on their own pages, and the
shipping and carrier maps as inlines that the connection pages (`integrations.admin`) show.

Saving an alias or a shipping mapping releases the orders it was holding, and says how many.
Staff import and export a merchant's aliases as CSV with the merchant pages' own service: a file
is applied whole or not at all, every bad line named.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from config.admin_filters import AutocompleteFiltersMixin, autocomplete_filter
from config.admin_guard import KeyCheckedAutocompleteMixin, KeyCheckedAutocompleteSelect
from integrations.history import connection_change_record
from integrations.models import Merchant
from orders.models import CarrierNameMap, ShippingMethodMap, SKUAlias
from orders.services.aliases import aliases_saved, person_name
from orders.services.delivery.holds import shipping_mapping_saved
from orders.services.translation.alias_files import (
    MAX_ERRORS_SHOWN,
    AliasImport,
    ImportConflict,
    aliases_csv_import,
    aliases_csv_parse,
    aliases_csv_write,
)
from orders.services.translation.sku_check import merchant_warehouses, warehouse_skus_check

MERCHANT_FILTER = "merchant__id__exact"


class AliasCSVImportForm(forms.Form):
    merchant = forms.ModelChoiceField(queryset=Merchant.objects.all(), help_text="Whose aliases the file holds.")
    file = forms.FileField(
        label="CSV file",
        help_text="Columns cart_sku, warehouse_sku and optionally note (a header row is optional). "
        "A cart SKU that already has an alias gets the new warehouse SKU.",
    )

    def __init__(self, *args, admin_site: admin.AdminSite, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["merchant"].widget = KeyCheckedAutocompleteSelect(
            SKUAlias._meta.get_field("merchant"), admin_site, choices=self.fields["merchant"].choices
        )


class SKUAliasAdminForm(forms.ModelForm):
    """An alias whose warehouse SKU the merchant's warehouses do not list (as last read) is refused
    with the reason; `sku_note` says what the result message must add (a list read again, or the
    SKU not checked because no warehouse is connected)."""

    sku_note = ""

    class Meta:
        model = SKUAlias
        fields = ["merchant", "cart_sku", "warehouse_sku", "note"]

    def clean(self):
        cleaned = super().clean()
        merchant, warehouse_sku = cleaned.get("merchant"), cleaned.get("warehouse_sku")
        changed = self.instance.pk is None or {"merchant", "warehouse_sku"} & set(self.changed_data)
        if merchant is not None and warehouse_sku and changed:
            warehouses = merchant_warehouses(merchant_id=merchant.pk)
            check = warehouse_skus_check(warehouses=warehouses, skus=[warehouse_sku])
            if check.refused:
                self.add_error("warehouse_sku", f"Not saved: {check.reason(warehouse_sku)}")
            self.sku_note = check.note.strip()
        return cleaned


@admin.register(SKUAlias)
class SKUAliasAdmin(KeyCheckedAutocompleteMixin, AutocompleteFiltersMixin, admin.ModelAdmin):
    list_display = ["cart_sku", "warehouse_sku", "merchant", "note", "updated_at"]
    list_filter = [autocomplete_filter("merchant")]
    search_fields = ["cart_sku", "warehouse_sku"]
    list_select_related = ["merchant"]
    autocomplete_fields = ["merchant"]
    change_list_template = "admin/orders/skualias/change_list.html"
    form = SKUAliasAdminForm

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        what = f"SKU alias {obj.cart_sku} → {obj.warehouse_sku} {'changed' if change else 'added'}"
        release = aliases_saved(
            merchant_id=obj.merchant_id,
            cart_skus=[obj.cart_sku],
            what=f"{what} by {person_name(user=request.user)} in the admin",
            user=request.user,
        )
        text = f"{release.describe()} {form.sku_note}".strip()
        if text:
            level = messages.SUCCESS if release.released and not release.still_held else messages.WARNING
            self.message_user(request, text, level)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_csv_view), name="orders_skualias_import"),
            path("export/", wrap(self.export_csv_view), name="orders_skualias_export"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        merchant = _merchant_named(request.GET.get(MERCHANT_FILTER, ""))
        extra_context = {**(extra_context or {}), "csv_merchant": merchant}
        return super().changelist_view(request, extra_context=extra_context)

    def import_csv_view(self, request: HttpRequest) -> HttpResponse:
        """A merchant's aliases from a file, all or nothing; every bad line named on the page."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        initial = {"merchant": _merchant_named(request.GET.get("merchant", ""))}
        form = AliasCSVImportForm(
            request.POST or None, request.FILES or None, initial=initial, admin_site=self.admin_site
        )
        errors: list[str] = []
        if request.method == "POST" and form.is_valid():
            merchant = form.cleaned_data["merchant"]
            parsed = aliases_csv_parse(data=form.cleaned_data["file"].read())
            errors = parsed.errors
            if not errors:
                try:
                    result = aliases_csv_import(merchant=merchant, rows=parsed.rows, user=request.user)
                except ImportConflict as exc:
                    errors = exc.errors
                else:
                    return self._imported(request, merchant, result)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import SKU aliases from CSV",
            "form": form,
            "media": self.media + form.media,
            "errors": errors[:MAX_ERRORS_SHOWN],
            "more_errors": max(len(errors) - MAX_ERRORS_SHOWN, 0),
        }
        return TemplateResponse(request, "admin/orders/skualias/import.html", context)

    def _imported(self, request: HttpRequest, merchant: Merchant, result: AliasImport) -> HttpResponse:
        text = f"{merchant}: imported {result.describe()}"
        LogEntry.objects.log_actions(
            user_id=request.user.pk,
            queryset=[merchant],
            action_flag=CHANGE,
            change_message=f"SKU aliases imported from a CSV file: {text}",
            single_object=True,
        )
        level = messages.WARNING if result.release.still_held or result.note else messages.SUCCESS
        self.message_user(request, text, level)
        changelist = reverse("admin:orders_skualias_changelist")
        return HttpResponseRedirect(f"{changelist}?{MERCHANT_FILTER}={merchant.pk}")

    def export_csv_view(self, request: HttpRequest) -> HttpResponse:
        """One merchant's aliases in the import's format, safe to open in a spreadsheet."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        merchant = _merchant_named(request.GET.get("merchant", ""))
        if merchant is None:
            self.message_user(
                request, "Nothing exported: choose one merchant (filter the list by merchant) first.", messages.ERROR
            )
            return HttpResponseRedirect(reverse("admin:orders_skualias_changelist"))
        response = HttpResponse(content_type="text/csv; charset=utf-8")
        filename = f"sku-aliases-{merchant.slug}-{timezone.localdate():%Y%m%d}.csv"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        aliases = SKUAlias.objects.filter(merchant=merchant).order_by("cart_sku").iterator()
        aliases_csv_write(aliases=aliases, stream=response)
        return response


def _merchant_named(value: str) -> Merchant | None:
    """The merchant whose key `value` is, or None (empty, not a number, no such merchant)."""
    return Merchant.objects.filter(pk=int(value)).first() if value.isdigit() else None


@admin.register(ShippingMethodMap)
class ShippingMethodMapAdmin(AutocompleteFiltersMixin, admin.ModelAdmin):
    list_display = ["cart_method", "ship_code", "warehouse"]
    list_filter = [autocomplete_filter("warehouse")]
    search_fields = ["cart_method", "ship_code"]
    list_select_related = ["warehouse__merchant"]

    def save_model(self, request, obj, form, change):
        """Saved on its own page: Django's History keeps the mapping's change; the warehouse's history
        says it too, and each order it checks again names the person."""
        super().save_model(request, obj, form, change)
        what = f"shipping method '{obj.cart_method}' mapped to '{obj.ship_code}'"
        connection_change_record(
            connection=obj.warehouse,
            user=request.user,
            message=f"{'Changed' if change else 'Added'} in the admin: {what}",
        )
        released = shipping_mapping_saved(
            warehouse_id=obj.warehouse_id,
            cart_method=obj.cart_method,
            what=f"{what} by {person_name(user=request.user)} in the admin",
            user=request.user,
        )["released"]
        if released:
            self.message_user(request, f"{released} held order(s) released and ready to send.", messages.SUCCESS)

    def delete_model(self, request, obj):
        message = f"Deleted in the admin: shipping method '{obj.cart_method}' mapped to '{obj.ship_code}'"
        connection_change_record(connection=obj.warehouse, user=request.user, message=message)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset.select_related("warehouse"):
            message = f"Deleted in the admin: shipping method '{obj.cart_method}' mapped to '{obj.ship_code}'"
            connection_change_record(connection=obj.warehouse, user=request.user, message=message)
        super().delete_queryset(request, queryset)


class ShippingMethodMapInline(admin.TabularInline):
    model = ShippingMethodMap
    extra = 1


class CarrierNameMapInline(admin.TabularInline):
    model = CarrierNameMap
    extra = 1
    verbose_name_plural = "carrier names (warehouse code → name the cart shows; common carriers have defaults)"
