"""The admin's view of the worker: the jobs people queued (each followed live on its page), the
workers' heartbeats and the webhook inbox. All are records: read only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html

from config.admin_filters import AutocompleteFiltersMixin, autocomplete_filter
from orders.models import Order
from sync.jobs import job_status
from sync.models import Job, WebhookNotification, WorkerHeartbeat


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [field.name for field in self.model._meta.fields]


class OutcomeFilter(admin.SimpleListFilter):
    """Waiting, or how it was handled (waiting rows have an empty outcome, which the plain filter hides)."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("waiting", "waiting for the worker"),
            *[(v, label) for v, label in WebhookNotification.Outcome.choices if v],
        ]

    def queryset(self, request, queryset):
        if self.value() == "waiting":
            return queryset.filter(handled_at__isnull=True)
        if self.value():
            return queryset.filter(outcome=self.value())
        return queryset


@admin.register(Job)
class JobAdmin(ReadOnlyAdmin):
    change_form_template = "admin/sync/job/change_form.html"
    list_display = [
        "__str__",
        "state",
        "level",
        "summary_short",
        "merchant",
        "connection",
        "requested_by",
        "created_at",
    ]
    list_filter = ["kind", "state", "level"]
    list_select_related = ["merchant", "cart_connection", "warehouse", "requested_by"]
    search_fields = ["merchant__name", "summary"]
    date_hierarchy = "created_at"

    @admin.display(description="summary")
    def summary_short(self, obj: Job) -> str:
        return obj.summary[:120] or obj.get_state_display()

    def get_urls(self):
        view = self.admin_site.admin_view(self.status_view)
        return [path("<int:pk>/status/", view, name="sync_job_status"), *super().get_urls()]

    def status_view(self, request: HttpRequest, pk: int) -> JsonResponse:
        return JsonResponse(job_status(job=get_object_or_404(Job, pk=pk)))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra = {"status_url": reverse("admin:sync_job_status", args=[object_id]) if object_id.isdigit() else ""}
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdmin):
    list_display = ["host", "pid", "cluster", "started_at", "last_seen"]
    list_filter = ["cluster"]
    search_fields = ["host"]


@admin.register(WebhookNotification)
class WebhookNotificationAdmin(AutocompleteFiltersMixin, ReadOnlyAdmin):
    """The inbox, read only: what each platform notified, and what the worker made of it."""

    list_display = ["topic", "cart_order_id", "cart_connection", "event_at", "received_at", "outcome_shown", "run"]
    list_filter = [OutcomeFilter, "platform", "topic", autocomplete_filter("cart_connection", "cart connection")]
    list_select_related = ["cart_connection__merchant", "sync_run"]
    search_fields = ["=cart_order_id", "=notification_id"]
    date_hierarchy = "received_at"

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [*super().get_readonly_fields(request, obj), "order"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # the daily prune removes handled rows; a waiting one is the worker's

    @admin.display(description="outcome", ordering="outcome")
    def outcome_shown(self, obj: WebhookNotification) -> str:
        return obj.get_outcome_display()

    @admin.display(description="run")
    def run(self, obj: WebhookNotification) -> str:
        if obj.sync_run_id is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:orders_syncrun_change", args=[obj.sync_run_id]), obj.sync_run
        )

    @admin.display(description="order")
    def order(self, obj: WebhookNotification) -> str:
        """Our order for the notified id, once a run stored it."""
        order = Order.objects.filter(cart_connection_id=obj.cart_connection_id, cart_order_id=obj.cart_order_id).first()
        if order is None:
            return "not stored (yet): a run reads it from the cart"
        return format_html('<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[order.pk]), order)
