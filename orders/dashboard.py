"""Selectors of the admin dashboard: per merchant and connection, the last sync of each kind, the
connection's health, the orders held and stuck, open problems, and orders imported and shipped per
day; first of all, the open reconciliation gaps (read from their problems: the orders app sits below sync).

Merchants come in order of severity: failing (a connection blocked, failing or needing a new grant, or
a last run that failed), then those with held, stuck or waiting orders or open problems, then the
healthy ones, which are shown folded. Every count links to the admin list that shows what it counts.

Everything is aggregated in the database (one query per section, whatever the number of orders,
merchants or runs), so the admin's first page stays fast as the data grows.

Long because the page's sections (runs, held, stuck, waiting, charts, severity) are each a small
query with its view; split along those seams if another is added.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from urllib.parse import urlencode

from django.db.models import Count, F, Min, OuterRef, Q, Subquery, Window
from django.db.models.functions import RowNumber, TruncDate
from django.urls import reverse
from django.utils import timezone

from integrations.models import CartConnection, Merchant, SyncOutcome, WMSConnection
from orders.models import HoldCode, Order, OrderStatus, Problem, Shipment, SyncRun
from orders.services.records.problems import RECONCILE_GAP

CHART_DAYS = 14
STUCK_SHOWN = 5
FAILING, NEEDS_A_LOOK, HEALTHY = 0, 1, 2  # a merchant's severity, most severe first
SEVERITY_LABELS = {FAILING: "failing", NEEDS_A_LOOK: "needs a look", HEALTHY: "healthy"}
# Which runs each side records: a cart pulls orders and pushes tracking and stock; a warehouse's own
# runs read shipments and stock (its orders are delivered inside the cart's orders run).
CART_KINDS = [SyncRun.Kind.ORDERS, SyncRun.Kind.SHIPMENTS, SyncRun.Kind.INVENTORY]
WAREHOUSE_KINDS = [SyncRun.Kind.SHIPMENTS, SyncRun.Kind.INVENTORY]
KIND_LABELS = {
    "cart": {"orders": "orders in, delivery", "shipments": "tracking to the cart", "inventory": "stock to the cart"},
    "warehouse": {"shipments": "shipments read", "inventory": "stock read"},
}


@dataclass
class RunView:
    kind: str
    label: str  # empty: this side has no runs of this kind
    run: SyncRun | None
    counts: list[tuple[str, int]] = field(default_factory=list)
    duration: str = ""
    error_first_line: str = ""

    @property
    def trouble(self) -> bool:
        return self.run is not None and self.run.status in (
            SyncOutcome.FAILED,
            SyncOutcome.THROTTLED,
            SyncOutcome.INTERRUPTED,
        )

    @property
    def failed(self) -> bool:
        return self.run is not None and self.run.status in (SyncOutcome.FAILED, SyncOutcome.INTERRUPTED)

    @property
    def idle_text(self) -> str:
        """What a run that counted nothing says: never "nothing to do" for one that did not finish well."""
        if self.run is None or self.counts:
            return ""
        if self.trouble:
            if self.error_first_line or self.run.failure_kind:
                return ""  # its reason is shown under it
            return f"{self.run.get_status_display()}: no reason recorded"
        if self.run.status == SyncOutcome.RUNNING:
            return "still running"
        if self.run.status == SyncOutcome.NOT_SUPPORTED:
            return self.run.get_status_display()
        return "nothing new"


@dataclass
class HeldReason:
    code: str
    label: str
    count: int
    url: str


@dataclass
class ConnectionView:
    connection: CartConnection | WMSConnection
    side: str
    change_url: str
    runs: list[RunView]  # orders, shipments, inventory: the same columns for both sides
    next_attempt: datetime | None = None
    held: list[HeldReason] = field(default_factory=list)
    held_url: str = ""
    stuck_count: int = 0
    stuck_url: str = ""
    stuck_orders: list[Order] = field(default_factory=list)
    waiting_count: int = 0
    waiting_oldest: datetime | None = None
    waiting_url: str = ""

    @property
    def held_count(self) -> int:
        return sum(reason.count for reason in self.held)

    @property
    def failing(self) -> bool:
        """What the connection lists' "needs a look" health filter selects (the summary's link)."""
        c = self.connection
        return bool(c.blocked_reason or c.unhealthy or c.consecutive_failures or c.needs_new_grant)

    @property
    def severity(self) -> int:
        if self.failing or any(r.failed for r in self.runs):
            return FAILING
        if self.held or self.stuck_count or self.waiting_count:
            return NEEDS_A_LOOK
        return HEALTHY

    @property
    def needs_attention(self) -> bool:
        return self.severity != HEALTHY


@dataclass
class ChartDay:
    day: date
    imported: int
    shipped: int
    imported_pct: int
    shipped_pct: int


@dataclass
class MerchantView:
    merchant: Merchant
    connections: list[ConnectionView]
    open_problems: int
    problems_url: str
    chart: list[ChartDay]
    held_url: str = ""
    stuck_url: str = ""
    waiting_url: str = ""

    @property
    def severity(self) -> int:
        worst = min((c.severity for c in self.connections), default=HEALTHY)
        return NEEDS_A_LOOK if worst == HEALTHY and self.open_problems else worst

    @property
    def severity_label(self) -> str:
        return SEVERITY_LABELS[self.severity]

    @property
    def needs_attention(self) -> bool:
        return self.severity != HEALTHY

    @property
    def waiting_count(self) -> int:
        return sum(c.waiting_count for c in self.connections)

    @property
    def imported_total(self) -> int:
        return sum(day.imported for day in self.chart)

    @property
    def shipped_total(self) -> int:
        return sum(day.shipped for day in self.chart)

    @property
    def held_count(self) -> int:
        return sum(c.held_count for c in self.connections)

    @property
    def stuck_count(self) -> int:
        return sum(c.stuck_count for c in self.connections)


@dataclass
class Dashboard:
    merchants: list[MerchantView]
    problems_url: str
    now: datetime
    # Open reconciliation gaps (one problem per cart connection), shown before anything else.
    reconcile_gaps: list[Problem] = field(default_factory=list)

    @property
    def open_problems(self) -> int:
        return sum(m.open_problems for m in self.merchants)

    @property
    def held_count(self) -> int:
        return sum(m.held_count for m in self.merchants)

    @property
    def stuck_count(self) -> int:
        return sum(m.stuck_count for m in self.merchants)

    @property
    def waiting_count(self) -> int:
        return sum(m.waiting_count for m in self.merchants)

    @property
    def failing_carts(self) -> int:
        return sum(1 for m in self.merchants for c in m.connections if c.side == "cart" and c.failing)

    @property
    def failing_warehouses(self) -> int:
        return sum(1 for m in self.merchants for c in m.connections if c.side == "warehouse" and c.failing)

    @property
    def folded_count(self) -> int:
        return sum(1 for m in self.merchants if not m.needs_attention)

    @property
    def links(self) -> dict[str, str]:
        """The admin lists the summary's counts open."""
        return {
            "held": _order_list_url(status__exact=OrderStatus.ERROR),
            "stuck": _order_list_url(stuck="1"),
            "waiting": _order_list_url(status__exact=OrderStatus.NEW),
            "failing_carts": f"{reverse('admin:integrations_cartconnection_changelist')}?health=attention",
            "failing_warehouses": f"{reverse('admin:integrations_wmsconnection_changelist')}?health=attention",
        }


def dashboard_get(*, now: datetime | None = None) -> Dashboard:
    """Everything the admin's first page shows, for every active merchant, in a fixed number of queries."""
    now = now or timezone.now()
    merchants = list(Merchant.objects.filter(active=True).order_by("name", "pk"))
    carts = list(
        _with_last_runs(
            CartConnection.objects.filter(active=True, merchant__active=True), CART_KINDS, "cart_connection"
        )
    )
    warehouses = list(
        _with_last_runs(WMSConnection.objects.filter(active=True, merchant__active=True), WAREHOUSE_KINDS, "warehouse")
    )
    run_ids = [
        getattr(c, f"last_{kind}_run_id")
        for connections, kinds in ((carts, CART_KINDS), (warehouses, WAREHOUSE_KINDS))
        for c in connections
        for kind in kinds
    ]
    runs = SyncRun.objects.in_bulk([pk for pk in run_ids if pk])

    held = _held_by_connection([c.pk for c in carts])
    waiting = _waiting_by_connection([c.pk for c in carts])
    stuck = _stuck_by_connection(carts, now)
    problems = dict(
        Problem.objects.filter(status=Problem.Status.OPEN, merchant__active=True)
        .values_list("merchant_id")
        .annotate(n=Count("pk"))
        .order_by()
    )
    charts = _charts(now)

    views: dict[int, list[ConnectionView]] = defaultdict(list)
    for cart in carts:
        views[cart.merchant_id].append(_cart_view(cart, runs, now, held, waiting, stuck))
    for warehouse in warehouses:
        views[warehouse.merchant_id].append(_connection_view(warehouse, "warehouse", WAREHOUSE_KINDS, runs, now))

    problem_list = reverse("admin:orders_problem_changelist")
    merchant_views = [
        MerchantView(
            merchant=merchant,
            connections=views.get(merchant.pk, []),
            open_problems=problems.get(merchant.pk, 0),
            problems_url=f"{problem_list}?{urlencode({'merchant__id__exact': merchant.pk, 'status__exact': 'open'})}",
            chart=charts.get(merchant.pk) or _empty_chart(now),
            **_merchant_links(merchant.pk),
        )
        for merchant in merchants
    ]
    # Failing merchants first, then those with something to look at, then the healthy; by name within each
    # (the sort is stable).
    merchant_views.sort(key=lambda m: m.severity)
    return Dashboard(
        merchants=merchant_views,
        problems_url=f"{problem_list}?{urlencode({'status__exact': 'open'})}",
        now=now,
        reconcile_gaps=_reconcile_gaps(),
    )


def _reconcile_gaps() -> list[Problem]:
    return list(
        Problem.objects.filter(status=Problem.Status.OPEN, merchant__active=True, reason_code=RECONCILE_GAP)
        .select_related("merchant")
        .order_by("merchant__name", "pk")
    )


def _merchant_links(merchant_id: int) -> dict[str, str]:
    return {
        "held_url": _order_list_url(merchant__id__exact=merchant_id, status__exact=OrderStatus.ERROR),
        "stuck_url": _order_list_url(merchant__id__exact=merchant_id, stuck="1"),
        "waiting_url": _order_list_url(merchant__id__exact=merchant_id, status__exact=OrderStatus.NEW),
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
    view.held_url = _order_list_url(cart_connection__id__exact=cart.pk, status__exact=OrderStatus.ERROR)
    view.waiting_count, view.waiting_oldest = waiting.get(cart.pk, (0, None))
    view.waiting_url = _order_list_url(cart_connection__id__exact=cart.pk, status__exact=OrderStatus.NEW)
    view.stuck_count = stuck[0].get(cart.pk, 0)
    view.stuck_orders = stuck[1].get(cart.pk, [])
    view.stuck_url = _order_list_url(cart_connection__id__exact=cart.pk, stuck="1")
    return view


def _with_last_runs(queryset, kinds, fk: str):
    """Annotate each connection with the id of its latest run of each kind (skipped runs say nothing
    about the connection, so they are passed over)."""
    annotations = {}
    for kind in kinds:
        runs = SyncRun.objects.filter(**{fk: OuterRef("pk")}, kind=kind).exclude(status=SyncOutcome.SKIPPED)
        if fk == "warehouse":  # its own runs, not the cart's orders runs that name it
            runs = runs.filter(cart_connection__isnull=True)
        annotations[f"last_{kind}_run_id"] = Subquery(runs.order_by("-started_at", "-pk").values("pk")[:1])
    return queryset.select_related("merchant").annotate(**annotations).order_by("pk")


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
                url=_order_list_url(
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


def _stuck_by_connection(carts: list[CartConnection], now: datetime) -> tuple[dict[int, int], dict[int, list[Order]]]:
    """Orders at the warehouse for longer than their connection's `stuck_after_hours` (the rule the
    order list's stuck filter applies): the count and the oldest few per connection."""
    if not carts:
        return {}, {}
    late = stuck_q(now=now, hours={c.stuck_after_hours for c in carts})
    stuck = Order.objects.filter(late, cart_connection_id__in=[c.pk for c in carts])
    counts = dict(stuck.values_list("cart_connection_id").annotate(n=Count("pk")).order_by())
    oldest = (
        stuck.annotate(
            rank=Window(RowNumber(), partition_by=[F("cart_connection_id")], order_by=[F("delivered_at").asc()])
        )
        .filter(rank__lte=STUCK_SHOWN)
        .only("pk", "order_number", "cart_connection_id", "delivered_at", "cust_ref", "partially_shipped")
        .order_by("cart_connection_id", "delivered_at")
    )
    orders: dict[int, list[Order]] = defaultdict(list)
    for order in oldest:
        orders[order.cart_connection_id].append(order)
    return counts, orders


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


def _charts(now: datetime) -> dict[int, list[ChartDay]]:
    """Orders imported (created here) and orders shipped (a parcel left the warehouse) per day."""
    days = _chart_days(now)
    start = timezone.make_aware(datetime.combine(days[0], datetime.min.time()))
    imported = (
        Order.objects.filter(merchant__active=True, created_at__gte=start)
        .annotate(day=TruncDate("created_at"))
        .values_list("merchant_id", "day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    shipped = (
        Shipment.objects.filter(order__merchant__active=True, shipped_at__gte=start)
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


def _order_list_url(**filters) -> str:
    return f"{reverse('admin:orders_order_changelist')}?{urlencode(filters)}"


def _duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "still running"
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest} s"
