"""Admin of the problems' inbox: what needs a person, with actions to retry, resolve or ignore.

Retrying a problem re-checks and sends its held orders, or starts the sync that failed last for its
connection, unscheduled, once the transaction commits.
"""

from __future__ import annotations

from functools import partial

from django.contrib import admin, messages
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django_q.tasks import async_task

from integrations.models import CartConnection
from integrations.tenancy import CrossMerchantLink
from orders.models import Problem, SyncRun
from orders.services.delivery.holds import orders_retry


def rate_limited_note(counts: dict[str, int]) -> str:
    """The sentence a retry's message ends with when the warehouse's rate limit held some orders back
    (the orders' own retry action says it too)."""
    if not counts["rate_limited"]:
        return ""
    return f" {counts['rate_limited']} not sent: the warehouse asked us to wait (rate limit), see the order's history."


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
    order_ids = [p.order_id for p in problems if p.order_id]
    if order_ids:
        counts = orders_retry(order_ids=order_ids)
        modeladmin.message_user(
            request,
            "Orders: {released} released, {still_held} still held, {delivered} delivered, "
            "{not_delivered} not delivered (see each order's history).".format(**counts)
            + rate_limited_note(counts),
            messages.SUCCESS if not counts["still_held"] and not counts["not_delivered"] else messages.WARNING,
        )
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
class ProblemAdmin(admin.ModelAdmin):
    list_display = [
        "reason_code",
        "message_short",
        "merchant",
        "about",
        "count",
        "status",
        "first_seen_at",
        "last_seen_at",
    ]
    list_filter = ["status", "reason_code", "merchant", "cart_connection", "warehouse"]
    list_select_related = ["merchant", "cart_connection__merchant", "warehouse__merchant", "order"]
    search_fields = ["key", "message", "=order__order_number", "merchant__name"]
    date_hierarchy = "last_seen_at"
    actions = [retry_problems, resolve_problems, ignore_problems]
    readonly_fields = [f.name for f in Problem._meta.fields] + ["about"]
    list_per_page = 100

    def has_add_permission(self, request):
        return False

    @admin.display(description="message")
    def message_short(self, obj: Problem) -> str:
        return obj.message[:140]

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
