from __future__ import annotations

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.exceptions import NotRegistered
from django.db.models import Q
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.timesince import timesince, timeuntil

from config.admin_filters import AutocompleteFiltersMixin, autocomplete_filter
from config.admin_guard import KeyCheckedAutocompleteMixin
from integrations import admin_webhooks  # noqa: F401 - registers the subscriptions page
from integrations.accounts import connection_account_refresh
from integrations.admin_actions import (
    queue_job,
    sync_connections,
    test_connections,
    unblock_connections,
    warn_shared_account,
)
from integrations.connectors.base import OAuthConnector
from integrations.forms import CartConnectionForm, WMSConnectionForm
from integrations.models import CartConnection, Merchant, WMSConnection
from integrations.services import connector_class_for
from integrations.webhooks import webhooks_status
from integrations.zones import TIME_ZONE_UNSET_NOTE
from orders.admin_mapping import CarrierNameMapInline, ShippingMethodMapInline
from orders.services.delivery.holds import shipping_mapping_saved, warehouse_settings_saved
from sync.jobs import job_active
from sync.models import Job


def merchant_scoped_autocomplete(site: admin.AdminSite, request: HttpRequest) -> bool:
    """Whether this request is the admin's autocomplete of a field its model's admin lists in
    `merchant_scoped_autocompletes`: its choices are then the rows of the merchant it names."""
    match = request.resolver_match
    if match is None or match.url_name != "autocomplete":
        return False
    try:
        source_admin = site.get_model_admin(apps.get_model(request.GET["app_label"], request.GET["model_name"]))
    except (KeyError, LookupError, NotRegistered):
        return False
    return request.GET.get("field_name") in getattr(source_admin, "merchant_scoped_autocompletes", ())


class CartConnectionInline(admin.TabularInline):
    model = CartConnection
    fields = ["platform", "name", "active", "warehouse", "last_sync_at", "last_sync_status", "link"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def link(self, obj):
        return format_html('<a href="{}">open</a>', reverse("admin:integrations_cartconnection_change", args=[obj.pk]))

    def has_add_permission(self, request, obj=None):
        return False


class WMSConnectionInline(CartConnectionInline):
    model = WMSConnection
    fields = ["platform", "name", "active", "last_sync_at", "last_sync_status", "link"]
    readonly_fields = fields

    def link(self, obj):
        return format_html('<a href="{}">open</a>', reverse("admin:integrations_wmsconnection_change", args=[obj.pk]))


@admin.register(Merchant)
class MerchantAdmin(AutocompleteFiltersMixin, admin.ModelAdmin):
    list_display = ["state", "name", "slug", "contact_email", "created_at"]
    list_display_links = ["name"]
    list_filter = ["active"]
    search_fields = ["name", "slug", "contact_email"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [CartConnectionInline, WMSConnectionInline]

    @admin.display(description="state", ordering="active")
    def state(self, obj: Merchant) -> str:
        return "active" if obj.active else "inactive"


# What makes a connection need a person (the dashboard's "failing" counts link here).
NEEDS_A_LOOK = ~Q(blocked_reason="") | Q(unhealthy=True) | Q(consecutive_failures__gt=0) | Q(needs_new_grant=True)


class HealthFilter(admin.SimpleListFilter):
    title = "health"
    parameter_name = "health"

    def lookups(self, request, model_admin):
        return [("attention", "needs a look (failing, blocked or a new grant)"), ("healthy", "healthy")]

    def queryset(self, request, queryset):
        if self.value() == "attention":
            return queryset.filter(NEEDS_A_LOOK)
        if self.value() == "healthy":
            return queryset.exclude(NEEDS_A_LOOK)
        return queryset


class ConnectionAdmin(KeyCheckedAutocompleteMixin, AutocompleteFiltersMixin, admin.ModelAdmin):
    change_form_template = "admin/integrations/connection_change_form.html"
    # Health first (what support looks at), in words, then the rest.
    list_display = [
        "health",
        "__str__",
        "last_sync_status",
        "last_success",
        "next_attempt",
        "last_test_status",
        "last_sync_at",
    ]
    list_display_links = ["__str__"]
    list_filter = [HealthFilter, "platform", "active", "last_sync_status", autocomplete_filter("merchant")]
    list_select_related = ["merchant"]
    search_fields = ["merchant__name", "merchant__slug", "name", "=platform_account"]
    actions = [test_connections, unblock_connections]
    readonly_fields = [
        "credentials_status",
        "sandbox_tooling",
        "platform_account",
        "needs_new_grant",
        "last_test_at",
        "last_test_ok",
        "last_test_message",
        "last_sync_at",
        "last_sync_status",
        "last_sync_message",
        "last_success_at",
        "consecutive_failures",
        "failing_since",
        "unhealthy",
        "blocked_reason",
        "next_attempt_at",
    ]

    health_fields = [
        "last_success_at",
        "consecutive_failures",
        "failing_since",
        "unhealthy",
        "blocked_reason",
        "next_attempt_at",
    ]
    schedule_fields: list[str] = []

    def get_fieldsets(self, request, obj=None):
        """The connection's own fields, then its schedule (editable) and its health (read only)."""
        fields = [f for _, options in super().get_fieldsets(request, obj) for f in options["fields"]]
        grouped = {*self.health_fields, *self.schedule_fields}
        fieldsets = [(None, {"fields": [f for f in fields if f not in grouped]})]
        if self.schedule_fields:
            fieldsets.append(("Schedule and alerts", {"fields": self.schedule_fields}))
        fieldsets.append(("Health and retries", {"fields": self.health_fields}))
        return fieldsets

    @admin.display(description="health", ordering="consecutive_failures")
    def health(self, obj) -> str:
        """In words, worst first; a blocked connection's reason clipped, the whole of it on hover."""
        if obj.blocked_reason:
            text, state = f"blocked: {Truncator(obj.blocked_reason).chars(60)}", "blocked"
        elif obj.unhealthy:
            text, state = f"unhealthy: {obj.consecutive_failures} failures in a row", "unhealthy"
        elif obj.consecutive_failures:
            text, state = f"failing: {obj.consecutive_failures} in a row", "failing"
        elif obj.needs_new_grant:
            text, state = "needs a new grant of API access", "failing"
        elif not obj.active:
            text, state = "inactive", "inactive"
        else:
            text, state = "healthy", "healthy"
        return format_html(
            '<span class="ob-status ob-status-{} ob-clip ob-clip-short" title="{}">{}</span>',
            state,
            obj.blocked_reason or text,
            text,
        )

    @admin.display(description="last success", ordering="last_success_at")
    def last_success(self, obj) -> str:
        return f"{timesince(obj.last_success_at)} ago" if obj.last_success_at else "never"

    @admin.display(description="next attempt", ordering="next_attempt_at")
    def next_attempt(self, obj) -> str:
        """When scheduled runs go on (backoff, a rate limit); a blocked connection waits for a person."""
        if obj.blocked_reason:
            return "when unblocked"
        if obj.next_attempt_at and obj.next_attempt_at > timezone.now():
            return f"in {timeuntil(obj.next_attempt_at)}"
        return "on schedule"

    @admin.display(description="credentials")
    def credentials_status(self, obj) -> str:
        if obj.credentials_unreadable:
            return "UNREADABLE: " + obj.UNREADABLE_CREDENTIALS
        names = sorted(obj.get_credentials()) if obj.pk else []
        return ", ".join(f"{n}: set" for n in names) or "none stored"

    @admin.display(description="last test")
    def last_test_status(self, obj) -> str:
        if obj.last_test_ok is None:
            return "never tested"
        return ("OK: " if obj.last_test_ok else "FAILED: ") + obj.last_test_message[:80]

    oauth_kind = ""
    # Autocompletes that offer only the rows of the merchant chosen on the page (merchant_scoped.js
    # forwards it); a row of another merchant is refused on save whatever the page sent.
    merchant_scoped_autocompletes: list[str] = []

    class Media:
        js = ["admin/js/jquery.init.js", "integrations/admin/merchant_scoped.js"]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        formfield = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if db_field.name in self.merchant_scoped_autocompletes:
            formfield.widget.attrs["data-merchant-scoped"] = "true"
        return formfield

    def get_search_results(self, request, queryset, search_term):
        """As an autocomplete's choices for a merchant-scoped field: only the rows of the merchant
        the request names, and none without one."""
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if merchant_scoped_autocomplete(self.admin_site, request):
            merchant = request.GET.get("merchant", "")
            queryset = queryset.filter(merchant_id=int(merchant)) if merchant.isdigit() else queryset.none()
        return queryset, may_have_duplicates

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        connection_account_refresh(obj, reconfigured=form.account_fields_changed)
        warn_shared_account(self, request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        # A platform chosen in the posted form brings its own fields, so a change of platform is
        # answered with the fields (and errors) of the new one.
        posted = request.POST.get("platform") if request.method == "POST" else None
        platform = posted if posted in self.form.connectors else (obj.platform if obj is not None else None)
        kwargs["form"] = self.form.for_platform(platform)
        return super().get_form(request, obj, change, **kwargs)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = dict(extra_context or {})
        connection = self.get_object(request, object_id)
        if connection is not None:
            try:
                oauth = issubclass(connector_class_for(connection=connection), OAuthConnector)
            except LookupError:
                oauth = False
            extra_context["oauth_kind"] = self.oauth_kind if oauth else ""
            extra_context["job"] = self._page_job(request, connection)
            extra_context["can_sync"] = isinstance(connection, CartConnection) and connection.active
        return super().change_view(request, object_id, form_url, extra_context)

    def _page_job(self, request: HttpRequest, connection) -> Job | None:
        """The job the page follows: `?job=` (of this connection), else its job still queued or running."""
        job_id = request.GET.get("job", "")
        field = "cart_connection" if isinstance(connection, CartConnection) else "warehouse"
        if job_id.isdigit() and (job := Job.objects.filter(pk=int(job_id), **{field: connection}).first()):
            return job
        return job_active(connection=connection)

    def get_urls(self):
        opts = self.model._meta
        return [
            path(
                "<int:pk>/test/",
                self.admin_site.admin_view(self.test_view),
                name=f"{opts.app_label}_{opts.model_name}_test",
            ),
            path(
                "<int:pk>/sync/",
                self.admin_site.admin_view(self.sync_view),
                name=f"{opts.app_label}_{opts.model_name}_sync",
            ),
        ] + super().get_urls()

    def _job_view(self, request: HttpRequest, pk: int, kind: str):
        connection = get_object_or_404(self.model, pk=pk)
        opts = self.model._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[pk])
        if request.method == "POST" and self.has_change_permission(request, connection):
            job = queue_job(self, request, connection, kind)
            url += f"?job={job.pk}"
        return HttpResponseRedirect(url)

    def test_view(self, request: HttpRequest, pk: int):
        return self._job_view(request, pk, Job.Kind.TEST_CONNECTION)

    def sync_view(self, request: HttpRequest, pk: int):
        return self._job_view(request, pk, Job.Kind.SYNC_ORDERS)


@admin.register(CartConnection)
class CartConnectionAdmin(ConnectionAdmin):
    form = CartConnectionForm
    oauth_kind = "cart"
    inlines = [CarrierNameMapInline]
    list_display = ConnectionAdmin.list_display + ["order_watermark"]
    actions = [sync_connections, *ConnectionAdmin.actions]
    readonly_fields = [*ConnectionAdmin.readonly_fields, "webhooks"]
    autocomplete_fields = ["merchant", "warehouse"]
    merchant_scoped_autocompletes = ["warehouse"]
    schedule_fields = [
        "orders_every_minutes",
        "shipments_every_minutes",
        "inventory_every_minutes",
        "stuck_after_hours",
        "alert_after_minutes",
        "notify_customer_on_shipment",
        "inventory_sync_enabled",
        "inventory_buffer",
        "inventory_min_level",
    ]

    @admin.display(description="webhooks")
    def webhooks(self, obj) -> str:
        """Live, or why not (polling only), from our rows and settings: no platform call."""
        return webhooks_status(connection=obj) if obj is not None and obj.pk else ""


@admin.register(WMSConnection)
class WMSConnectionAdmin(ConnectionAdmin):
    form = WMSConnectionForm
    oauth_kind = "warehouse"
    inlines = [ShippingMethodMapInline]
    autocomplete_fields = ["merchant"]
    readonly_fields = ConnectionAdmin.readonly_fields + ["time_zone_status"]

    def get_fieldsets(self, request, obj=None):
        """As every connection's, with what the time zone means for reading shipments under the field."""
        fieldsets = super().get_fieldsets(request, obj)
        fields = [f for f in fieldsets[0][1]["fields"] if f != "time_zone_status"]
        if "time_zone" in fields:
            fields.insert(fields.index("time_zone") + 1, "time_zone_status")
        return [(None, {"fields": fields}), *fieldsets[1:]]

    @admin.display(description="time zone status")
    def time_zone_status(self, obj) -> str:
        if obj is None or obj.time_zone_note:
            return TIME_ZONE_UNSET_NOTE
        return f"Set: dates without an offset are read in {obj.time_zone}, and tracking windows are written in it."

    def save_related(self, request, form, formsets, change):
        """The orders a saved shipping mapping was holding are checked first (their history names
        the mapping and the person), then the rest held on this warehouse (its settings)."""
        super().save_related(request, form, formsets, change)
        person, released = request.user.get_username(), 0
        for formset in formsets:
            for mapping in formset.new_objects + [obj for obj, _ in formset.changed_objects]:
                what = (
                    f"shipping method '{mapping.cart_method}' mapped to '{mapping.ship_code}' by {person} in the admin"
                )
                released += shipping_mapping_saved(
                    warehouse_id=form.instance.pk, cart_method=mapping.cart_method, what=what, user=request.user
                )["released"]
        released += warehouse_settings_saved(
            warehouse_id=form.instance.pk,
            what=f"warehouse settings changed by {person} in the admin",
            user=request.user,
        )["released"]
        if released:
            self.message_user(request, f"{released} held order(s) released and ready to send.", messages.SUCCESS)
