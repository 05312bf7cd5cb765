"""Admin of the problems' inbox: what needs a person, with actions to retry, resolve or ignore.

Retrying a problem re-checks its held orders (in the request, against the SKU lists as last read) and
queues the sending of the ready ones as send-now jobs for the worker (`orders.admin_holds`), or
starts the sync that failed last for its connection, unscheduled, once the transaction commits.
The list reads as sentences: status first, each reason under its name, the message clipped to a
line with the whole of it on hover; a problem's own page is a record (read-only).
"""

from __future__ import annotations

from functools import partial

from django.contrib import admin, messages
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timesince import timesince
from django_q.tasks import async_task

from config.admin_filters import AutocompleteFiltersMixin, autocomplete_filter
from integrations.models import CartConnection
from integrations.tenancy import CrossMerchantLink
from orders.admin_holds import retry_and_report
from orders.models import HoldCode, Problem, SyncRun
from orders.services.delivery.verify import UNVERIFIED_CODE
from orders.services.records.problems import RECONCILE_GAP
from orders.services.tracking.outcomes import UNVERIFIED as TRACKING_UNVERIFIED

# A person's name for each reason a problem (or a hold) is raised with; an unknown one is spelled out.
REASON_LABELS = {
    HoldCode.UNKNOWN_SKU: "SKU not known at the warehouse",
    HoldCode.UNMAPPED_SHIPPING: "Shipping method not mapped",
    HoldCode.MISSING_ADDRESS: "Ship-to address incomplete",
    HoldCode.ZERO_QUANTITY: "Quantity of zero",
    HoldCode.NO_LINES: "No lines to ship",
    HoldCode.BAD_PAYLOAD: "Unreadable at the cart",
    HoldCode.NO_WAREHOUSE: "No warehouse connected",
    HoldCode.WAREHOUSE_REJECTED: "Refused by the warehouse",
    HoldCode.LINE_CANCELED: "Line canceled at the cart",
    HoldCode.REFERENCE_TAKEN: "Reference taken at the warehouse",
    HoldCode.HELD_BY_HAND: "Held by hand",
    "held": "Held",
    "failing": "Connection failing",
    "needs_person": "Connection stopped: needs a person",
    "gave_up": "Connection stopped: gave up retrying",
    "heartbeat": "No successful sync lately",
    "stuck": "Stuck at the warehouse",
    RECONCILE_GAP: "Order not proven delivered (reconciliation)",
    UNVERIFIED_CODE: "Delivery not confirmed by the warehouse",
    TRACKING_UNVERIFIED: "Tracking not shown by the cart",
    "inventory_unverified": "Stock level not shown by the cart",
    "canceled_at_warehouse": "Canceled at the warehouse",
    "gone_at_warehouse": "Rejected or removed by the warehouse",
    "shipped_short": "Shipped short",
}


def reason_label(code: str) -> str:
    """What a problem's or a hold's reason code means, for a person."""
    return REASON_LABELS.get(code) or (code.replace("_", " ").capitalize() if code else "No reason recorded")


class HistoryAdminMixin:
    """A record of what happened: its page shows it and offers no Save, Delete or Add (a POST is
    refused); the list's actions still run, as they act through their services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False


class ReasonFilter(admin.SimpleListFilter):
    title = "reason"
    parameter_name = "reason_code"

    def lookups(self, request, model_admin):
        return sorted(((code, reason_label(code)) for code in REASON_LABELS), key=lambda choice: choice[1])

    def queryset(self, request, queryset):
        return queryset.filter(reason_code=self.value()) if self.value() else queryset


# The sync task to start for a connection problem, by the kind of the connection's last failed run.
RETRY_TASKS = {
    SyncRun.Kind.ORDERS: "orders.tasks.sync_orders_task",
    SyncRun.Kind.SHIPMENTS: "orders.tasks.sync_shipments_task",
    SyncRun.Kind.INVENTORY: "orders.tasks.sync_inventory_task",
}


def _sends_to(cart: CartConnection, warehouse) -> bool:
    try:
        return cart.resolved_warehouse() == warehouse
    except CrossMerchantLink:  # its own run refuses it, and says why
        return False


def _sync_targets(problem: Problem) -> list[tuple[str, CartConnection]]:
    """The sync behind a connection problem: the kind that failed last (else orders), for the cart
    connection, or for every active cart whose orders go to the warehouse."""
    if problem.cart_connection_id:
        carts = [problem.cart_connection] if problem.cart_connection.active else []
        runs = SyncRun.objects.filter(cart_connection_id=problem.cart_connection_id)
    else:
        merchant_carts = CartConnection.objects.filter(merchant_id=problem.merchant_id, active=True)
        carts = [c for c in merchant_carts.select_related("warehouse") if _sends_to(c, problem.warehouse)]
        runs = SyncRun.objects.filter(warehouse_id=problem.warehouse_id, cart_connection__isnull=True)
    last_failed = runs.filter(status__in=["failed", "throttled"]).order_by("-started_at", "-pk").first()
    kind = last_failed.kind if last_failed else SyncRun.Kind.ORDERS
    return [(kind, cart) for cart in carts]


@admin.action(description="Retry now: re-check and send held orders, or run the failing sync")
def retry_problems(modeladmin, request, queryset):
    problems = list(queryset.select_related("cart_connection__merchant", "warehouse__merchant"))
    order_ids = list(dict.fromkeys(p.order_id for p in problems if p.order_id))
    if order_ids:  # held orders re-checked here, the ready ones sent by the worker
        retry_and_report(modeladmin, request, order_ids)
    # Started now, not waiting for the backoff or a block: the task runs unscheduled (scheduled=False).
    targets: dict[tuple[str, int], CartConnection] = {}
    for problem in problems:
        if not problem.order_id and (problem.cart_connection_id or problem.warehouse_id):
            targets.update({(kind, cart.pk): cart for kind, cart in _sync_targets(problem)})
    for kind, cart_id in targets:
        transaction.on_commit(partial(async_task, RETRY_TASKS[kind], cart_id, False))
    if targets:
        queued = "; ".join(f"{kind} sync of {cart}" for (kind, _), cart in targets.items())
        modeladmin.message_user(request, f"Queued: {queued}. Each run's result shows under Sync runs.")
    if not order_ids and not targets:
        modeladmin.message_user(
            request, "Nothing to retry: no order or active connection behind these.", messages.WARNING
        )


def _close(queryset, status: str) -> int:
    return queryset.filter(status=Problem.Status.OPEN).update(status=status, resolved_at=timezone.now())


@admin.action(description="Resolve: it is fixed (raised again if it happens again)")
def resolve_problems(modeladmin, request, queryset):
    modeladmin.message_user(request, f"{_close(queryset, Problem.Status.RESOLVED)} problem(s) resolved.")


@admin.action(description="Ignore: nothing to do (raised again if it happens again)")
def ignore_problems(modeladmin, request, queryset):
    modeladmin.message_user(request, f"{_close(queryset, Problem.Status.IGNORED)} problem(s) ignored.")


@admin.register(Problem)
class ProblemAdmin(HistoryAdminMixin, AutocompleteFiltersMixin, admin.ModelAdmin):
    # Fits 1366 px beside the menu and the filters: what and how bad, the message, about whom, how often.
    list_display = ["status_and_reason", "message_short", "subject", "seen"]
    list_filter = [
        "status",
        ReasonFilter,
        autocomplete_filter("merchant"),
        autocomplete_filter("cart_connection", "cart connection"),
        autocomplete_filter("warehouse"),
    ]
    list_select_related = ["merchant", "cart_connection__merchant", "warehouse__merchant", "order"]
    search_fields = ["key", "message", "=order__order_number", "merchant__name"]
    date_hierarchy = "last_seen_at"
    actions = [retry_problems, resolve_problems, ignore_problems]
    readonly_fields = [f.name for f in Problem._meta.fields] + ["about"]
    list_per_page = 100

    @admin.display(description="status · reason", ordering="status")
    def status_and_reason(self, obj: Problem) -> str:
        reason = reason_label(obj.reason_code)
        return format_html(
            '<span class="ob-clip ob-clip-short" title="{}: {}">'
            '<span class="ob-status ob-status-{}">{}</span> {}</span>',
            obj.get_status_display(),
            reason,
            obj.status,
            obj.get_status_display(),
            reason,
        )

    @admin.display(description="message")
    def message_short(self, obj: Problem) -> str:
        """One line of the message; the whole of it on hover (and on the problem's page)."""
        return format_html('<span class="ob-clip ob-clip-message" title="{}">{}</span>', obj.message, obj.message[:300])

    @admin.display(description="merchant · about", ordering="merchant__name")
    def subject(self, obj: Problem) -> str:
        return format_html(
            '<span class="ob-clip ob-clip-mid" title="{}">{} · {}</span>',
            obj.merchant.name,
            obj.merchant.name,
            self.about(obj),
        )

    @admin.display(description="seen", ordering="last_seen_at")
    def seen(self, obj: Problem) -> str:
        return format_html(
            '<span title="first {}, last {}">{}× · {} ago</span>',
            date_format(timezone.localtime(obj.first_seen_at), "DATETIME_FORMAT"),
            date_format(timezone.localtime(obj.last_seen_at), "DATETIME_FORMAT"),
            obj.count,
            timesince(obj.last_seen_at).split(",")[0],
        )

    @admin.display(description="about")
    def about(self, obj: Problem) -> str:
        if obj.order_id:
            url = reverse("admin:orders_order_change", args=[obj.order_id])
            return format_html('<a href="{}">order #{}</a>', url, obj.order.order_number)
        connection = obj.cart_connection or obj.warehouse
        if connection is None:
            return "—"
        opts = connection._meta
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[connection.pk])
        label = connection.platform_label + (f" ({connection.name})" if connection.name else "")
        return format_html('<a href="{}">{}</a>', url, label)
