"""Forms of the merchant pages. The merchant never comes from the form: views set it from
`request.merchant`, and every choice list is built through `scoped()`."""

from __future__ import annotations

from django import forms
from django.utils import timezone

from integrations.connectors.base import OAuthConnector
from integrations.forms import CartConnectionForm, WMSConnectionForm
from integrations.models import CartConnection, Merchant, WMSConnection
from orders.models import OrderStatus, ShippingMethodMap, SKUAlias
from orders.services.translation.sku_check import merchant_warehouses, warehouse_skus_check
from portal.scope import scoped


class ConnectionChoiceField(forms.ModelChoiceField):
    """A connection by its platform and name (the merchant's own name would only repeat)."""

    def label_from_instance(self, obj) -> str:
        return f"{obj.platform_label} ({obj.name})" if obj.name else obj.platform_label


# Credentials the access grant fills in and people never type (the access token can be pasted).
GRANT_ONLY_CREDENTIALS = {"refresh_token", "expires_at"}


class MerchantConnectionMixin:
    """The admin's connection form, cut down for a merchant: no merchant, platform or watermarks,
    no API base URL (a platform's address is its own; only staff point a connection elsewhere, and
    a merchant gives an address only where the platform's setup asks for one), secrets shown as
    "set", and (for OAuth platforms) savable without a token when the merchant goes on to "Grant us
    API access"."""

    api_base_url = None  # removes the admin form's field: a posted value is ignored

    def __init__(self, *args, merchant: Merchant, saving_for_grant: bool = False, **kwargs) -> None:
        self.merchant = merchant
        self.saving_for_grant = saving_for_grant
        super().__init__(*args, **kwargs)
        connector = self.connectors.get(self.instance.platform)
        self.oauth = connector is not None and issubclass(connector, OAuthConnector)
        self.config_fields = dict(self.config_fields)
        stored = self.instance.get_credentials() if self.instance.pk else {}
        for name, (_key, spec, kind) in list(self.config_fields.items()):
            if kind == "credential" and self.oauth and spec.name in GRANT_ONLY_CREDENTIALS:
                del self.fields[name], self.config_fields[name]
            elif spec.secret and stored.get(spec.name):
                self.fields[name].widget.attrs["placeholder"] = "•••••••• set — type a new value to replace it"

    def sections(self) -> dict[str, list[forms.BoundField]]:
        """The fields in the order the page shows them: the platform's own, ours, advanced."""
        platform = [self[name] for name in self.config_fields if name not in ADVANCED_FIELDS]
        ours = [self[name] for name in self._meta.fields if name not in ADVANCED_FIELDS]
        advanced = [self[name] for name in self._meta.fields if name in ADVANCED_FIELDS]
        return {"platform": platform, "ours": ours, "advanced": advanced}

    def clean(self) -> dict:
        data = super().clean()
        if self.oauth and self.saving_for_grant:
            # The grant that follows fills in the token.
            for name, (_key, spec, kind) in self.config_fields.items():
                if kind == "credential" and spec.name == "access_token":
                    self._errors.pop(name, None)
        return data

    def save(self, commit: bool = True):
        instance = super().save(commit=False)
        if self.oauth and self.connectors[instance.platform].needs_grant(instance.get_credentials()):
            instance.needs_new_grant = True  # saved to grant access next: says so until granted
        if commit:
            instance.save()
        return instance


class MerchantCartForm(MerchantConnectionMixin, CartConnectionForm):
    class Meta(CartConnectionForm.Meta):
        fields = [
            "name",
            "active",
            "warehouse",
            "earliest_order_date",
            "skip_test_orders",
            "hold_minutes",
            "notify_customer_on_shipment",
            "inventory_sync_enabled",
            "inventory_buffer",
            "inventory_min_level",
        ]
        widgets = {"earliest_order_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")}
        field_classes = {"warehouse": ConnectionChoiceField}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        warehouse = self.fields["warehouse"]
        warehouse.queryset = scoped(WMSConnection, self.merchant)
        warehouse.empty_label = "Your only active warehouse (choose one if you have several)"
        if not self.instance.pk and not self.initial.get("earliest_order_date"):
            self.initial["earliest_order_date"] = timezone.localdate()


class MerchantWarehouseForm(MerchantConnectionMixin, WMSConnectionForm):
    class Meta(WMSConnectionForm.Meta):
        fields = [
            "name",
            "active",
            "default_ship_code",
            "tracking_mode",
            "time_zone",
            "daily_cutoff",
            "cust_ref_max_length",
            "cust_ref_charset",
            "cust_ref_prefix",
        ]


# The fields a person rarely changes: shown under "Advanced".
ADVANCED_FIELDS = {"cust_ref_max_length", "cust_ref_charset", "cust_ref_prefix"}


def connection_form_class(kind: str, platform: str) -> type[forms.ModelForm]:
    base = MerchantCartForm if kind == "cart" else MerchantWarehouseForm
    return base.for_platform(platform)


class PlatformChoiceForm(forms.Form):
    platform = forms.ChoiceField(widget=forms.RadioSelect)

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["platform"].choices = choices


class ShippingMethodForm(forms.ModelForm):
    class Meta:
        model = ShippingMethodMap
        fields = ["cart_method", "ship_code"]

    def __init__(self, *args, warehouse: WMSConnection, **kwargs) -> None:
        self.warehouse = warehouse
        super().__init__(*args, **kwargs)

    def clean_cart_method(self) -> str:
        method = self.cleaned_data["cart_method"].strip()
        taken = scoped(ShippingMethodMap, self.warehouse.merchant).filter(
            warehouse=self.warehouse, cart_method__iexact=method
        )
        if taken.exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError("This shipping method already has a mapping on this warehouse.")
        return method


class SKUAliasForm(forms.ModelForm):
    class Meta:
        model = SKUAlias
        fields = ["cart_sku", "warehouse_sku", "note"]
        help_texts = {
            "cart_sku": "The SKU as your cart sends it on orders (matched exactly).",
            "warehouse_sku": "The SKU your warehouse knows the item by.",
            "note": "Optional, for people: why this alias exists.",
        }

    def __init__(self, *args, merchant: Merchant, **kwargs) -> None:
        self.merchant = merchant
        self.sku_note = ""  # for the result message: a list read again, or the SKU not checked
        super().__init__(*args, **kwargs)

    def clean_warehouse_sku(self) -> str:
        """Refused when none of the merchant's warehouses lists it (as last read)."""
        warehouse_sku = self.cleaned_data["warehouse_sku"]
        if self.instance.pk is None or "warehouse_sku" in self.changed_data:
            warehouses = merchant_warehouses(merchant_id=self.merchant.pk)
            check = warehouse_skus_check(warehouses=warehouses, skus=[warehouse_sku])
            self.sku_note = check.note.strip()
            if check.refused:
                raise forms.ValidationError(f"Not saved: {check.reason(warehouse_sku)}")
        return warehouse_sku

    def clean_cart_sku(self) -> str:
        cart_sku = self.cleaned_data["cart_sku"]
        taken = scoped(SKUAlias, self.merchant).filter(cart_sku=cart_sku).exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("This cart SKU already has an alias: edit that one instead.")
        return cart_sku


class AliasImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns cart_sku, warehouse_sku and optionally note (a header row is optional). "
        "Existing aliases for the same cart SKU are updated.",
    )


class OrderFilterForm(forms.Form):
    q = forms.CharField(label="Search", required=False, help_text="Order number, reference or SKU")
    status = forms.ChoiceField(required=False, choices=[("", "any status"), *OrderStatus.choices])
    connection = ConnectionChoiceField(
        label="Cart", required=False, queryset=CartConnection.objects.none(), empty_label="every cart"
    )

    def __init__(self, *args, merchant: Merchant, **kwargs) -> None:
        super().__init__(*args, label_suffix="", **kwargs)
        self.fields["connection"].queryset = scoped(CartConnection, merchant)


class TestOrderForm(forms.Form):
    cart_connection = ConnectionChoiceField(
        label="Cart", queryset=CartConnection.objects.none(), help_text="The test order is sent as if from this cart."
    )
    ship_method = forms.CharField(
        label="Shipping method",
        max_length=200,
        required=False,
        help_text="As your cart names it, e.g. Standard: checks its mapping to a warehouse code.",
        widget=forms.TextInput(attrs={"list": "ship-methods"}),
    )
    ship_name = forms.CharField(label="Ship to name", max_length=200, initial="TEST ORDER do not ship")
    ship_company = forms.CharField(label="Company", max_length=200, required=False)
    ship_address_1 = forms.CharField(label="Address", max_length=255, initial="1 Test Street")
    ship_city = forms.CharField(label="City", max_length=120, initial="Newark")
    ship_state = forms.CharField(label="State", max_length=120, required=False, initial="NJ")
    ship_zip = forms.CharField(label="ZIP", max_length=40, initial="07102")
    ship_country = forms.CharField(label="Country", max_length=60, initial="US", help_text="ISO code, e.g. US")

    def __init__(self, *args, merchant: Merchant, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        carts = scoped(CartConnection, merchant)
        self.fields["cart_connection"].queryset = carts
        if len(carts) == 1:
            self.fields["cart_connection"].initial = carts[0].pk
        self.fields["ship_company"].initial = merchant.name


class TestOrderLineForm(forms.Form):
    sku = forms.CharField(
        label="Cart SKU", max_length=200, required=False, widget=forms.TextInput(attrs={"aria-label": "Cart SKU"})
    )
    quantity = forms.IntegerField(
        min_value=1,
        max_value=9999,
        initial=1,
        required=False,
        widget=forms.NumberInput(attrs={"aria-label": "Quantity"}),
    )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("sku") and not data.get("quantity"):
            self.add_error("quantity", "How many?")
        return data


class BaseTestOrderLineFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        super().clean()
        if not any(form.cleaned_data.get("sku") for form in self.forms if form.is_valid()):
            raise forms.ValidationError("Give at least one SKU.")


TestOrderLineFormSet = forms.formset_factory(TestOrderLineForm, formset=BaseTestOrderLineFormSet, extra=3, max_num=10)
