"""The benchmark's targets and the human summary of a run (the JSON object follows it)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Target:
    label: str
    limit: float
    unit: str
    # The scale the target is set for: (figure, value); None when it holds at any scale.
    at: tuple[str, int] | None

    def applies(self, figures: dict[str, Any]) -> bool:
        return self.at is None or figures.get(self.at[0]) == self.at[1]


TARGETS = {
    "ratio": Target("sync / API floor", 1.5, "", ("orders", 5000)),
    "cpu_ms_per_order": Target("CPU per order", 2.5, " ms", ("orders", 5000)),
    "queries_per_order": Target("queries per order", 4, "", ("orders", 5000)),
    "inventory_rerun_share": Target("inventory rerun / first run", 0.25, "", ("skus", 20000)),
    "admin_changelist_queries": Target("admin changelist queries", 12, "", None),
    "peak_rss_mb": Target("peak RSS", 250, " MB", ("orders", 50000)),
}


def verdict(key: str, value: float, figures: dict[str, Any]) -> str:
    target = TARGETS[key]
    mark = "✓" if value <= target.limit else "✗"
    scale = "" if target.applies(figures) else f" (target set for {target.at[0]} = {target.at[1]:,})"
    return f"{mark} target ≤ {target.limit:g}{target.unit}{scale}"


def summary_lines(figures: dict[str, Any], statements: Counter, problems: list[str]) -> list[str]:
    f = figures
    rerun_share = f["inventory_rerun_s"] / f["inventory_s"] if f["inventory_s"] else 0.0

    def row(label: str, value: str, key: str = "", measured: float = 0.0) -> str:
        return f"  {label:<19}{value:<34}{verdict(key, measured, f) if key else ''}".rstrip()

    lines = [
        f"Sync benchmark: {f['orders']:,} orders, {f['skus']:,} SKUs, {f['database']}, {f['cpus']} CPU(s)"
        + (" (profiled: times are inflated)" if f.get("profiled") else ""),
        row("API floor", f"{f['floor_s']:.2f} s for {f['requests']:,} requests"),
        f"  {'':<19}the plain client's CPU: {f['floor_client_cpu_ms_per_order']:.2f} ms per order; the sandboxes "
        f"served {f['sandbox_rps']:,.0f} req/s using {f['sandbox_cpu_share']:.0%} of a CPU",
        row("order sync", f"{f['sync_s']:.2f} s, ratio {f['ratio']:.2f}", "ratio", f["ratio"]),
        row("CPU per order", f"{f['cpu_ms_per_order']:.2f} ms", "cpu_ms_per_order", f["cpu_ms_per_order"]),
        row("queries per order", f"{f['queries_per_order']:.2f}", "queries_per_order", f["queries_per_order"]),
        row(
            "inventory",
            f"{f['inventory_s']:.2f} s, rerun {f['inventory_rerun_s']:.2f} s ({rerun_share:.0%})",
            "inventory_rerun_share",
            rerun_share,
        ),
        row("peak RSS", f"{f['peak_rss_mb']:.1f} MB", "peak_rss_mb", f["peak_rss_mb"]),
        row(
            "admin changelist",
            f"{f['admin_changelist_queries']} queries, {f['admin_changelist_ms']:.0f} ms",
            "admin_changelist_queries",
            f["admin_changelist_queries"],
        ),
    ]
    if statements:
        lines.append("  most frequent statements during the sync (per order):")
        lines += [f"    {count / f['orders']:6.2f}  {shape}" for shape, count in statements.most_common(8)]
    lines += [f"  ! {problem}" for problem in problems]
    return lines
