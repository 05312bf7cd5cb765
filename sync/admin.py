"""The admin's view of the worker: the jobs people queued (each followed live on its page) and the
workers' heartbeats. Both are records: read only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse

from sync.jobs import job_status
from sync.models import Job, WorkerHeartbeat


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj=None) -> list[str]:
        return [field.name for field in self.model._meta.fields]


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
