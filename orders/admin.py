from __future__ import annotations

import json

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from orders import admin_mapping  # noqa: F401 - registers the mapping models' admin
from orders.admin_holds import OrderHoldAdminMixin, retry_reasons
from orders.admin_problems import rate_limited_note  # (its import registers the problems' admin)
from orders.models import Order, OrderEvent, OrderLine, OrderStatus, Shipment, SkippedOrder, SyncRun
from orders.services.delivery.holds import orders_accept_line_cancellation, orders_retry
from orders.services.records.history import order_event
from orders.services.tracking.push import shipments_resend
from sync.jobs import job_queue
from sync.models import Job


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


@admin.action(description="Retry: re-check held orders and send what is ready now")
def retry_orders(modeladmin, request, queryset):
    order_ids = list(queryset.values_list("pk", flat=True))
    for order in Order.objects.filter(pk__in=order_ids):
        order_event(
            order=order, message=f"Retry asked by {request.user.get_username()}.", code="retry_asked", user=request.user
        )
    counts = orders_retry(order_ids=order_ids)
    modeladmin.message_user(
        request,
        "{released} released, {still_held} still held, {delivered} delivered, {not_delivered} not delivered. ".format(
            **counts
        )
        + retry_reasons(order_ids)
        + rate_limited_note(counts),
        messages.SUCCESS if not counts["still_held"] and not counts["not_delivered"] else messages.WARNING,
    )


@admin.action(description="Send now: re-check and send in the worker, with a summary")
def send_now(modeladmin, request, queryset):
    """One job per merchant (each followed on its page); the service is the one the merchant pages use."""
    by_merchant: dict[int, list] = {}
    for order in queryset.order_by("pk"):
        by_merchant.setdefault(order.merchant_id, []).append(order)
    for orders in by_merchant.values():
        job = job_queue(kind=Job.Kind.SEND_ORDERS, orders=orders, user=request.user)
        job.refresh_from_db()
        url = reverse("admin:sync_job_change", args=[job.pk])
        text = job.summary if job.finished else f"{len(orders)} order(s) queued for the worker"
        modeladmin.message_user(request, format_html('{}: <a href="{}">follow it</a>.', text, url))


@admin.action(description="Send without the lines canceled at the cart")
def accept_line_cancellation(modeladmin, request, queryset):
    counts = orders_accept_line_cancellation(order_ids=queryset.values_list("pk", flat=True))
    modeladmin.message_user(
        request,
        "{released} released without their canceled lines (the next sync sends them), {still_held} still held.".format(
            **counts
        ),
    )


@admin.register(Order)
class OrderAdmin(OrderHoldAdminMixin, admin.ModelAdmin):
    list_display = [
        "order_number",
        "merchant",
        "cart_connection",
        "status_display",
        "cust_ref",
        "warehouse_order_id",
        "ordered_at",
        "created_at",
    ]
    list_filter = ["status", "hold_code", "partially_shipped", "merchant", "cart_connection", "warehouse", "is_test"]
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
    actions = [retry_orders, send_now, accept_line_cancellation]
    inlines = [OrderLineInline, ShipmentInline, OrderEventInline]
    list_per_page = 50
    show_full_result_count = False
    fieldsets = [
        (None, {"fields": ["merchant", "cart_connection", "warehouse", "status", "hold_code", "hold_reason"]}),
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
            {
                "fields": [
                    "ship_first_name",
                    "ship_last_name",
                    "ship_company",
                    "ship_address_1",
                    "ship_address_2",
                    "ship_address_3",
                    "ship_city",
                    "ship_state",
                    "ship_zip",
                    "ship_country",
                    "ship_phone",
                    "ship_e_mail",
                    "orig_ship_code",
                    "ship_code",
                ]
            },
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

    @admin.display(description="status", ordering="status")
    def status_display(self, obj: Order) -> str:
        if obj.status == OrderStatus.ERROR:
            return format_html('<span title="{}">held: {}</span>', obj.hold_reason, obj.get_hold_code_display())
        if obj.status == OrderStatus.AT_WMS and obj.partially_shipped:
            return "at warehouse, partially shipped"
        return obj.get_status_display()

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
class SkippedOrderAdmin(admin.ModelAdmin):
    list_display = ["order_number", "cart_connection", "reason_code", "reason", "cart_status", "last_seen_at"]
    list_filter = ["reason_code", "cart_connection"]
    list_select_related = ["cart_connection__merchant"]
    search_fields = ["order_number", "cart_order_id"]
    readonly_fields = [f.name for f in SkippedOrder._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(SyncRun)
class SyncRunAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "kind",
        "merchant",
        "cart_connection",
        "warehouse",
        "status",
        "failure_kind",
        "started_at",
        "duration",
        "verified",
        "unverified",
        "counts",
        "error_short",
    ]
    list_filter = ["kind", "status", "failure_kind", "merchant"]
    list_select_related = ["merchant", "cart_connection__merchant", "warehouse__merchant"]
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in SyncRun._meta.fields] + ["verified", "unverified"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="seconds")
    def duration(self, obj: SyncRun):
        seconds = obj.duration_seconds
        return "running" if seconds is None else f"{seconds:.1f}"

    @admin.display(description="error")
    def error_short(self, obj: SyncRun) -> str:
        return obj.error[:120]

    @admin.display(description="Verified")
    def verified(self, obj: SyncRun) -> int:
        """Writes the other side was read to show (0 for a run that counts none)."""
        return run_count(obj, "verified")

    @admin.display(description="Unverified")
    def unverified(self, obj: SyncRun) -> int:
        """Writes the other side did not show when read back, or that could not be read back."""
        return run_count(obj, "unverified")


def run_count(run: SyncRun, key: str) -> int:
    value = (run.counts or {}).get(key) if isinstance(run.counts, dict) else None
    return value if isinstance(value, int) else 0


@admin.action(description="Resend tracking to the cart (what it already has is not sent twice)")
def resend_tracking(modeladmin, request, queryset):
    count = shipments_resend(shipment_ids=list(queryset.values_list("pk", flat=True)))
    modeladmin.message_user(request, f"{count} shipment(s) will be pushed again by the next shipment sync.")


@admin.register(Shipment)
class ShipmentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "order", "cust_ref", "warehouse", "shipped_at", "push_status", "cart_accepted_at"]
    list_filter = ["push_status", "warehouse", "carrier"]
    list_select_related = ["order", "warehouse__merchant"]
    search_fields = ["cust_ref", "=warehouse_shipment_id", "order__order_number", "tracking_numbers"]
    date_hierarchy = "shipped_at"
    actions = [resend_tracking]
    readonly_fields = [f.name for f in Shipment._meta.fields] + ["tracking", "lines_shipped"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="tracking")
    def tracking(self, obj: Shipment) -> str:
        return tracking_links(obj)

    @admin.display(description="lines")
    def lines_shipped(self, obj: Shipment) -> str:
        return shipment_lines_text(obj)
