from __future__ import annotations

import json

from django.contrib import admin
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from config.admin_filters import AutocompleteFiltersMixin, autocomplete_filter
from orders import (
    admin_mapping,  # noqa: F401 - registers the mapping models' admin
    admin_runs,  # noqa: F401 - registers the sync runs' admin
)
from orders.admin_holds import OrderHoldAdminMixin, retry_and_report
from orders.admin_problems import (  # (its import registers the problems' admin)
    HistoryAdminMixin,
    reason_label,
)
from orders.dashboard import stuck_q
from orders.models import Order, OrderChange, OrderEvent, OrderLine, OrderStatus, Shipment, SkippedOrder
from orders.selectors import with_list_marks
from orders.services.holds_fix import SHIP_TO_FIELDS
from orders.services.tracking.push import shipments_resend
from orders.services.warehouse_side import order_warehouse_side_problems
from sync.send_now import orders_send_queue


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = ["line_no", "cart_sku", "warehouse_sku", "description", "quantity", "price"]
    readonly_fields = fields


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    verbose_name_plural = "history"
    fields = ["created_at", "from_status", "to_status", "code", "message", "user"]
    readonly_fields = fields


class OrderChangeInline(ReadOnlyInline):
    model = OrderChange
    verbose_name_plural = "changes at the cart after it was sent"
    fields = ["created_at", "kind", "status", "what", "result", "attempts", "resolved_at"]
    readonly_fields = fields


class ShipmentInline(ReadOnlyInline):
    model = Shipment
    fields = [
        "warehouse_shipment_id",
        "carrier",
        "service",
        "tracking",
        "lines_shipped",
        "shipped_at",
        "push_status",
        "cart_accepted_at",
        "next_push_at",
        "last_push_error",
    ]
    readonly_fields = fields

    @admin.display(description="tracking")
    def tracking(self, obj: Shipment) -> str:
        return tracking_links(obj)

    @admin.display(description="lines")
    def lines_shipped(self, obj: Shipment) -> str:
        return shipment_lines_text(obj)


def tracking_links(obj: Shipment) -> str:
    if not obj.tracking_numbers:
        return "—"
    if obj.tracking_url:
        return format_html_join(
            ", ",
            '<a href="{}" target="_blank" rel="noopener">{}</a>',
            ((obj.tracking_url, n) for n in obj.tracking_numbers),
        )
    return ", ".join(obj.tracking_numbers)


def shipment_lines_text(obj: Shipment) -> str:
    if not obj.lines:
        return "the whole order"
    return ", ".join(f"{line.get('quantity')} × {line.get('sku')}" for line in obj.lines)


@admin.action(description="Retry: re-check held orders, then send what is ready (in the worker)")
def retry_orders(modeladmin, request, queryset):
    """Held orders re-checked here (no platform called), the ready ones sent by the worker."""
    retry_and_report(modeladmin, request, list(queryset.values_list("pk", flat=True)))


@admin.action(description="Send now: re-check and send in the worker, with a summary")
def send_now(modeladmin, request, queryset):
    """One job per merchant (each followed on its page); the service is the one the merchant pages use."""
    jobs = orders_send_queue(orders=queryset.order_by("pk"), user=request.user)
    for job in jobs:
        url = reverse("admin:sync_job_change", args=[job.pk])
        text = job.summary if job.finished else f"{len(job.order_ids)} order(s) queued for the worker"
        modeladmin.message_user(request, format_html('{}: <a href="{}">follow it</a>.', text, url))


class StuckFilter(admin.SimpleListFilter):
    """Orders at the warehouse for longer than their cart connection's `stuck_after_hours` (the
    dashboard's "stuck" counts link here)."""

    title = "stuck at the warehouse"
    parameter_name = "stuck"

    def lookups(self, request, model_admin):
        return [("1", "stuck (no parcel in time)")]

    def queryset(self, request, queryset):
        return queryset.filter(stuck_q(now=timezone.now())) if self.value() == "1" else queryset


def clipped(text: str, width: str = "ob-clip-short") -> str:
    """A list cell's text on one line, cut to fit, the whole of it on hover."""
    return format_html('<span class="ob-clip {}" title="{}">{}</span>', width, text, text)


def connection_label(connection) -> str:
    """A connection in a list where its merchant has its own column: its platform and name."""
    if connection is None:
        return "—"
    return connection.platform_label + (f" ({connection.name})" if connection.name else "")


@admin.register(Order)
class OrderAdmin(OrderHoldAdminMixin, AutocompleteFiltersMixin, admin.ModelAdmin):
    # Status first (what support reads), then which order; one line a row at 1366 px.
    list_display = ["status_display", "order", "merchant_and_cart", "reference", "ordered"]
    list_display_links = ["order"]
    list_filter = [
        "status",
        "hold_code",
        StuckFilter,
        "partially_shipped",
        autocomplete_filter("merchant"),
        autocomplete_filter("cart_connection", "cart connection"),
        autocomplete_filter("warehouse"),
        "is_test",
    ]
    list_select_related = ["merchant", "cart_connection__merchant"]
    search_fields = [
        "order_number",
        "cust_ref",
        "cust_po_no",
        "cart_order_id",
        "=lines__cart_sku",
        "=lines__warehouse_sku",
    ]
    date_hierarchy = "created_at"
    actions = [retry_orders, send_now]
    inlines = [OrderLineInline, OrderChangeInline, ShipmentInline, OrderEventInline]
    list_per_page = 50
    show_full_result_count = False
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "merchant",
                    "cart_connection",
                    "warehouse",
                    "status",
                    "warehouse_side",
                    "hold_code",
                    "hold_reason",
                ]
            },
        ),
        (
            "Order",
            {
                "fields": [
                    "order_number",
                    "cart_order_id",
                    "cust_po_no",
                    "cust_ref",
                    "warehouse_account",
                    "warehouse_order_id",
                    "is_test",
                    "cart_status",
                    "ordered_at",
                    "cart_modified_at",
                    "customer_email",
                ]
            },
        ),
        (
            "Ship to",
            {"fields": [*SHIP_TO_FIELDS, "orig_ship_code", "ship_code"]},
        ),
        ("Warehouse payload", {"fields": ["warehouse_payload_pretty"]}),
        (
            "Delivery",
            {
                "fields": [
                    "delivery_attempts",
                    "delivery_uncertain",
                    "next_attempt_at",
                    "last_error",
                    "delivered_at",
                    "partially_shipped",
                ]
            },
        ),
        ("As the cart sent it", {"classes": ["collapse"], "fields": ["cart_payload_pretty"]}),
    ]

    def get_readonly_fields(self, request, obj=None):
        return [f for fs in self.fieldsets for f in fs[1]["fields"]]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # a deleted order would be imported and shipped again

    def get_queryset(self, request):
        return with_list_marks(orders=super().get_queryset(request))

    @admin.display(description="status", ordering="status")
    def status_display(self, obj: Order) -> str:
        """The status in words (a hold by its reason, clipped, with what to do on hover), then what
        the list marks: a hold window, a change to pass on, a change the warehouse did not take."""
        return format_html("{}{}", self._status_words(obj), self._marks(obj))

    def _status_words(self, obj: Order) -> str:
        if obj.status == OrderStatus.ERROR:
            return format_html(
                '<span class="ob-status ob-status-held ob-clip ob-clip-short" title="{}">held: {}</span>',
                obj.hold_reason or "no reason recorded",
                reason_label(obj.hold_code or "held"),
            )
        if obj.status == OrderStatus.AT_WMS and obj.partially_shipped:
            return "at warehouse, partially shipped"
        return obj.get_status_display()

    def _marks(self, obj: Order) -> str:
        marks = []  # (class, hover, words)
        if getattr(obj, "in_hold_window", False):
            until = timezone.localtime(obj.hold_until)
            marks.append(("ob-quiet", f"Sent after {until:%Y-%m-%d %H:%M}", f"hold window until {until:%H:%M}"))
        if getattr(obj, "change_pending", False):
            marks.append(("ob-status-partial", "Changed at the cart: the next sync passes it on", "change to pass on"))
        if getattr(obj, "change_not_applied", False):
            marks.append(("ob-status-held", "The warehouse may ship it as it was: see the order", "change not applied"))
        return format_html_join("", ' · <span class="ob-status {}" title="{}">{}</span>', marks)

    @admin.display(description="changed at the warehouse")
    def warehouse_side(self, obj: Order) -> str:
        """What the warehouse changed on its own (canceled, gone, shipped short), from the open problems."""
        problems = order_warehouse_side_problems(order=obj)
        if not problems:
            return "—"
        return format_html_join(mark_safe("<br>"), "<strong>{}</strong>", ((p.message,) for p in problems))

    @admin.display(description="order", ordering="order_number")
    def order(self, obj: Order) -> str:
        return f"#{obj.order_number}"

    @admin.display(description="merchant · cart", ordering="merchant__name")
    def merchant_and_cart(self, obj: Order) -> str:
        return clipped(f"{obj.merchant.name} · {connection_label(obj.cart_connection)}")

    @admin.display(description="cust_ref", ordering="cust_ref")
    def reference(self, obj: Order) -> str:
        return clipped(obj.cust_ref, "ob-clip-narrow") if obj.cust_ref else "—"

    @admin.display(description="ordered", ordering="ordered_at")
    def ordered(self, obj: Order) -> str:
        return date_format(timezone.localtime(obj.ordered_at), "M j, H:i") if obj.ordered_at else "—"

    @admin.display(description="translated warehouse payload")
    def warehouse_payload_pretty(self, obj: Order) -> str:
        return _pretty(obj.warehouse_payload)

    @admin.display(description="cart payload")
    def cart_payload_pretty(self, obj: Order) -> str:
        return _pretty(obj.cart_payload)


def _pretty(value) -> str:
    if value in (None, ""):
        return "—"
    return format_html("<pre style='white-space:pre-wrap'>{}</pre>", json.dumps(value, indent=2, default=str))


@admin.register(SkippedOrder)
class SkippedOrderAdmin(HistoryAdminMixin, AutocompleteFiltersMixin, admin.ModelAdmin):
    list_display = ["order_number", "cart_connection", "reason_short", "cart_status", "last_seen_at"]
    list_filter = ["reason_code", autocomplete_filter("cart_connection", "cart connection")]
    list_select_related = ["cart_connection__merchant"]
    search_fields = ["order_number", "cart_order_id"]
    readonly_fields = [f.name for f in SkippedOrder._meta.fields]

    @admin.display(description="why skipped", ordering="reason_code")
    def reason_short(self, obj: SkippedOrder) -> str:
        return format_html('<span class="ob-clip" title="{}">{}</span>', obj.reason, obj.reason or obj.reason_code)


@admin.action(description="Resend tracking to the cart (what it already has is not sent twice)")
def resend_tracking(modeladmin, request, queryset):
    count = shipments_resend(shipment_ids=list(queryset.values_list("pk", flat=True)))
    modeladmin.message_user(request, f"{count} shipment(s) will be pushed again by the next shipment sync.")


@admin.register(Shipment)
class ShipmentAdmin(HistoryAdminMixin, AutocompleteFiltersMixin, admin.ModelAdmin):
    list_display = ["push_status", "__str__", "order", "cust_ref", "warehouse", "shipped_at", "cart_accepted_at"]
    list_display_links = ["__str__"]
    list_filter = ["push_status", autocomplete_filter("warehouse"), "carrier"]
    list_select_related = ["order", "warehouse__merchant"]
    search_fields = ["cust_ref", "=warehouse_shipment_id", "order__order_number", "tracking_numbers"]
    date_hierarchy = "shipped_at"
    actions = [resend_tracking]
    readonly_fields = [f.name for f in Shipment._meta.fields] + ["tracking", "lines_shipped"]

    @admin.display(description="tracking")
    def tracking(self, obj: Shipment) -> str:
        return tracking_links(obj)

    @admin.display(description="lines")
    def lines_shipped(self, obj: Shipment) -> str:
        return shipment_lines_text(obj)
