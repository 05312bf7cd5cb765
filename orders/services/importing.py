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
from typing import TYPE_CHECKING, Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.accounts import connection_account_learn
from integrations.connectors.canonical import (
    CART_CANCELED,
    CART_FULFILLED,
    CART_OPEN,
    CART_PARTIAL,
    MAX_PRICE,
    MAX_QUANTITY,
    CartOrder,
    OrderPage,
    RejectedCartOrder,
)
from integrations.connectors.errors import ConnectorError
from integrations.models import CartConnection
from integrations.services import cart_connector_for
from orders.models import HoldCode, Order, OrderLine, OrderStatus, SkippedOrder, SyncRun
from orders.services.cart_fields import apply_cart_fields, build_lines, fit, jsonable
from orders.services.history import order_event, order_set_status
from orders.services.import_batch import new_orders_store
from orders.services.lookups import orders_by_cart_id
from orders.services.problems import order_held_problem
from orders.services.references import order_reference_reserve, reference_candidates
from orders.services.sync_runs import counting_into
from orders.services.translation import (
    Hold,
    TranslationContext,
    order_translate,
    order_validate,
    warehouse_order_for,
)

if TYPE_CHECKING:
    from orders.services.claims import ClaimLease

PENDING_STATUSES = (OrderStatus.NEW, OrderStatus.ERROR)
DELIVERED_STATUSES = (OrderStatus.AT_WMS, OrderStatus.SHIPPED, OrderStatus.CONFIRMED)


def import_window(connection: CartConnection, now: datetime) -> tuple[datetime, datetime, bool]:
    """(modified_after, modified_before, first_import) for a run starting at `now` (UTC)."""
    until = now - timedelta(seconds=settings.ORDER_IMPORT_LAG_SECONDS)
    if connection.order_watermark is None:
        since = datetime.combine(connection.earliest_order_date, time.min, tzinfo=UTC)
        return since, until, True
    since = connection.order_watermark - timedelta(seconds=settings.ORDER_IMPORT_OVERLAP_SECONDS)
    return since, until, False


IMPORT_COUNTS = ("imported", "updated", "skipped", "held", "canceled", "rejected", "pages")


class NewOrdersDelivery(Protocol):
    """What the import hands its new, ready orders to (`BatchDeliverer`)."""

    def lease(self) -> ClaimLease | None: ...

    def deliver_claimed(self, lease: ClaimLease, orders: list[Order], lines: dict[int, list[OrderLine]]) -> None: ...

    def deliver(self, order_ids: list[int]) -> None: ...


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
    since, until, first = import_window(connection, now)
    run.window_start, run.window_end = since, until
    run.save(update_fields=["window_start", "window_end"])
    counts = counting_into(counts, *IMPORT_COUNTS)
    if since < until:
        connector = cart_connector_for(connection)
        # The cart's platform account (whose rate limits its connections share), asked while not known.
        with suppress(ConnectorError):  # the listing below meets the same failure, and reports it
            connection_account_learn(connection, connector, ask=False)
        importer = _PageImporter(connection=connection, run=run, context=context, counts=counts, delivery=delivery)
        for page in connector.iter_order_pages(modified_after=since, modified_before=until, open_only=first):
            importer.store_page(page)
            if delivery is not None:
                for lease, orders, lines in importer.claimed:
                    delivery.deliver_claimed(lease, orders, lines)
                if importer.ready:
                    delivery.deliver(importer.ready)
            importer.ready, importer.claimed = [], []
            counts["pages"] += 1
            if progress:
                progress(f"page {counts['pages']}: {counts['imported']} imported, {counts['skipped']} skipped")
    CartConnection.objects.filter(pk=connection.pk).update(order_watermark=until)
    connection.order_watermark = until
    return counts


class _PageImporter:
    def __init__(
        self,
        *,
        connection: CartConnection,
        run: SyncRun,
        context: Callable[[], TranslationContext],
        counts: dict[str, int],
        delivery: NewOrdersDelivery | None = None,
    ) -> None:
        self.connection = connection
        self.delivery = delivery
        self.run = run
        self._context_factory = context
        self._context: TranslationContext | None = None
        self.counts = counts
        self.earliest = datetime.combine(connection.earliest_order_date, time.min, tzinfo=UTC)
        self.ready: list[int] = []  # the page's new orders that are ready to send
        # ... or, when the delivery gave a lease, stored claimed under it: (lease, orders, lines by order)
        self.claimed: list[tuple[ClaimLease, list[Order], dict[int, list[OrderLine]]]] = []

    @property
    def context(self) -> TranslationContext:
        if self._context is None:
            self._context = self._context_factory()
        return self._context

    def store_page(self, page: OrderPage) -> None:
        page = _storable(page)
        ids = [o.cart_order_id for o in page.orders] + [r.cart_order_id for r in page.rejected if r.cart_order_id]
        with transaction.atomic():
            existing = orders_by_cart_id(self.connection.pk, ids)
            fresh = []
            for cart_order in page.orders:
                order = existing.get(cart_order.cart_order_id)
                if order is not None:
                    self._update_existing(order, cart_order)
                elif cart_order.cart_order_id not in {c.cart_order_id for c in fresh}:
                    fresh.append(cart_order)
            new_orders_store(self, fresh)
            for rejected in page.rejected:
                self._store_rejected(rejected, existing.get(rejected.cart_order_id))

    # --- new orders -------------------------------------------------------------------------
    def _skip_reason(self, co: CartOrder) -> tuple[str, str] | None:
        if co.skip_code:
            return co.skip_code, co.skip_reason
        if co.ordered_at is not None and co.ordered_at < self.earliest:
            return "too_old", (
                f"Placed {co.ordered_at:%Y-%m-%d}, before the connection's earliest order date "
                f"{self.connection.earliest_order_date:%Y-%m-%d}: never imported."
            )
        if co.cart_status == CART_FULFILLED:
            return "already_fulfilled", "Already shipped or closed at the cart when first seen: not imported."
        if co.cart_status == CART_CANCELED:
            return "canceled", "Canceled at the cart when first seen: not imported."
        if co.cart_status == CART_PARTIAL:
            return "partially_fulfilled", (
                "Partly shipped at the cart when first seen: not imported, so that nothing ships twice. "
                "Send the rest to the warehouse by hand."
            )
        if co.cart_status != CART_OPEN:
            return "not_ready", "Not ready to ship at the cart: imported once the cart shows it as open."
        if not co.lines:
            return "nothing_to_ship", "No items for the warehouse (digital goods, services or gift cards only)."
        if co.is_test and self.connection.skip_test_orders:
            return "test_order", "A test order, and this connection skips test orders."
        return None

    def _store_new(self, co: CartOrder) -> None:
        skip = self._skip_reason(co)
        if skip:
            SkippedOrder.objects.update_or_create(
                cart_connection=self.connection,
                cart_order_id=co.cart_order_id,
                defaults={
                    "order_number": fit(SkippedOrder, "order_number", co.order_number),
                    "reason_code": skip[0],
                    "reason": skip[1],
                    "cart_status": co.cart_status,
                    "ordered_at": co.ordered_at,
                },
            )
            self.counts["skipped"] += 1
            return
        order = Order(
            merchant_id=self.connection.merchant_id, cart_connection=self.connection, cart_order_id=co.cart_order_id
        )
        apply_cart_fields(order, co)
        order.warehouse = self.context.warehouse
        try:
            with transaction.atomic():
                order.save()
        except IntegrityError:
            # Another run stored it a moment ago: it is an existing order now.
            self._update_existing(
                Order.objects.get(cart_connection=self.connection, cart_order_id=co.cart_order_id), co
            )
            return
        lines = build_lines(order, co)
        OrderLine.objects.bulk_create(lines)
        SkippedOrder.objects.filter(cart_connection=self.connection, cart_order_id=co.cart_order_id).delete()
        order_event(
            order,
            f"Imported from {self.connection.platform_label} (order #{order.order_number}).",
            code="imported",
            to_status=OrderStatus.NEW,
            run=self.run,
        )
        self.counts["imported"] += 1
        if order_prepare(order, lines, self.context, run=self.run) == OrderStatus.ERROR:
            self.counts["held"] += 1

    def _store_rejected(self, rejected: RejectedCartOrder, order: Order | None) -> None:
        if order is not None:
            order = Order.objects.select_for_update().get(pk=order.pk)
        self.counts["rejected"] += 1
        rejected.reason = rejected.reason.replace("\x00", "")
        message = (
            f"The cart sent this order in a form we cannot read: {rejected.reason}. "
            "Fix it at the cart; the next sync reads it again."
        )
        if not rejected.cart_order_id:
            self.run.error = (
                self.run.error + "\n" if self.run.error else ""
            ) + f"An order without an id was skipped: {rejected.reason}"
            return
        if order is None:
            order = Order(
                merchant_id=self.connection.merchant_id,
                cart_connection=self.connection,
                cart_order_id=rejected.cart_order_id,
                order_number=fit(Order, "order_number", rejected.order_number or rejected.cart_order_id),
                status=OrderStatus.ERROR,
                hold_code=HoldCode.BAD_PAYLOAD,
                hold_reason=message,
                cart_payload=jsonable(rejected.raw),
            )
            try:
                with transaction.atomic():
                    order.save()
            except IntegrityError:
                return
            order_event(order, message, code=HoldCode.BAD_PAYLOAD, to_status=OrderStatus.ERROR, run=self.run)
            self.counts["held"] += 1
        elif (
            order.status in PENDING_STATUSES and not _send_in_flight(order) and order.hold_code != HoldCode.BAD_PAYLOAD
        ):
            order.hold_code, order.hold_reason = HoldCode.BAD_PAYLOAD, message
            order.cart_payload = jsonable(rejected.raw)
            order_set_status(order, OrderStatus.ERROR, message, code=HoldCode.BAD_PAYLOAD, run=self.run)
            self.counts["held"] += 1

    def _note_lines_canceled_after_delivery(self, order: Order, co: CartOrder) -> None:
        newly = [
            line
            for line in order.lines.filter(canceled_at_cart=False)
            if (line.cart_line_id or str(line.line_no)) in _canceled_line_ids(co)
        ]
        if not newly:
            return
        OrderLine.objects.filter(pk__in=[line.pk for line in newly]).update(canceled_at_cart=True)
        described = ", ".join(f"line {ln.line_no} ({ln.cart_sku})" for ln in newly)
        order_event(
            order,
            f"Canceled at the cart after the order reached the warehouse: {described}. Line cancellations are "
            "not passed on by themselves: ask the warehouse not to ship these lines.",
            code="line_canceled_after_delivery",
            run=self.run,
        )

    # --- orders we already have -------------------------------------------------------------
    def _update_existing(self, order: Order, co: CartOrder) -> None:
        if not _changed_at_cart(order, co):
            return  # seen again in the overlap window, unchanged
        # Locked for the page's transaction: a delivery cannot claim it while we change it, and we
        # see a claim taken before (never overwriting a worker's delivery bookkeeping).
        order = Order.objects.select_for_update().get(pk=order.pk)
        if not _changed_at_cart(order, co):
            return
        status_changed = co.cart_status != order.cart_status
        if order.status in PENDING_STATUSES and _send_in_flight(order):
            # The warehouse may hold it already: record what the cart says and let the delivery
            # decide (it asks the warehouse, and sends nothing the cart has canceled).
            Order.objects.filter(pk=order.pk).update(
                cart_status=co.cart_status, cart_modified_at=co.modified_at or order.cart_modified_at
            )
            if co.cart_status in (CART_CANCELED, CART_FULFILLED):
                note = (
                    "Closed at the cart while a send may have reached the warehouse: if the warehouse has it, "
                    "ask it to stop the order; if not, it will not be sent."
                )
            else:
                note = "Changed at the cart while being sent: the change is not applied."
            order_event(order, note, code="changed_during_send", run=self.run)
            return
        if order.status in PENDING_STATUSES:
            if co.cart_status in (CART_CANCELED, CART_FULFILLED):
                why = "Canceled" if co.cart_status == CART_CANCELED else "Marked shipped"
                apply_cart_fields(order, co)
                order.hold_code, order.hold_reason = "", ""
                order_set_status(
                    order,
                    OrderStatus.CANCELED,
                    f"{why} at the cart before it reached the warehouse: it will not be sent.",
                    code="cart_" + co.cart_status,
                    run=self.run,
                )
                self.counts["canceled"] += 1
                return
            apply_cart_fields(order, co)
            order.save()
            order.lines.all().delete()
            lines = build_lines(order, co)
            OrderLine.objects.bulk_create(lines)
            order_event(order, "Updated from the cart (order changed there).", code="updated", run=self.run)
            self.counts["updated"] += 1
            if order_prepare(order, lines, self.context, run=self.run) == OrderStatus.ERROR:
                self.counts["held"] += 1
            return
        if order.status in DELIVERED_STATUSES and status_changed and co.cart_status == CART_CANCELED:
            order_event(
                order,
                "Canceled at the cart after it reached the warehouse: ask the warehouse to stop it.",
                code="cart_canceled_after_delivery",
                run=self.run,
            )
        if order.status in DELIVERED_STATUSES:
            self._note_lines_canceled_after_delivery(order, co)
        Order.objects.filter(pk=order.pk).update(
            cart_status=co.cart_status, cart_modified_at=co.modified_at or order.cart_modified_at
        )


def _out_of_range(co: CartOrder) -> str:
    """Why an order our columns cannot hold must be turned down (whatever the connector let by)."""
    for line in co.lines:
        if not 0 <= line.quantity <= MAX_QUANTITY:
            return f"line {line.line_no}: quantity {line.quantity} is not one an order holds"
        if not line.price.is_finite() or abs(line.price) > MAX_PRICE:
            return f"line {line.line_no}: price {line.price} is out of range"
    return ""


def _storable(page: OrderPage) -> OrderPage:
    """The page with orders our columns cannot hold moved to its rejected orders, with the reason.
    An id with a NUL character can be neither stored nor looked up (PostgreSQL refuses it in text):
    its order is rejected as one without an id, which the run names."""
    orders, rejected = [], []
    for co in page.orders:
        bad_id = _unusable_id(co.cart_order_id)
        reason = bad_id or _out_of_range(co)
        if not reason:
            orders.append(co)
            continue
        rejected.append(
            RejectedCartOrder(
                cart_order_id="" if bad_id else co.cart_order_id,
                order_number=fit(Order, "order_number", co.order_number),
                reason=reason,
                raw=co.raw,
            )
        )
    for bad in page.rejected:
        bad_id = _unusable_id(bad.cart_order_id)
        if bad_id:
            bad.reason, bad.cart_order_id = f"{bad_id}; {bad.reason}", ""
        rejected.append(bad)
    return OrderPage(orders=orders, rejected=rejected)


def _unusable_id(cart_order_id: str | None) -> str:
    if cart_order_id and "\x00" in cart_order_id:
        return f"its id {cart_order_id[:60]!r} holds a NUL character, which no database column can store"
    return ""


def _changed_at_cart(order: Order, co: CartOrder) -> bool:
    if order.hold_code == HoldCode.BAD_PAYLOAD or co.cart_status != order.cart_status:
        return True
    return co.modified_at is None or order.cart_modified_at is None or co.modified_at > order.cart_modified_at


def _canceled_line_ids(co: CartOrder) -> set[str]:
    return {line.cart_line_id or str(line.line_no) for line in co.lines if line.canceled}


def order_prepare(
    order: Order, lines: list[OrderLine], ctx: TranslationContext, *, run: SyncRun | None = None, why: str = ""
) -> str:
    """Translate and validate a pending order, fix its `cust_ref`, and set it `new` or held.

    Returns the resulting status. Saves the order and its lines.
    """
    holds: list[Hold] = order_translate(order, lines, ctx)
    holds += order_validate(order, lines, ctx)
    if order.warehouse_id is None and ctx.warehouse is not None:
        order.warehouse = ctx.warehouse
    if order.warehouse_id and not order.cust_ref:
        order_assign_cust_ref(order)
    OrderLine.objects.bulk_update(lines, ["warehouse_sku"])
    if ctx.warehouse_connector is not None and order.cust_ref:
        order.warehouse_payload = ctx.warehouse_connector.format_order(warehouse_order_for(order, lines))
    if holds:
        order.hold_code = holds[0].code
        order.hold_reason = " ".join(h.message for h in holds)
        if order.status != OrderStatus.ERROR:
            order_set_status(order, OrderStatus.ERROR, f"Held: {order.hold_reason}", code=order.hold_code, run=run)
        else:
            order.save()
            order_held_problem(order)  # still held: the open problem counts up, or names the new reason
        return OrderStatus.ERROR
    was_held = order.status == OrderStatus.ERROR
    order.hold_code, order.hold_reason = "", ""
    if was_held:
        because = f" ({why})" if why else ""
        order_set_status(
            order, OrderStatus.NEW, f"Released{because}: ready to send to the warehouse.", code="released", run=run
        )
    else:
        order.save()
    return OrderStatus.NEW


def _send_in_flight(order: Order) -> bool:
    """A send may have reached the warehouse, or a live worker is sending it now."""
    live_claim = bool(order.claimed_by) and order.claimed_until is not None and order.claimed_until > timezone.now()
    return order.delivery_uncertain or live_claim


def order_assign_cust_ref(order: Order) -> None:
    """Give the order its warehouse reference: unique in the warehouse's account (ignoring case, as
    warehouses compare references), within the warehouse's limits, saved before any send."""
    if order_reference_reserve(order, reference_candidates(order, order.warehouse)) is not None:
        return
    stored = Order.objects.values_list("cust_ref", "warehouse_account").get(pk=order.pk)
    if stored[0]:  # given one a moment ago by another run
        order.cust_ref, order.warehouse_account = stored
        return
    raise RuntimeError(f"no free cust_ref for order {order.pk}")
