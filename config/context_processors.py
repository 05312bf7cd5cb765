"""Template context for every page: the "no worker is running" banner on the pages that queue work."""

from __future__ import annotations

from django.http import HttpRequest

from sync.heartbeat import NO_WORKER_MESSAGE, worker_missing

# The pages with buttons that queue work for the worker: the dashboard, the admin's connection,
# order and problem pages, and the merchant pages.
QUEUEING_PAGES = (
    "/admin/integrations/cartconnection/",
    "/admin/integrations/wmsconnection/",
    "/admin/orders/order/",
    "/admin/orders/problem/",
    "/admin/sync/job/",
    "/merchant/connections/",
    "/merchant/warehouses/",
    "/merchant/orders/",
    "/merchant/aliases/",
)
DASHBOARDS = ("/admin/", "/merchant/")


def worker_banner(request: HttpRequest) -> dict[str, object]:
    """`worker_banner`: the banner's text when no worker has been seen lately, else "". Read (one
    query) only when a template shows it, and only on pages that queue work."""
    path = request.path
    if path not in DASHBOARDS and not path.startswith(QUEUEING_PAGES):
        return {}

    def banner() -> str:
        return NO_WORKER_MESSAGE if worker_missing() else ""

    return {"worker_banner": banner}
