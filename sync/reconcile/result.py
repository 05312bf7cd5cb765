"""What a reconciliation finds: each cart order in exactly one class, the counts, the gaps named.

Plain data, no database: the classes, a finding per order, one connection's result, the totals the
command prints and the demo reports.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime

DELIVERED_ONCE = "delivered_once"
HELD = "held"
SKIPPED = "skipped"
IN_PROGRESS = "in_progress"
MISSING_HERE = "missing_here"
MISSING_AT_WAREHOUSE = "missing_at_warehouse"
WAREHOUSE_DUPLICATES = "warehouse_duplicates"
TRACKING_MISSING = "tracking_missing"

CLASSES = (
    DELIVERED_ONCE,
    HELD,
    SKIPPED,
    IN_PROGRESS,
    MISSING_HERE,
    MISSING_AT_WAREHOUSE,
    WAREHOUSE_DUPLICATES,
    TRACKING_MISSING,
)
# The classes that mean something was missed: each opens a problem and is named on the pages.
GAPS = (MISSING_HERE, MISSING_AT_WAREHOUSE, WAREHOUSE_DUPLICATES, TRACKING_MISSING)
COUNT_KEYS = ("connections", "cart_orders", *CLASSES, "gaps", "unreadable")

# What a person does about each gap.
WHAT_TO_DO = {
    MISSING_HERE: (
        "Imported now by this check, through the normal import: it is sent with the next orders run. "
        "If it repeats, the cart changes orders without moving their modification date: tell support."
    ),
    MISSING_AT_WAREHOUSE: (
        "We count it delivered, but the warehouse has no order under its reference: ask the warehouse "
        "whether it was deleted or canceled there, and have it created again if it must still ship."
    ),
    WAREHOUSE_DUPLICATES: (
        "The warehouse holds more than one order under this reference: ask it to cancel all but one, "
        "or the customer receives the goods twice."
    ),
    TRACKING_MISSING: (
        "Shipped at the warehouse, but the cart does not show this tracking: the customer was not told. "
        "Add the tracking at the cart by hand, or ask support to push it again."
    ),
}


@dataclass
class Finding:
    """One cart order's class, and why."""

    cart_order_id: str
    order_number: str
    category: str
    reason: str = ""

    @property
    def is_gap(self) -> bool:
        return self.category in GAPS

    @property
    def action(self) -> str:
        return WHAT_TO_DO.get(self.category, "")

    def as_dict(self) -> dict[str, str]:
        return {**asdict(self), "action": self.action}


@dataclass
class ConnectionResult:
    """One cart connection's reconciliation. `error` set: it could not be read (in full), and it is
    never counted clean, whatever the counts say."""

    connection_id: int
    merchant: str
    label: str
    window_start: datetime
    window_end: datetime
    findings: list[Finding] = field(default_factory=list)
    error: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def readable(self) -> bool:
        return not self.error

    @property
    def gaps(self) -> list[Finding]:
        return [f for f in self.findings if f.is_gap]

    @property
    def clean(self) -> bool:
        return self.readable and not self.gaps

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(CLASSES, 0)
        for finding in self.findings:
            counts[finding.category] += 1
        counts["cart_orders"] = len(self.findings)
        counts["gaps"] = sum(counts[key] for key in GAPS)
        return counts

    def as_dict(self) -> dict:
        return {
            "connection_id": self.connection_id,
            "merchant": self.merchant,
            "connection": self.label,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "readable": self.readable,
            "error": self.error,
            "notes": self.notes,
            "counts": self.counts(),
            "gaps": [f.as_dict() for f in self.gaps],
        }


def totals(*, results: list[ConnectionResult]) -> dict[str, int]:
    """The counts over every connection: `gaps` is the sum of the four gap classes."""
    summed = dict.fromkeys(COUNT_KEYS, 0)
    summed["connections"] = len(results)
    for result in results:
        for key, value in result.counts().items():
            summed[key] += value
        summed["unreadable"] += 0 if result.readable else 1
    return summed
