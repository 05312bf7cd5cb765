"""django-q2 schedules, reconciled with the connections: one per active cart connection and sync
kind (at the connection's interval), a daily re-read of each cart that lists orders by creation time
only (`sync.reread`), plus the global sweep, alert digest, pruning, the daily
reconciliation of every cart's orders (`sync.reconcile`), the daily check of the webhook
subscriptions and the workers' one-minute heartbeat. A cart whose webhooks are live is polled for
orders every `WEBHOOK_POLL_MINUTES` at most often (polling stays on as the safety net).

Idempotent: schedules are found by name and updated in place; schedules of connections that are
gone or inactive are deleted. Safe to run on every deploy and after every connection change.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule

from integrations.connectors.registry import CART_CONNECTORS
from integrations.models import CartConnection, WebhookSubscription

PREFIX = "orderbridge:"
KINDS = {
    "orders": ("orders.tasks.sync_orders_task", "orders_every_minutes"),
    "shipments": ("orders.tasks.sync_shipments_task", "shipments_every_minutes"),
    "inventory": ("orders.tasks.sync_inventory_task", "inventory_every_minutes"),
}
GLOBAL = {
    f"{PREFIX}sweep": ("orders.tasks.sweep_task", 1),
    f"{PREFIX}alerts": ("orders.tasks.alerts_task", 15),
    f"{PREFIX}prune": ("orders.tasks.prune_task", 24 * 60),
    f"{PREFIX}reconcile": ("sync.tasks.reconcile_task", 24 * 60),  # the daily proof that nothing was missed
    f"{PREFIX}heartbeat": ("sync.tasks.heartbeat_task", 1),  # an idle worker is seen alive (sync.heartbeat)
    f"{PREFIX}webhooks": ("sync.tasks.webhooks_check_task", 24 * 60),  # subscriptions still as made
}


# Carts that list orders by creation time only (Overstock): their open orders read again once a day.
REREAD = ("reread", "orders.tasks.reread_orders_task", 24 * 60)


def schedule_name(kind: str, connection_id: int) -> str:
    return f"{PREFIX}{kind}:cart:{connection_id}"


def _desired() -> dict[str, dict]:
    desired = {name: {"func": func, "args": "", "minutes": minutes} for name, (func, minutes) in GLOBAL.items()}
    connections = CartConnection.objects.filter(active=True, merchant__active=True)
    hooked = set(WebhookSubscription.objects.values_list("connection_id", flat=True))
    for connection in connections:
        for kind, (func, interval_field) in KINDS.items():
            if kind == "inventory" and not connection.inventory_sync_enabled:
                continue
            minutes = max(int(getattr(connection, interval_field)), 1)
            if kind == "orders" and connection.pk in hooked:  # polling is the safety net: slower
                minutes = max(minutes, settings.WEBHOOK_POLL_MINUTES)
            desired[schedule_name(kind, connection.pk)] = {
                "func": func,
                "args": repr((connection.pk,)),
                "minutes": minutes,
            }
        connector = CART_CONNECTORS.get(connection.platform)
        if connector is not None and connector.lists_by_creation:
            kind, func, minutes = REREAD
            desired[schedule_name(kind, connection.pk)] = {
                "func": func,
                "args": repr((connection.pk,)),
                "minutes": minutes,
            }
    return desired


def schedules_reconcile() -> dict[str, int]:
    """Create, update and delete our schedules so they match the connections."""
    counts = {"created": 0, "updated": 0, "deleted": 0, "unchanged": 0}
    desired = _desired()
    existing = {s.name: s for s in Schedule.objects.filter(name__startswith=PREFIX)}
    for name, spec in desired.items():
        schedule = existing.get(name)
        if schedule is None:
            Schedule.objects.create(
                name=name,
                func=spec["func"],
                args=spec["args"] or None,
                schedule_type=Schedule.MINUTES,
                minutes=spec["minutes"],
                repeats=-1,
                next_run=timezone.now(),
            )
            counts["created"] += 1
        elif (schedule.func, schedule.args or "", schedule.minutes, schedule.schedule_type) != (
            spec["func"],
            spec["args"],
            spec["minutes"],
            Schedule.MINUTES,
        ):
            schedule.func, schedule.args = spec["func"], spec["args"] or None
            schedule.minutes, schedule.schedule_type, schedule.repeats = spec["minutes"], Schedule.MINUTES, -1
            schedule.save()
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    stale = [pk for name, schedule in existing.items() if name not in desired for pk in [schedule.pk]]
    counts["deleted"] = Schedule.objects.filter(pk__in=stale).delete()[0]
    return counts
