"""Admin of the sync runs: a record of each run (read-only), its counts as a short sentence, its
error's first line with the whole of it on hover."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html

from config.admin_filters import AutocompleteFiltersMixin, autocomplete_filter
from orders.admin_problems import HistoryAdminMixin
from orders.models import SyncRun


@admin.register(SyncRun)
class SyncRunAdmin(HistoryAdminMixin, AutocompleteFiltersMixin, admin.ModelAdmin):
    list_display = [
        "status_label",
        "kind",
        "connection",
        "started_at",
        "duration",
        "summary",
        "verified",
        "unverified",
        "error_short",
    ]
    list_display_links = ["status_label"]
    list_filter = [
        "status",
        "kind",
        "failure_kind",
        autocomplete_filter("merchant"),
        autocomplete_filter("cart_connection", "cart connection"),
        autocomplete_filter("warehouse"),
    ]
    list_select_related = ["merchant", "cart_connection__merchant", "warehouse__merchant"]
    date_hierarchy = "started_at"
    readonly_fields = [f.name for f in SyncRun._meta.fields] + ["summary", "verified", "unverified"]

    @admin.display(description="status", ordering="status")
    def status_label(self, obj: SyncRun) -> str:
        return format_html('<span class="ob-status ob-status-{}">{}</span>', obj.status, obj.get_status_display())

    @admin.display(description="connection")
    def connection(self, obj: SyncRun) -> str:
        return str(obj.cart_connection or obj.warehouse or obj.merchant)

    @admin.display(description="seconds")
    def duration(self, obj: SyncRun):
        seconds = obj.duration_seconds
        return "running" if seconds is None else f"{seconds:.1f}"

    @admin.display(description="what it did")
    def summary(self, obj: SyncRun) -> str:
        return run_summary(obj)

    @admin.display(description="error")
    def error_short(self, obj: SyncRun) -> str:
        first = next((line for line in obj.error.splitlines() if line.strip()), "")
        return format_html('<span class="ob-clip" title="{}">{}</span>', obj.error, first[:300]) if first else "—"

    @admin.display(description="Verified")
    def verified(self, obj: SyncRun) -> int:
        """Writes the other side was read to show (0 for a run that counts none)."""
        return run_count(obj, "verified")

    @admin.display(description="Unverified")
    def unverified(self, obj: SyncRun) -> int:
        """Writes the other side did not show when read back, or that could not be read back."""
        return run_count(obj, "unverified")


SUMMARY_FIRST = ["imported", "updated", "delivered", "held", "shipped", "pushed"]


def run_summary(run: SyncRun) -> str:
    """A run's counts as a short sentence ("3 imported, 2 held"); a run that did nothing says so, and
    a failed one never reads as if it had nothing to do."""
    counts = run.counts if isinstance(run.counts, dict) else {}
    # PostgreSQL's jsonb keeps no key order: the usual steps first, the rest by name.
    names = sorted(counts, key=lambda name: (SUMMARY_FIRST.index(name) if name in SUMMARY_FIRST else 99, name))
    parts = [
        f"{counts[name]} {name.replace('_', ' ')}"
        for name in names
        if name not in ("verified", "unverified")
        and isinstance(counts[name], int)
        and not isinstance(counts[name], bool)
        and counts[name]
    ]
    if parts:
        return ", ".join(parts)
    if run.status == "running":
        return "running"
    if run.status in ("succeeded", "partial"):
        return "nothing new"
    return run.get_status_display()


def run_count(run: SyncRun, key: str) -> int:
    value = (run.counts or {}).get(key) if isinstance(run.counts, dict) else None
    return value if isinstance(value, int) else 0
