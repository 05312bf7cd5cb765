"""Orders in: read new and changed orders from a cart connection and store each exactly once.

The first import asks the cart for open orders only, from the connection's earliest order date.
Later runs read everything modified since the watermark (minus an overlap window, and a small lag
behind "now"), so that cancellations are seen too. The watermark advances only after every page
of the run is stored; a page that cannot be read raises, and the run fails instead of looking
complete.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from datetime import UTC, datetime, time, timedelta

from django.conf import settings
from django.db import transaction

from integrations.accounts import connection_account_learn
from integrations.connectors.canonical import OrderPage
from integrations.connectors.errors import ConnectorError
from integrations.models import CartConnection
from integrations.services import cart_connector_for
from orders.models import SyncRun
from orders.services.intake.importer import Importer, NewOrdersDelivery
from orders.services.intake.known_orders import known_order_changed_at_cart, known_order_update
from orders.services.intake.new_orders import new_orders_store
from orders.services.intake.rejected import page_storable, rejected_order_store
from orders.services.lookups import orders_by_cart_id
from orders.services.records.sync_runs import counting_into
from orders.services.translation.translate import TranslationContext

IMPORT_COUNTS = ("imported", "updated", "skipped", "held", "canceled", "rejected", "pages")


def import_window(*, connection: CartConnection, now: datetime) -> tuple[datetime, datetime, bool]:
    """(modified_after, modified_before, first_import) for a run starting at `now` (UTC)."""
    until = now - timedelta(seconds=settings.ORDER_IMPORT_LAG_SECONDS)
    if connection.order_watermark is None:
        since = datetime.combine(connection.earliest_order_date, time.min, tzinfo=UTC)
        return since, until, True
    since = connection.order_watermark - timedelta(seconds=settings.ORDER_IMPORT_OVERLAP_SECONDS)
    return since, until, False


def cart_orders_import(
    *,
    connection: CartConnection,
    run: SyncRun,
    now: datetime,
    context: Callable[[], TranslationContext],
    progress: Callable[[str], None] | None = None,
    delivery: NewOrdersDelivery | None = None,
    counts: dict[str, int] | None = None,
) -> dict[str, int]:
    """Read every page of the run's window and store it (counting into `counts` as it goes);
    advance the watermark at the end.

    `context` gives the translation context (aliases, shipping map, warehouse SKUs) on first use,
    so a run that finds nothing new does not read the warehouse's SKU list. `delivery` gets each
    page's new orders that are ready to send, once the page is committed: stored already claimed
    under its lease when it gives one, else by id.
    """
    since, until, first = import_window(connection=connection, now=now)
    run.window_start, run.window_end = since, until
    run.save(update_fields=["window_start", "window_end"])
    counts = counting_into(counts, *IMPORT_COUNTS)
    if since < until:
        connector = cart_connector_for(connection=connection)
        # The cart's platform account (whose rate limits its connections share), asked while not known.
        with suppress(ConnectorError):  # the listing below meets the same failure, and reports it
            connection_account_learn(connection, connector, ask=False)
        importer = Importer(connection=connection, run=run, context_factory=context, counts=counts, delivery=delivery)
        for page in connector.iter_order_pages(modified_after=since, modified_before=until, open_only=first):
            cart_page_store(importer=importer, page=page)
            importer.hand_over()
            counts["pages"] += 1
            if progress:
                progress(f"page {counts['pages']}: {counts['imported']} imported, {counts['skipped']} skipped")
    CartConnection.objects.filter(pk=connection.pk).update(order_watermark=until)
    connection.order_watermark = until
    return counts


def cart_orders_import_by_id(
    *,
    connection: CartConnection,
    run: SyncRun,
    cart_order_ids: list[str],
    context: Callable[[], TranslationContext],
    delivery: NewOrdersDelivery | None = None,
    counts: dict[str, int] | None = None,
) -> dict[str, int]:
    """Read these orders from the cart (a webhook named them) and store them as a listing page is
    stored: the same exactly-once rules and change detection. The watermark stays where it is (the
    polling owns it)."""
    counts = counting_into(counts, *IMPORT_COUNTS)
    connector = cart_connector_for(connection=connection)
    importer = Importer(connection=connection, run=run, context_factory=context, counts=counts, delivery=delivery)
    cart_page_store(importer=importer, page=connector.orders_by_id(cart_order_ids))
    importer.hand_over()
    counts["pages"] += 1
    return counts


def cart_page_store(*, importer: Importer, page: OrderPage) -> None:
    """Store one page of the cart's orders in one transaction: orders we have are updated, new ones
    stored or skipped, those we cannot read held or named on the run. The page's new orders ready to
    send wait in `importer` for `Importer.hand_over`, once the page is committed."""
    page = page_storable(page=page)
    ids = [o.cart_order_id for o in page.orders] + [r.cart_order_id for r in page.rejected if r.cart_order_id]
    existing = orders_by_cart_id(importer.connection.pk, ids)  # a plain read: each is locked when changed
    if any(
        o.cart_order_id not in existing or known_order_changed_at_cart(order=existing[o.cart_order_id], cart_order=o)
        for o in page.orders
    ):
        # New and changed orders need the translation context, which reads the warehouse's SKU list: read
        # before the page's transaction, so that no request (and no rate budget row lock) waits inside it.
        importer.context.skus_cover(line.sku for cart_order in page.orders for line in cart_order.lines)
    with transaction.atomic():
        fresh, fresh_ids = [], set()
        for cart_order in page.orders:
            order = existing.get(cart_order.cart_order_id)
            if order is not None:
                known_order_update(importer=importer, order=order, cart_order=cart_order)
            elif cart_order.cart_order_id not in fresh_ids:
                fresh.append(cart_order)
                fresh_ids.add(cart_order.cart_order_id)
        new_orders_store(importer=importer, cart_orders=fresh)
        for rejected in page.rejected:
            rejected_order_store(importer=importer, rejected=rejected, order=existing.get(rejected.cart_order_id))
