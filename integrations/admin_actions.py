"""The connection admin's actions: Test connection and Sync now queued in the worker (one `Job`
each, followed on the job's page), and Unblock. Each is recorded in the connection's history with
the user who asked."""

from __future__ import annotations

from django.contrib import admin, messages
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html

from integrations.accounts import shared_account_warning
from integrations.services import connection_unblock
from sync.jobs import job_active, job_queue
from sync.models import Job


def warn_shared_account(modeladmin, request, connection) -> None:
    """Tell staff when other connections (any merchant's) reach the same platform account."""
    warning = shared_account_warning(connection)
    if warning:
        modeladmin.message_user(request, f"{connection}: {warning}", messages.WARNING)


def queue_job(modeladmin, request: HttpRequest, connection, kind: str) -> Job:
    """Queue `kind` for the connection in the worker (or follow the one still running); say so, or
    say what it did when it ran at once (tasks run inline: the test settings)."""
    job = job_active(connection=connection)
    if job is None:
        job = job_queue(kind=kind, connection=connection, user=request.user)
        job.refresh_from_db()
        # The connection's history (the admin's History page) keeps who did what.
        modeladmin.log_change(request, connection, f"{job.get_kind_display().capitalize()} (job {job.pk})")
    if job.finished:
        level = {Job.Level.SUCCESS: messages.SUCCESS, Job.Level.WARNING: messages.WARNING}.get(
            job.level, messages.ERROR
        )
        modeladmin.message_user(request, f"{connection}: {job.summary}", level)
        warn_shared_account(modeladmin, request, connection)
    else:
        url = reverse("admin:sync_job_change", args=[job.pk])
        modeladmin.message_user(
            request,
            format_html(
                '{}: {} {} in the worker: <a href="{}">follow it</a>.',
                connection,
                job.get_kind_display(),
                job.get_state_display(),
                url,
            ),
            messages.INFO,
        )
    return job


@admin.action(description="Test connection (in the worker)")
def test_connections(modeladmin, request, queryset):
    for connection in queryset.select_related("merchant"):
        queue_job(modeladmin, request, connection, Job.Kind.TEST_CONNECTION)


@admin.action(description="Sync now: import new orders and send what is ready (in the worker)")
def sync_connections(modeladmin, request, queryset):
    for connection in queryset.select_related("merchant").filter(active=True):
        queue_job(modeladmin, request, connection, Job.Kind.SYNC_ORDERS)


@admin.action(description="Unblock: run again on schedule")
def unblock_connections(modeladmin, request, queryset):
    blocked = list(queryset.exclude(blocked_reason="", consecutive_failures=0, unhealthy=False, next_attempt_at=None))
    for connection in blocked:
        connection_unblock(connection=connection)
        modeladmin.log_change(request, connection, "Unblocked: failure count reset, the next scheduled run goes ahead.")
    modeladmin.message_user(
        request,
        f"{len(blocked)} connection(s) unblocked: their failure count is reset and the next scheduled run goes ahead.",
    )
