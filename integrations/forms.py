"""The connection form: one field per credential and setting the chosen platform declares.

Secrets are write-only: the form never shows a stored secret back, only whether one is set;
leaving a secret blank keeps the stored one.
"""

from __future__ import annotations

import copy

from django import forms

from integrations.connectors.base import ConfigField, Connector
from integrations.connectors.registry import CART_CONNECTORS, WAREHOUSE_CONNECTORS
from integrations.models import CartConnection, Connection, WMSConnection
from integrations.outbound import api_base_url_policy, public_only, typed_address_refusal
from integrations.zones import TIME_ZONE_HELP, time_zone_names

SECRET_KEPT = "Set — leave blank to keep the stored value."


def _form_field(spec: ConfigField, connector: type[Connector], *, show_platform: bool) -> forms.Field:
    label = f"{spec.label} ({connector.label})" if show_platform else spec.label
    if spec.switch:  # an unconfirmed call: off unless ticked, the reason in its help text
        return forms.BooleanField(label=label, required=False, help_text=spec.help_text)
    if spec.secret:
        widget = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
        return forms.CharField(label=label, required=False, help_text=spec.help_text, widget=widget, strip=True)
    return forms.CharField(label=label, required=False, help_text=spec.help_text, strip=True)


class ConnectionForm(forms.ModelForm):
    """Base for the cart and warehouse connection forms in the admin and the merchant pages."""

    connectors: dict[str, type[Connector]] = {}
    api_base_url = forms.URLField(
        label="API base URL",
        required=False,
        assume_scheme="https",
        help_text="Leave blank for the platform's real API. Set by staff only: a regional or test host (a public "
        "https address), or a sandbox while SANDBOX_ENABLED is on.",
    )

    class Meta:
        fields = [
            "merchant",
            "name",
            "platform",
            "active",
            "api_base_url",
        ]

    # name -> (platform key, field spec, "credential" | "setting"), filled by for_platform()
    config_fields: dict[str, tuple[str, ConfigField, str]] = {}

    @classmethod
    def for_platform(cls, platform: str | None) -> type[ConnectionForm]:
        """This form with one declared field per credential and setting of the platform (all
        platforms of the role when it is not chosen yet), so the admin renders them."""
        candidates = {platform: cls.connectors[platform]} if platform in cls.connectors else cls.connectors
        attrs: dict = {"config_fields": {}}
        for key, connector in candidates.items():
            for kind, specs in (("credential", connector.credential_fields), ("setting", connector.setting_fields)):
                for spec in specs:
                    name = f"{kind}__{key}__{spec.name}"
                    attrs[name] = _form_field(spec, connector, show_platform=len(candidates) > 1)
                    attrs["config_fields"][name] = (key, spec, kind)
        return type(cls.__name__, (cls,), attrs)

    @classmethod
    def config_field_names(cls, platform: str | None) -> list[str]:
        return list(cls.for_platform(platform).config_fields)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.config_fields:  # used as it is: add the instance's platform fields here
            specialised = type(self).for_platform(self.instance.platform if self.instance.pk else None)
            self.config_fields = specialised.config_fields
            for name in self.config_fields:
                self.fields[name] = copy.deepcopy(specialised.base_fields[name])
        stored_credentials = self.instance.get_credentials() if self.instance.pk else {}
        stored_settings = self.instance.settings or {}
        for name, (_key, spec, kind) in self.config_fields.items():
            field = self.fields[name]
            if kind == "setting":
                field.initial = stored_settings.get(spec.name, spec.default)
            elif spec.secret:
                if stored_credentials.get(spec.name):
                    field.help_text = f"{SECRET_KEPT} {spec.help_text}".strip()
            else:
                field.initial = stored_credentials.get(spec.name, "")

    def clean(self) -> dict:
        data = super().clean()
        platform = data.get("platform") or self.instance.platform
        if platform not in self.connectors:
            return data
        credentials, settings = self.instance.get_credentials() if self.instance.pk else {}, {}
        for name, (key, spec, kind) in self.config_fields.items():
            if key == platform and data.get(name):
                (credentials if kind == "credential" else settings)[spec.name] = data[name]
        connector = self.connectors[platform]
        base_url = data.get("api_base_url", "") if "api_base_url" in self.fields else self.instance.api_base_url
        for spec in connector.missing_configuration(credentials, settings, base_url or ""):
            kind = "credential" if spec in connector.credential_fields else "setting"
            name = f"{kind}__{platform}__{spec.name}"  # not on a form built for another platform
            self.add_error(name if name in self.fields else None, f"{connector.label} needs {spec.label}.")
        self._check_typed_addresses(platform)
        return data

    def clean_api_base_url(self) -> str:
        """Staff's override of the platform's address: public https, or a sandbox while the sandbox
        tooling may be used (`integrations.outbound.api_base_url_policy`)."""
        url = self.cleaned_data.get("api_base_url") or ""
        if url and "api_base_url" in self.changed_data:
            refusal = typed_address_refusal(url, api_base_url_policy(self.instance))
            if refusal:
                raise forms.ValidationError(refusal)
        return url

    def _check_typed_addresses(self, platform: str) -> None:
        """The platform's own address fields (Bergen's Account Web Address), whoever types them:
        public https only, as they are called when no API base URL is set."""
        for name, (key, spec, _kind) in self.config_fields.items():
            value = self.cleaned_data.get(name)
            if key == platform and spec.address and value and name in self.changed_data:
                refusal = typed_address_refusal(value, public_only())
                if refusal:
                    self.add_error(name, refusal)

    @property
    def account_fields_changed(self) -> bool:
        """Whether what names the platform account was edited (platform, address, a credential or
        setting; a switch that turns a call on or off names no account)."""
        fields = [name for name, (_key, spec, _kind) in self.config_fields.items() if not spec.switch]
        return any(name in self.changed_data for name in ("platform", "api_base_url", *fields))

    def save(self, commit: bool = True) -> Connection:
        instance = super().save(commit=False)
        platform = instance.platform
        credentials, settings = {}, dict(instance.settings or {})
        for name, (key, spec, kind) in self.config_fields.items():
            if key != platform:
                continue
            value = self.cleaned_data.get(name, "")
            if kind == "credential":
                credentials[spec.name] = value
            else:
                settings[spec.name] = value
        connector = self.connectors.get(platform)
        if connector is not None:
            instance.set_credentials(connector.credentials_after_edit(instance.get_credentials(), credentials))
        instance.settings = settings
        # A person acted on the connection: scheduled runs may go on at once (as connection_unblock does).
        instance.blocked_reason, instance.next_attempt_at = "", None
        instance.consecutive_failures, instance.failing_since, instance.unhealthy = 0, None, False
        if commit:
            instance.save()
            self.save_m2m()
        return instance


class CartConnectionForm(ConnectionForm):
    connectors = CART_CONNECTORS

    class Meta(ConnectionForm.Meta):
        model = CartConnection
        fields = ConnectionForm.Meta.fields + [
            "warehouse",
            "earliest_order_date",
            "skip_test_orders",
            "hold_minutes",
            "order_watermark",
        ]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if "hold_minutes" in self.fields:
            self.fields["hold_minutes"].required = False  # left empty: no window

    def clean_hold_minutes(self) -> int:
        return self.cleaned_data.get("hold_minutes") or 0


def time_zone_choices() -> list[tuple[str, str]]:
    return [("", "Not known yet"), *((name, name.replace("_", " ")) for name in sorted(time_zone_names()))]


class WMSConnectionForm(ConnectionForm):
    connectors = WAREHOUSE_CONNECTORS
    # A list to choose from: a name typed by hand would be one more way to get the zone wrong.
    time_zone = forms.ChoiceField(
        label="Warehouse time zone", choices=time_zone_choices, required=False, help_text=TIME_ZONE_HELP
    )

    class Meta(ConnectionForm.Meta):
        model = WMSConnection
        fields = ConnectionForm.Meta.fields + [
            "cust_ref_max_length",
            "cust_ref_charset",
            "cust_ref_prefix",
            "default_ship_code",
            "tracking_mode",
            "time_zone",
            "daily_cutoff",
            "shipment_watermark",
        ]
        widgets = {"daily_cutoff": forms.TimeInput(attrs={"type": "time"}, format="%H:%M")}
