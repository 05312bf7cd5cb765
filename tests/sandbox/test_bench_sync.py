"""`manage.py bench_sync` at a small scale: it runs clean and prints its figures. No assertion on time."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from orders.models import Order
from tests.factories import OrderFactory

FIGURES = (
    "orders",
    "skus",
    "requests",
    "database",
    "floor_s",
    "sandbox_rps",
    "sync_s",
    "ratio",
    "cpu_ms_per_order",
    "queries_per_order",
    "inventory_s",
    "inventory_rerun_s",
    "peak_rss_mb",
    "admin_changelist_queries",
    "admin_changelist_ms",
)
POSITIVE = [key for key in FIGURES if key not in ("orders", "skus", "database")]


def bench(*args: str) -> tuple[dict, str]:
    out = StringIO()
    call_command("bench_sync", "--orders", "30", "--skus", "40", *args, stdout=out, stderr=StringIO())
    lines = out.getvalue().strip().splitlines()
    return json.loads(lines[-1]), "\n".join(lines[:-1])


@pytest.mark.django_db
def test_the_benchmark_prints_every_figure_as_its_last_line_and_a_summary_above():
    figures, summary = bench("--json")

    assert set(FIGURES) <= set(figures), set(FIGURES) - set(figures)
    assert (figures["orders"], figures["skus"]) == (30, 40)
    assert figures["database"] in ("sqlite", "postgresql")
    assert all(figures[key] > 0 for key in POSITIVE), {key: figures[key] for key in POSITIVE}
    # The ratio comes from the unrounded times; it and each time are printed to three decimals.
    sync_s, floor_s, half = figures["sync_s"], figures["floor_s"], 0.0005
    assert (sync_s - half) / (floor_s + half) - half <= figures["ratio"] <= (sync_s + half) / (floor_s - half) + half
    # Every order reached the warehouse once; the floor replayed that many creates and more (token, listings).
    assert figures["delivered"] == 30 and figures["held"] == 0
    assert figures["requests"] > 30
    assert figures["inventory_pushed"] == 40 and figures["inventory_rerun_pushed"] == 0
    assert "API floor" in summary and "target ≤ 1.5" in summary
    # The benchmark's own merchant is what the database holds now.
    assert Order.objects.exclude(merchant__slug="bench").count() == 0


@pytest.mark.django_db
def test_a_second_run_on_the_same_database_replaces_the_previous_benchmark_merchant():
    bench("--json")

    figures, _ = bench("--json")

    assert figures["delivered"] == 30
    assert Order.objects.filter(merchant__slug="bench").count() == 30


@pytest.mark.django_db
def test_it_refuses_a_database_that_holds_other_merchants_orders():
    OrderFactory()

    with pytest.raises(CommandError, match="empty"):
        bench("--json")
