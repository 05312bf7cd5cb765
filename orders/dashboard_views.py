"""What the admin dashboard shows (`orders.dashboard` reads it): the views of merchants, their
connections and runs, and the one rule of a merchant's severity.

Failing: a connection blocked, failing or needing a new grant, or its last run of a kind failed; then
needing a look: orders held, stuck or waiting to be sent, or open problems; else healthy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlencode

from django.urls import reverse

from integrations.models import CartConnection, Merchant, SyncOutcome, WMSConnection
from orders.models import Order, OrderStatus, Problem, SyncRun

FAILING, NEEDS_A_LOOK, HEALTHY = 0, 1, 2  # a merchant's severity, most severe first
SEVERITY_LABELS = {FAILING: "failing", NEEDS_A_LOOK: "needs a look", HEALTHY: "healthy"}
FAILED_RUN_STATUSES = (SyncOutcome.FAILED, SyncOutcome.INTERRUPTED)


def connection_failing(connection: CartConnection | WMSConnection) -> bool:
    """What the connection lists' "needs a look" health filter selects (the summary's link)."""
    c = connection
    return bool(c.blocked_reason or c.unhealthy or c.consecutive_failures or c.needs_new_grant)


def connection_severity(*, failing: bool, run_failed: bool, busy: bool) -> int:
    """A connection's severity: failing (its state, or a last run that failed), else needing a look
    when it has orders held, stuck or waiting (`busy`), else healthy."""
    if failing or run_failed:
        return FAILING
    return NEEDS_A_LOOK if busy else HEALTHY


def merchant_severity(*, connections: Iterable[int], open_problems: int) -> int:
    """The worst of its connections' severities; open problems make a healthy merchant need a look."""
    worst = min(connections, default=HEALTHY)
    return NEEDS_A_LOOK if worst == HEALTHY and open_problems else worst


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
        return self.run is not None and self.run.status in FAILED_RUN_STATUSES

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
        return connection_failing(self.connection)

    @property
    def severity(self) -> int:
        return connection_severity(
            failing=self.failing,
            run_failed=any(r.failed for r in self.runs),
            busy=bool(self.held or self.stuck_count or self.waiting_count),
        )

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
        return merchant_severity(connections=[c.severity for c in self.connections], open_problems=self.open_problems)

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
    """The merchants shown (those needing a look, most severe first, at most a page of them; then the
    healthy ones, folded, when they are few) and the counts of the whole fleet, each a link."""

    merchants: list[MerchantView]
    problems_url: str
    now: datetime
    open_problems: int = 0
    held_count: int = 0
    stuck_count: int = 0
    waiting_count: int = 0
    failing_carts: int = 0
    failing_warehouses: int = 0
    folded_count: int = 0  # healthy merchants
    needing_look: int = 0  # merchants needing a look, shown or not
    # Open reconciliation gaps (one problem per cart connection), shown before anything else.
    reconcile_gaps: list[Problem] = field(default_factory=list)

    @property
    def needing_look_not_shown(self) -> int:
        return self.needing_look - sum(1 for m in self.merchants if m.needs_attention)

    @property
    def healthy_listed(self) -> bool:
        return any(not m.needs_attention for m in self.merchants)

    @property
    def links(self) -> dict[str, str]:
        """The admin lists the summary's counts open."""
        return {
            "held": order_list_url(status__exact=OrderStatus.ERROR),
            "stuck": order_list_url(stuck="1"),
            "waiting": order_list_url(status__exact=OrderStatus.NEW),
            "failing_carts": f"{reverse('admin:integrations_cartconnection_changelist')}?health=attention",
            "failing_warehouses": f"{reverse('admin:integrations_wmsconnection_changelist')}?health=attention",
            "merchants": reverse("admin:integrations_merchant_changelist"),
        }


def order_list_url(**filters) -> str:
    """The admin's order list with `filters` (its query string)."""
    return f"{reverse('admin:orders_order_changelist')}?{urlencode(filters)}"
