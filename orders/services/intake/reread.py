"""Orders read again by their creation windows, for a cart that lists orders by creation time only.

Overstock selects orders by when it created them (`CartConnector.lists_by_creation`), so a line it
cancels after the order's window was read is never listed again. Once a day the hour-long windows of
the connection's orders not yet shipped (new, held, at the warehouse) and placed in the last
`CART_REREAD_DAYS` days are read again. An order whose lines the cart canceled since goes through
`known_order_update` as any change does: before delivery it is sent without the canceled lines,
after delivery the cancellation becomes a change passed on to the warehouse (`changes`). Orders we do not have are
left to the imports and the daily reconciliation.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from integrations.connectors.base import CartConnector
from integrations.connectors.canonical import CartOrder, OrderPage
from integrations.models import CartConnection
from orders.models import Order, OrderLine, OrderStatus, SyncRun
from orders.services.intake.importer import Importer
from orders.services.intake.known_orders import known_order_update
from orders.services.intake.rejected import page_storable
from orders.services.lookups import orders_by_cart_id
from orders.services.records.sync_runs import counting_into
from orders.services.translation.translate import TranslationContext

NOT_SHIPPED = (OrderStatus.NEW, OrderStatus.ERROR, OrderStatus.AT_WMS)
REREAD_COUNTS = ("reread_windows", "reread_orders", "reread_changed")
HOUR = timedelta(hours=1)


def reread_windows(*, connection: CartConnection, now: datetime) -> list[tuple[datetime, datetime]]:
    """The windows [start, end) to read again: the hours holding the creation time of each order
    not yet shipped and placed since `CART_REREAD_DAYS` (the order's time and its last modification
    at the cart, which for Overstock is when it reached Supplier Oasis), adjacent hours joined."""
    since = now - timedelta(days=settings.CART_REREAD_DAYS)
    times = Order.objects.filter(cart_connection=connection, status__in=NOT_SHIPPED, ordered_at__gte=since)
    hours: set[datetime] = set()
    for ordered_at, modified_at in times.values_list("ordered_at", "cart_modified_at"):
        for moment in (ordered_at, modified_at):
            if moment is not None and moment <= now:
                hours.add(moment.replace(minute=0, second=0, microsecond=0))
    windows: list[tuple[datetime, datetime]] = []
    for hour in sorted(hours):
        if windows and windows[-1][1] == hour:
            windows[-1] = (windows[-1][0], hour + HOUR)
        else:
            windows.append((hour, hour + HOUR))
    return [(start, min(end, now)) for start, end in windows]


def cart_orders_reread(
    *,
    connection: CartConnection,
    connector: CartConnector,
    run: SyncRun,
    now: datetime,
    context: Callable[[], TranslationContext],
    counts: dict[str, int] | None = None,
) -> dict[str, int]:
    """Read the windows again and apply what changed at the cart to the orders we have (counting
    into `counts`). A page that cannot be read raises, as in an import."""
    counts = counting_into(counts, *REREAD_COUNTS)
    importer = Importer(connection=connection, run=run, context_factory=context, counts=counts)
    for start, end in reread_windows(connection=connection, now=now):
        for page in connector.iter_order_pages(modified_after=start, modified_before=end, open_only=False):
            _page_reread(importer, page)
        counts["reread_windows"] += 1
    return counts


def _page_reread(importer: Importer, page: OrderPage) -> None:
    page = page_storable(page=page)
    with transaction.atomic():
        known = orders_by_cart_id(importer.connection.pk, [o.cart_order_id for o in page.orders])
        known = {k: o for k, o in known.items() if o.status in NOT_SHIPPED}
        canceled = _canceled_lines_of(known.values())
        for cart_order in page.orders:
            order = known.get(cart_order.cart_order_id)
            if order is None:
                continue
            importer.counts["reread_orders"] += 1
            newly = _canceled_ids(cart_order) - canceled.get(order.pk, set())
            importer.counts["reread_changed"] += bool(newly)
            known_order_update(importer=importer, order=order, cart_order=cart_order, changed=bool(newly))


def _canceled_ids(co: CartOrder) -> set[str]:
    return {line.cart_line_id or str(line.line_no) for line in co.lines if line.canceled}


def _canceled_lines_of(orders) -> dict[int, set[str]]:
    """The lines we hold as canceled at the cart, by order id (one query for the page)."""
    found: dict[int, set[str]] = {}
    lines = OrderLine.objects.filter(order__in=list(orders), canceled_at_cart=True)
    for order_id, line_id, line_no in lines.values_list("order_id", "cart_line_id", "line_no"):
        found.setdefault(order_id, set()).add(line_id or str(line_no))
    return found
