"""Selectors of the admin dashboard: per merchant and connection, the last sync of each kind, the
connection's health, the orders held and stuck, open problems, and orders imported and shipped per
day; first of all, the open reconciliation gaps (read from their problems: the orders app sits below sync).

Merchants come in order of severity (`dashboard_views`): failing, then those with held, stuck or waiting
orders or open problems, then the healthy ones, folded. Every count links to the admin list that shows
what it counts.

The severity of every merchant and the fleet's counts come from a fixed number of grouped queries,
whatever the number of merchants, orders or runs; the cards (runs, stuck orders, charts) are read for
the merchants shown only: at most MERCHANTS_SHOWN needing a look, and the healthy ones only while they
are at most HEALTHY_LISTED. `manage.py bench_dashboard` measures it at fleet size.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import urlencode

from django.db.models import Count, F, Min, OuterRef, Q, Subquery, Window
from django.db.models.functions import RowNumber, TruncDate
from django.urls import reverse
from django.utils import timezone

from integrations.models import CartConnection, Merchant, SyncOutcome, WMSConnection
from orders.dashboard_views import (
    FAILED_RUN_STATUSES,
    FAILING,
    HEALTHY,
    NEEDS_A_LOOK,
    ChartDay,
    ConnectionView,
    Dashboard,
    HeldReason,
    MerchantView,
    RunView,
    connection_failing,
    connection_severity,
    merchant_severity,
    order_list_url,
)
from orders.models import HoldCode, Order, OrderStatus, Problem, Shipment, SyncRun
from orders.services.records.problems import RECONCILE_GAP

__all__ = ["CHART_DAYS", "FAILING", "HEALTHY", "NEEDS_A_LOOK", "dashboard_get", "stuck_q"]

CHART_DAYS = 14
STUCK_SHOWN = 5
MERCHANTS_SHOWN = 100  # merchants needing a look shown in full, most severe first
HEALTHY_LISTED = 50  # the healthy merchants are listed (folded) only while there are at most this many
# Which runs each side records: a cart pulls orders and pushes tracking and stock; a warehouse's own
# runs read shipments and stock (its orders are delivered inside the cart's orders run).
CART_KINDS = [SyncRun.Kind.ORDERS, SyncRun.Kind.SHIPMENTS, SyncRun.Kind.INVENTORY]
WAREHOUSE_KINDS = [SyncRun.Kind.SHIPMENTS, SyncRun.Kind.INVENTORY]
KIND_LABELS = {
    "cart": {"orders": "orders in, delivery", "shipments": "tracking to the cart", "inventory": "stock to the cart"},
    "warehouse": {"shipments": "shipments read", "inventory": "stock read"},
}


def dashboard_get(*, now: datetime | None = None) -> Dashboard:
    """Everything the admin's first page shows, in a fixed number of queries: the fleet's counts and
    every merchant's severity, and the cards of the merchants shown."""
    now = now or timezone.now()
    carts = _connection_states(CartConnection, CART_KINDS)
    warehouses = _connection_states(WMSConnection, WAREHOUSE_KINDS)
    cart_ids = [c.pk for c in carts]
    held = _held_by_connection(cart_ids)
    waiting = _waiting_by_connection(cart_ids)
    stuck_counts = _stuck_counts(carts, now)
    problems = dict(
        Problem.objects.filter(status=Problem.Status.OPEN, merchant__active=True)
        .values_list("merchant_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    severities: dict[int, list[int]] = defaultdict(list)
    for connection, kinds in [(c, CART_KINDS) for c in carts] + [(w, WAREHOUSE_KINDS) for w in warehouses]:
        busy = bool(held.get(connection.pk) or waiting.get(connection.pk) or stuck_counts.get(connection.pk))
        severities[connection.merchant_id].append(
            connection_severity(
                failing=connection_failing(connection),
                run_failed=any(getattr(connection, f"last_{k}_run_status") in FAILED_RUN_STATUSES for k in kinds),
                busy=busy and connection.cart,
            )
        )
    ranked = [
        (merchant_severity(connections=severities.get(pk, []), open_problems=problems.get(pk, 0)), pk)
        for pk in Merchant.objects.filter(active=True).order_by("name", "pk").values_list("pk", flat=True)
    ]
    ranked.sort(key=lambda item: item[0])  # failing first, then needing a look, then healthy; by name within
    needing = [pk for severity, pk in ranked if severity != HEALTHY]
    healthy = [pk for severity, pk in ranked if severity == HEALTHY]
    shown = needing[:MERCHANTS_SHOWN] + (healthy if len(healthy) <= HEALTHY_LISTED else [])
    problem_list = reverse("admin:orders_problem_changelist")
    return Dashboard(
        merchants=_merchant_views(shown, now, held, waiting, stuck_counts, problems),
        problems_url=f"{problem_list}?{urlencode({'status__exact': 'open'})}",
        now=now,
        open_problems=sum(problems.values()),
        held_count=sum(reason.count for reasons in held.values() for reason in reasons),
        stuck_count=sum(stuck_counts.values()),
        waiting_count=sum(n for n, _ in waiting.values()),
        failing_carts=sum(1 for c in carts if connection_failing(c)),
        failing_warehouses=sum(1 for w in warehouses if connection_failing(w)),
        folded_count=len(healthy),
        needing_look=len(needing),
        reconcile_gaps=_reconcile_gaps(),
    )


def _merchant_views(
    shown: list[int],
    now: datetime,
    held: dict[int, list[HeldReason]],
    waiting: dict[int, tuple[int, datetime]],
    stuck_counts: dict[int, int],
    problems: dict[int, int],
) -> list[MerchantView]:
    """The cards of the merchants `shown` (in that order): their connections' last runs, stuck orders and charts."""
    live = {"active": True, "merchant_id__in": shown}
    carts = list(_with_last_runs(CartConnection.objects.filter(**live), CART_KINDS))
    warehouses = list(_with_last_runs(WMSConnection.objects.filter(**live), WAREHOUSE_KINDS))
    run_ids = [
        getattr(c, f"last_{kind}_run_id")
        for connections, kinds in ((carts, CART_KINDS), (warehouses, WAREHOUSE_KINDS))
        for c in connections
        for kind in kinds
    ]
    runs = SyncRun.objects.in_bulk([pk for pk in run_ids if pk])
    stuck = (stuck_counts, _stuck_oldest(carts, now))
    charts = _charts(now, merchant_ids=shown)
    views: dict[int, list[ConnectionView]] = defaultdict(list)
    for cart in carts:
        views[cart.merchant_id].append(_cart_view(cart, runs, now, held, waiting, stuck))
    for warehouse in warehouses:
        views[warehouse.merchant_id].append(_connection_view(warehouse, "warehouse", WAREHOUSE_KINDS, runs, now))
    merchants = Merchant.objects.in_bulk(shown)
    for connection in carts + warehouses:
        connection.merchant = merchants[connection.merchant_id]
    problem_list = reverse("admin:orders_problem_changelist")
    return [
        MerchantView(
            merchant=merchants[pk],
            connections=views.get(pk, []),
            open_problems=problems.get(pk, 0),
            problems_url=f"{problem_list}?{urlencode({'merchant__id__exact': pk, 'status__exact': 'open'})}",
            chart=charts.get(pk) or _empty_chart(now),
            **_merchant_links(pk),
        )
        for pk in shown
    ]


def _reconcile_gaps() -> list[Problem]:
    return list(
        Problem.objects.filter(status=Problem.Status.OPEN, merchant__active=True, reason_code=RECONCILE_GAP)
        .select_related("merchant")
        .order_by("merchant__name", "pk")
    )


def _merchant_links(merchant_id: int) -> dict[str, str]:
    return {
        "held_url": order_list_url(merchant__id__exact=merchant_id, status__exact=OrderStatus.ERROR),
        "stuck_url": order_list_url(merchant__id__exact=merchant_id, stuck="1"),
        "waiting_url": order_list_url(merchant__id__exact=merchant_id, status__exact=OrderStatus.NEW),
    }


def _cart_view(
    cart: CartConnection,
    runs: dict[int, SyncRun],
    now: datetime,
    held: dict[int, list[HeldReason]],
    waiting: dict[int, tuple[int, datetime]],
    stuck: tuple[dict[int, int], dict[int, list[Order]]],
) -> ConnectionView:
    """A cart connection's card: its runs, with its held, waiting and stuck orders and the links to them."""
    view = _connection_view(cart, "cart", CART_KINDS, runs, now)
    view.held = held.get(cart.pk, [])
    view.held_url = order_list_url(cart_connection__id__exact=cart.pk, status__exact=OrderStatus.ERROR)
    view.waiting_count, view.waiting_oldest = waiting.get(cart.pk, (0, None))
    view.waiting_url = order_list_url(cart_connection__id__exact=cart.pk, status__exact=OrderStatus.NEW)
    view.stuck_count = stuck[0].get(cart.pk, 0)
    view.stuck_orders = stuck[1].get(cart.pk, [])
    view.stuck_url = order_list_url(cart_connection__id__exact=cart.pk, stuck="1")
    return view


def _connection_states(model: type[CartConnection] | type[WMSConnection], kinds) -> list[SimpleNamespace]:
    """Every live connection of `model` with only what its severity needs (its state and the status of
    its last run of each kind): no model instances, for thousands of them."""
    fields = ["pk", "merchant_id", "blocked_reason", "unhealthy", "consecutive_failures", "needs_new_grant"]
    if model is CartConnection:
        fields.append("stuck_after_hours")
    queryset = _with_last_runs(model.objects.filter(active=True, merchant__active=True), kinds)
    rows = queryset.values(*fields, *(f"last_{kind}_run_status" for kind in kinds))
    return [SimpleNamespace(cart=model is CartConnection, **row) for row in rows]


def _with_last_runs(queryset, kinds):
    """Annotate each connection with the id and status of its latest run of each kind (skipped runs
    say nothing about the connection, so they are passed over)."""
    fk = "cart_connection" if queryset.model is CartConnection else "warehouse"
    annotations = {}
    for kind in kinds:
        runs = SyncRun.objects.filter(**{fk: OuterRef("pk")}, kind=kind).exclude(status=SyncOutcome.SKIPPED)
        if fk == "warehouse":  # its own runs, not the cart's orders runs that name it
            runs = runs.filter(cart_connection__isnull=True)
        latest = runs.order_by("-started_at", "-pk")
        annotations[f"last_{kind}_run_id"] = Subquery(latest.values("pk")[:1])
        annotations[f"last_{kind}_run_status"] = Subquery(latest.values("status")[:1])
    # Neither the credentials (decrypting thousands costs seconds) nor the merchants (read for the shown only).
    return queryset.defer("credentials", "settings").annotate(**annotations).order_by("pk")


def _connection_view(connection, side: str, kinds, runs: dict[int, SyncRun], now: datetime) -> ConnectionView:
    opts = connection._meta
    run_views = []
    for kind in CART_KINDS:
        if kind not in kinds:
            run_views.append(RunView(kind=kind, label="", run=None))
            continue
        run = runs.get(getattr(connection, f"last_{kind}_run_id"))
        view = RunView(kind=kind, label=KIND_LABELS[side][kind], run=run)
        if run is not None:
            view.counts = [(name.replace("_", " "), value) for name, value in (run.counts or {}).items() if value]
            view.duration = _duration_text(run.duration_seconds)
            view.error_first_line = next((line for line in run.error.splitlines() if line.strip()), "")
        run_views.append(view)
    return ConnectionView(
        connection=connection,
        side=side,
        change_url=reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[connection.pk]),
        runs=run_views,
        # When scheduled runs resume (backoff, a rate limit); a blocked connection waits for a person instead.
        next_attempt=(
            connection.next_attempt_at
            if connection.next_attempt_at and connection.next_attempt_at > now and not connection.blocked_reason
            else None
        ),
    )


def _held_by_connection(cart_ids: list[int]) -> dict[int, list[HeldReason]]:
    labels = dict(HoldCode.choices)
    held: dict[int, list[HeldReason]] = defaultdict(list)
    rows = (
        Order.objects.filter(cart_connection_id__in=cart_ids, status=OrderStatus.ERROR)
        .values_list("cart_connection_id", "hold_code")
        .annotate(n=Count("pk"))
        .order_by("cart_connection_id", "-n", "hold_code")
    )
    for cart_id, code, count in rows:
        held[cart_id].append(
            HeldReason(
                code=code or "held",
                label=labels.get(code, code or "no reason recorded"),
                count=count,
                url=order_list_url(
                    cart_connection__id__exact=cart_id, status__exact=OrderStatus.ERROR, hold_code__exact=code
                ),
            )
        )
    return held


def _waiting_by_connection(cart_ids: list[int]) -> dict[int, tuple[int, datetime]]:
    """Orders imported and not sent yet (new: waiting for the next send, or retrying): how many, and since when."""
    rows = (
        Order.objects.filter(cart_connection_id__in=cart_ids, status=OrderStatus.NEW)
        .values_list("cart_connection_id")
        .annotate(n=Count("pk"), oldest=Min("created_at"))
        .order_by()
    )
    return {cart_id: (n, oldest) for cart_id, n, oldest in rows}


def _stuck_counts(carts: list[SimpleNamespace], now: datetime) -> dict[int, int]:
    """Orders at the warehouse for longer than their connection's `stuck_after_hours` (the rule the
    order list's stuck filter applies), counted per connection."""
    if not carts:
        return {}
    late = stuck_q(now=now, hours={c.stuck_after_hours for c in carts})
    stuck = Order.objects.filter(late, cart_connection_id__in=[c.pk for c in carts])
    return dict(stuck.values_list("cart_connection_id").annotate(n=Count("pk")).order_by())


def _stuck_oldest(carts: list[CartConnection], now: datetime) -> dict[int, list[Order]]:
    """The oldest few stuck orders of each of `carts`."""
    if not carts:
        return {}
    late = stuck_q(now=now, hours={c.stuck_after_hours for c in carts})
    oldest = (
        Order.objects.filter(late, cart_connection_id__in=[c.pk for c in carts])
        .annotate(rank=Window(RowNumber(), partition_by=[F("cart_connection_id")], order_by=[F("delivered_at").asc()]))
        .filter(rank__lte=STUCK_SHOWN)
        .only("pk", "order_number", "cart_connection_id", "delivered_at", "cust_ref", "partially_shipped")
        .order_by("cart_connection_id", "delivered_at")
    )
    orders: dict[int, list[Order]] = defaultdict(list)
    for order in oldest:
        orders[order.cart_connection_id].append(order)
    return orders


def stuck_q(*, now: datetime, hours: Iterable[int] | None = None) -> Q:
    """Orders at the warehouse for longer than their cart connection's `stuck_after_hours`, as one
    condition per threshold (`hours`: those in use unless given; a handful, however many connections)."""
    if hours is None:
        hours = CartConnection.objects.values_list("stuck_after_hours", flat=True).distinct().order_by()
    late = Q(pk__in=[])
    for h in sorted(hours):
        cutoff = (now - timedelta(hours=h)).replace(microsecond=0)
        late |= Q(cart_connection__stuck_after_hours=h, delivered_at__lt=cutoff)
    return Q(status=OrderStatus.AT_WMS) & late


def _chart_days(now: datetime) -> list[date]:
    today = timezone.localdate(now)
    return [today - timedelta(days=offset) for offset in range(CHART_DAYS - 1, -1, -1)]


def _charts(now: datetime, *, merchant_ids: list[int]) -> dict[int, list[ChartDay]]:
    """Orders imported (created here) and orders shipped (a parcel left the warehouse) per day, for
    the merchants `merchant_ids`."""
    days = _chart_days(now)
    start = timezone.make_aware(datetime.combine(days[0], datetime.min.time()))
    imported = (
        Order.objects.filter(merchant_id__in=merchant_ids, created_at__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values_list("merchant_id", "day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    shipped = (
        Shipment.objects.filter(order__merchant_id__in=merchant_ids, shipped_at__gte=start)
        .annotate(day=TruncDate("shipped_at"))
        .values_list("order__merchant_id", "day")
        .annotate(n=Count("order_id", distinct=True))
        .order_by()
    )
    per_day: dict[int, dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for column, rows in ((0, imported), (1, shipped)):
        for merchant_id, day, n in rows:
            per_day[merchant_id][day][column] += n
    charts = {}
    for merchant_id, values in per_day.items():
        top = max((max(v) for v in values.values()), default=0) or 1
        charts[merchant_id] = [
            ChartDay(
                day=day,
                imported=values[day][0],
                shipped=values[day][1],
                imported_pct=round(100 * values[day][0] / top),
                shipped_pct=round(100 * values[day][1] / top),
            )
            for day in days
        ]
    return charts


def _empty_chart(now: datetime) -> list[ChartDay]:
    return [ChartDay(day, 0, 0, 0, 0) for day in _chart_days(now)]


def _duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "still running"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"
