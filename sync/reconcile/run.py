"""A reconciliation run: for each cart connection, the cart's orders in the window read from the
cart, our orders, and the warehouse's orders by reference; each cart order classified once.

A side that cannot be read (credentials refused, a page that fails, a warehouse lookup refused) ends
that connection's reconciliation with the error: it is reported, and never counted clean.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from integrations.connectors.base import CartConnector
from integrations.connectors.errors import ConnectorError
from integrations.models import CartConnection
from integrations.services import ConnectionNotConfigured, cart_connector_for
from integrations.tenancy import CrossMerchantLink
from orders.models import SkippedOrder
from orders.services.lookups import orders_by_cart_id
from sync.cycle import cart_connections_for_sync
from sync.reconcile.classify import Moments, known_order_finding, unknown_order_finding
from sync.reconcile.intake import missing_orders_import
from sync.reconcile.records import reconciliation_record
from sync.reconcile.result import HELD, MISSING_HERE, ConnectionResult, Finding
from sync.reconcile.sides import CartListing, WarehouseReader, cart_listing_read, delivered_order_finding

log = logging.getLogger(__name__)
READ_ERRORS = (ConnectorError, ConnectionNotConfigured, CrossMerchantLink)
DEFAULT_DAYS = 7


def reconcile(
    *,
    merchant_slug: str | None = None,
    connection_id: int | None = None,
    days: int = DEFAULT_DAYS,
    progress: Callable[[str], None] | None = None,
) -> list[ConnectionResult]:
    """Reconcile every active cart connection the filters select, and record each result."""
    results = []
    for connection in cart_connections_for_sync(merchant_slug=merchant_slug, connection_id=connection_id):
        if progress:
            progress(f"{connection.merchant.slug} · {connection.platform} #{connection.pk}")
        result = connection_reconcile(connection=connection, days=days)
        reconciliation_record(connection=connection, result=result)
        results.append(result)
    return results


def connection_reconcile(*, connection: CartConnection, days: int, now: datetime | None = None) -> ConnectionResult:
    """Classify each of the cart's orders in the last `days` days. Never raises on a side that cannot
    be read: the result carries the error instead."""
    now = now or timezone.now()
    result = ConnectionResult(
        connection_id=connection.pk,
        merchant=connection.merchant.slug,
        label=f"{connection.platform} #{connection.pk}",
        window_start=now - timedelta(days=days),
        window_end=now,
    )
    moments = Moments(
        watermark=connection.order_watermark,
        # an order still inside its hold window is waiting, not missing
        grace_cutoff=now - timedelta(hours=settings.RECONCILE_GRACE_HOURS) - connection.hold_window,
    )
    try:
        cart = cart_connector_for(connection=connection)
        listing = cart_listing_read(connector=cart, since=result.window_start, until=result.window_end)
        result.findings = findings_of(connection=connection, cart=cart, listing=listing, moments=moments)
    except READ_ERRORS as exc:
        result.error = str(exc)
    except Exception as exc:  # an internal error: reported on the run like an unreadable side
        log.exception("reconciliation of cart connection %s", connection.pk)
        result.error = f"internal error ({type(exc).__name__}: {exc})"
    if result.readable:
        missed = {f.cart_order_id for f in result.findings if f.category == MISSING_HERE}
        try:
            note = missing_orders_import(
                connection=connection,
                cart_orders=[o for key, o in listing.orders.items() if key in missed],
                rejected=[r for key, r in listing.rejected.items() if key in missed],
            )
        except Exception as exc:  # the gaps stand as found; the import is tried again by the next run
            log.exception("reconciliation import of cart connection %s", connection.pk)
            note = f"The missed orders could not be imported now ({type(exc).__name__}: {exc})."
        result.notes += [note] if note else []
    return result


def findings_of(
    *, connection: CartConnection, cart: CartConnector, listing: CartListing, moments: Moments
) -> list[Finding]:
    """One finding per cart order (listed or listed as unreadable), in the cart's order."""
    ids = [*listing.orders, *listing.rejected]
    ours = orders_by_cart_id(connection.pk, ids)
    skipped = {
        s.cart_order_id: s for s in SkippedOrder.objects.filter(cart_connection=connection, cart_order_id__in=ids)
    }
    warehouses = WarehouseReader()
    findings = []
    for cart_order_id, cart_order in listing.orders.items():
        order = ours.get(cart_order_id)
        if order is None:
            finding = unknown_order_finding(
                connection=connection, cart_order=cart_order, skipped=skipped.get(cart_order_id), moments=moments
            )
        else:
            finding = known_order_finding(cart_order=cart_order, order=order, moments=moments)
        if finding is None:
            finding = delivered_order_finding(
                order=order, cart=cart, warehouses=warehouses, grace_cutoff=moments.grace_cutoff
            )
        findings.append(finding)
    for cart_order_id, rejected in listing.rejected.items():
        findings.append(
            rejected_finding(rejected_id=cart_order_id, number=rejected.order_number, stored=cart_order_id in ours)
        )
    return findings


def rejected_finding(*, rejected_id: str, number: str, stored: bool) -> Finding:
    """An order the cart lists but we cannot read: held when we hold it (with the reason), else missed."""
    if stored:
        return Finding(rejected_id, number, HELD, "Unreadable at the cart: held until the cart sends it readable.")
    return Finding(rejected_id, number, MISSING_HERE, "Unreadable at the cart and never recorded here: recorded now.")
