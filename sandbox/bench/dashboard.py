"""`bench_dashboard`: the admin's first page at fleet size. Seeds M merchants (each a Squarespace cart
and a Bergen warehouse, an orders run each, F of them failing and H holding an order), then times the
page as staff see it and counts its queries and bytes. Runs on a throwaway database only."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import connection, reset_queries, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.models import CartConnection, Merchant, SyncOutcome, WMSConnection
from orders.models import HoldCode, Order, OrderStatus, SyncRun
from sandbox.bench.measure import BenchRefused

SLUG_PREFIX = "bench-dash-"
STAFF = "bench-dashboard-staff"
PAGE_LOADS = 3


@dataclass
class DashboardSpec:
    merchants: int
    failing: int
    holding: int


def dashboard_benchmark(spec: DashboardSpec) -> dict[str, float | int]:
    """Seed the fleet, load the page PAGE_LOADS times and return the figures (the best load's time)."""
    _refuse_unless_throwaway()
    _fleet_seed(spec)
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(_staff())
    best, queries, size = float("inf"), 0, 0
    for _ in range(PAGE_LOADS):
        reset_queries()  # the log is bounded: a full one (DEBUG on, after the seeding) would count nothing
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get("/admin/")
            best = min(best, time.perf_counter() - started)
        if response.status_code != 200:
            raise BenchRefused(f"the dashboard answered {response.status_code}")
        queries, size = len(captured.captured_queries), len(response.content)
    cards = response.content.count(b'class="module ob-merchant')
    return {
        "merchants": spec.merchants,
        "failing": spec.failing,
        "holding": spec.holding,
        "page_seconds": round(best, 3),
        "queries": queries,
        "html_kb": round(size / 1024),
        "merchant_cards": cards,
    }


def _refuse_unless_throwaway() -> None:
    others = Merchant.objects.exclude(slug__startswith=SLUG_PREFIX).count()
    if others:
        raise BenchRefused(
            f"this database holds {others} other merchant(s); the benchmark adds thousands: point DATABASE_URL "
            "at a throwaway database (e.g. sqlite:////tmp/bench-dashboard.sqlite3)"
        )
    Order.objects.filter(merchant__slug__startswith=SLUG_PREFIX).delete()
    SyncRun.objects.filter(merchant__slug__startswith=SLUG_PREFIX).delete()
    CartConnection.objects.filter(merchant__slug__startswith=SLUG_PREFIX).delete()
    Merchant.objects.filter(slug__startswith=SLUG_PREFIX).delete()


@transaction.atomic
def _fleet_seed(spec: DashboardSpec) -> None:
    today = timezone.localdate()
    merchants = Merchant.objects.bulk_create(
        Merchant(name=f"Bench merchant {n:06d}", slug=f"{SLUG_PREFIX}{n}") for n in range(spec.merchants)
    )
    warehouses = WMSConnection.objects.bulk_create(
        WMSConnection(merchant=m, platform="bergen", name="Warehouse", sandbox_tooling=True) for m in merchants
    )
    carts = CartConnection.objects.bulk_create(
        CartConnection(
            merchant=m,
            platform="squarespace",
            warehouse=w,
            name="Store",
            earliest_order_date=today,
            sandbox_tooling=True,
        )
        for m, w in zip(merchants, warehouses, strict=True)
    )
    finished = timezone.now()
    SyncRun.objects.bulk_create(
        SyncRun(
            merchant_id=c.merchant_id,
            cart_connection=c,
            warehouse_id=c.warehouse_id,
            kind=SyncRun.Kind.ORDERS,
            status=SyncOutcome.SUCCEEDED,
            counts={"imported": 2, "delivered": 2},
            finished_at=finished,
        )
        for c in carts
    )
    CartConnection.objects.filter(pk__in=[c.pk for c in carts[: spec.failing]]).update(consecutive_failures=3)
    Order.objects.bulk_create(
        Order(
            merchant_id=c.merchant_id,
            cart_connection=c,
            warehouse_id=c.warehouse_id,
            cart_order_id=f"held-{c.pk}",
            order_number=f"H{c.pk}",
            status=OrderStatus.ERROR,
            hold_code=HoldCode.UNMAPPED_SHIPPING,
            hold_reason="The shipping method has no warehouse code.",
        )
        for c in carts[spec.failing : spec.failing + spec.holding]
    )


def _staff():
    user, created = get_user_model().objects.get_or_create(
        username=STAFF, defaults={"is_staff": True, "is_superuser": True}
    )
    if created:
        user.set_unusable_password()
        user.save()
    return user
