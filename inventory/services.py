"""Inventory back: read the warehouse's stock, push each cart item's level through the aliases.

The level pushed for a cart item is what the warehouse has available of the warehouse SKU behind
it, minus the units on our orders that have not reached the warehouse yet (`new` and held), minus
the connection's buffer; below the connection's minimum it is 0, and never negative. Every cart
SKU behind one warehouse SKU gets that full level. Only levels that changed since the last
push the cart showed are sent, except in a full push (nightly, or asked for), which corrects drift;
a level the cart did not show after its push is sent again (see `inventory.readback`).

The cart's item list (its catalog) is read when it is older than `INVENTORY_CATALOG_REFRESH_MINUTES`,
on a full push, or when asked for; in between, a run works from the items last read, so that a run
with nothing changed costs the warehouse's stock pages and no more.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from integrations.connectors.base import CartConnector
from integrations.connectors.canonical import CartInventoryItem, InventoryUpdate
from integrations.models import CartConnection, WMSConnection
from integrations.services import warehouse_connector_for
from inventory.models import CartInventoryLevel, StockLevel
from inventory.readback import levels_unverified, unverified_levels_problem
from orders.models import OrderLine, OrderStatus, SKUAlias, SyncRun
from orders.services.bulk import rows_insert, rows_update
from orders.services.records.sync_runs import counting_into

FULL_PUSH_EVERY = timedelta(hours=24)
READ_STAMP_CHUNK = 900
LEVEL_FIELDS = [
    "cart_sku",
    "warehouse_sku",
    "state",
    "cart_quantity",
    "computed_quantity",
    "pushed_quantity",
    "pushed_at",
    "last_error",
    "unverified_runs",
]
# Sent again next run even when the level has not changed: the cart refused it or did not show it.
RESEND_STATES = (CartInventoryLevel.State.REFUSED, CartInventoryLevel.State.UNVERIFIED)


def warehouse_stock_read(
    *, warehouse: WMSConnection, progress: Callable[[str], None] | None = None, counts: dict[str, int] | None = None
) -> dict[str, int]:
    """Read every stock level from the warehouse into StockLevel rows (counting into `counts` page by page)."""
    counts = counting_into(counts, "levels_read", "levels_changed")
    connector = warehouse_connector_for(connection=warehouse)
    now = timezone.now()
    # (pk, available, on_hand) per SKU: plain rows, not 20,000 model instances.
    existing = {
        sku: (pk, available, on_hand)
        for pk, sku, available, on_hand in StockLevel.objects.filter(warehouse=warehouse).values_list(
            "pk", "warehouse_sku", "available", "on_hand"
        )
    }
    to_create: dict[str, StockLevel] = {}
    to_update: list[tuple[int, int | None, int]] = []
    read: list[int] = []
    seen = 0
    for page in connector.iter_stock_levels():
        for level in page:
            seen += 1
            row = existing.get(level.sku)
            if row is None:
                to_create.setdefault(
                    level.sku,
                    StockLevel(
                        warehouse=warehouse,
                        warehouse_sku=level.sku[:200],
                        available=level.available,
                        on_hand=level.on_hand,
                        read_at=now,
                    ),
                )
            elif (row[1], row[2]) != (level.available, level.on_hand):
                to_update.append((level.available, level.on_hand, row[0]))
            else:
                read.append(row[0])
        counts["levels_read"] = seen
        if progress:
            progress(f"{seen} stock levels read")
    StockLevel.objects.bulk_create(to_create.values(), batch_size=500, ignore_conflicts=True)
    # Only the levels that changed are rewritten; the others are just stamped as read.
    rows_update(StockLevel, ["available", "on_hand", "read_at"], [(*values, now, pk) for *values, pk in to_update])
    if len({*read, *(pk for *_, pk in to_update)}) == len(existing):  # every known level was read:
        # one statement, no key list (on PostgreSQL the per-key lists cost more than the stamping)
        StockLevel.objects.filter(warehouse=warehouse).exclude(read_at=now).update(read_at=now)
    else:
        _stamp_read(StockLevel, read, now)
    counts["levels_changed"] = len(to_update) + len(to_create)
    return counts


def _stamp_read(model, pks: list[int], now) -> None:
    for start in range(0, len(pks), READ_STAMP_CHUNK):
        model.objects.filter(pk__in=pks[start : start + READ_STAMP_CHUNK]).update(read_at=now)


def units_not_at_warehouse(*, warehouse: WMSConnection) -> dict[str, int]:
    """Units per warehouse SKU on orders bound for this warehouse that have not reached it yet
    (new and held), counting the merchant's orders that have no warehouse yet."""
    bound_here = Q(order__warehouse=warehouse) | Q(
        order__warehouse__isnull=True, order__merchant_id=warehouse.merchant_id
    )
    rows = (
        OrderLine.objects.filter(bound_here, order__status__in=(OrderStatus.NEW, OrderStatus.ERROR))
        .exclude(warehouse_sku="")
        .values("warehouse_sku")
        .annotate(units=Sum("quantity"))
    )
    return {r["warehouse_sku"]: max(int(r["units"] or 0), 0) for r in rows}


def level_to_push(*, available: int, reserved: int, buffer: int, minimum: int) -> int:
    quantity = available - reserved - buffer
    if quantity < minimum:
        return 0
    return max(quantity, 0)


# What an inventory push counts (`verified` + `unverified` = `inventory_pushed`).
PUSH_COUNTS = (
    "inventory_pushed",
    "inventory_unchanged",
    "inventory_refused",
    "verified",
    "unverified",
    "unknown_at_warehouse",
    "unknown_at_cart",
    "not_tracked",
)


def cart_inventory_push(
    *,
    connection: CartConnection,
    connector: CartConnector,
    run: SyncRun | None,
    full: bool = False,
    read_catalog: bool = False,
    progress: Callable[[str], None] | None = None,
    counts: dict[str, int] | None = None,
) -> dict[str, int]:
    """Compute and push the levels of every item at the cart (counting into `counts` as it goes).
    Raises on auth/throttling (stop), and `CallTurnedOffError` before anything is read or sent when
    the cart's inventory upload is an unconfirmed call that is off for the connection.

    `read_catalog` reads the cart's item list even when the last read is recent (a person asked)."""
    connector.inventory_check()
    warehouse = connection.resolved_warehouse()
    counts = counting_into(counts, *PUSH_COUNTS)
    if warehouse is None:
        return counts
    now = timezone.now()
    full = (
        full
        or connection.inventory_full_push_at is None
        or (now - connection.inventory_full_push_at >= FULL_PUSH_EVERY)
    )
    available = dict(StockLevel.objects.filter(warehouse=warehouse).values_list("warehouse_sku", "available"))
    reserved = units_not_at_warehouse(warehouse=warehouse)
    aliases = dict(SKUAlias.objects.filter(merchant_id=connection.merchant_id).values_list("cart_sku", "warehouse_sku"))
    read_catalog = read_catalog or full or _catalog_due(connection, now)
    rows, due, cart_skus = _levels_compute(
        connection=connection,
        connector=connector,
        available=available,
        reserved=reserved,
        aliases=aliases,
        full=full,
        read_catalog=read_catalog,
        now=now,
        progress=progress,
        counts=counts,
    )
    _save_levels(rows.values(), stamp_read=now if read_catalog else None)
    _levels_send(
        connection=connection, connector=connector, run=run, rows=rows, due=due, progress=progress, counts=counts
    )
    unverified_levels_problem(connection=connection)
    behind = {cart for cart, wms in aliases.items() if wms in available}
    counts["unknown_at_cart"] = len(behind - cart_skus)
    _connection_stamp(connection, now=now, catalog_read=read_catalog and connector.inventory_listing, full=full)
    return counts


def _levels_compute(
    *,
    connection: CartConnection,
    connector: CartConnector,
    available: dict[str, int],
    reserved: dict[str, int],
    aliases: dict[str, str],
    full: bool,
    read_catalog: bool,
    now,
    progress: Callable[[str], None] | None,
    counts: dict[str, int],
) -> tuple[dict[str, CartInventoryLevel], list[InventoryUpdate], set[str]]:
    """The level row of every cart item with the level it should have, the updates due (changed,
    refused last time, or all of them in a full push) and the cart SKUs seen."""
    known = {lv.cart_item_key: lv for lv in CartInventoryLevel.objects.filter(cart_connection=connection)}
    for level in known.values():
        level._as_read = _level_values(level)
    cart_skus: set[str] = set()
    due: list[InventoryUpdate] = []
    rows: dict[str, CartInventoryLevel] = {}
    for page in _cart_items(connection, connector, known if not read_catalog else None):
        for item in page:
            cart_skus.add(item.sku)
            row = known.get(item.key) or CartInventoryLevel(cart_connection=connection, cart_item_key=item.key[:200])
            row.cart_sku, row.cart_quantity = item.sku[:200], item.quantity
            if read_catalog or row.read_at is None:
                row.read_at = now
            row.warehouse_sku = aliases.get(item.sku, item.sku)[:200]
            rows[item.key] = row
            if item.quantity is None:
                row.state = CartInventoryLevel.State.NOT_TRACKED
                counts["not_tracked"] += 1
                continue
            if row.warehouse_sku not in available:
                row.state = CartInventoryLevel.State.UNKNOWN_AT_WAREHOUSE
                row.last_error = f"The warehouse reports no stock line for {row.warehouse_sku}: add an SKU alias?"
                counts["unknown_at_warehouse"] += 1
                continue
            row.computed_quantity = level_to_push(
                available=available[row.warehouse_sku],
                reserved=reserved.get(row.warehouse_sku, 0),
                buffer=connection.inventory_buffer,
                minimum=connection.inventory_min_level,
            )
            if full or row.pushed_quantity != row.computed_quantity or row.state in RESEND_STATES:
                due.append(InventoryUpdate(key=item.key, sku=item.sku, quantity=row.computed_quantity))
            else:
                counts["inventory_unchanged"] += 1
        if progress:
            progress(f"{len(rows)} cart items read, {len(due)} to push")
    return rows, due, cart_skus


def _levels_send(
    *,
    connection: CartConnection,
    connector: CartConnector,
    run: SyncRun | None,
    rows: dict[str, CartInventoryLevel],
    due: list[InventoryUpdate],
    progress: Callable[[str], None] | None,
    counts: dict[str, int],
) -> None:
    """Push the due updates in the connector's batches, each batch's outcome saved on its rows."""
    for start in range(0, len(due), connector.inventory_batch_size):
        batch = due[start : start + connector.inventory_batch_size]
        result = connector.set_inventory(batch, idempotency_key=_batch_key(connection, run, batch))
        pushed_at = timezone.now()
        verified, unverified = set(result.verified), levels_unverified(result=result)
        for update in batch:
            row = rows[update.key]
            if update.key in verified:
                # The cart showed this level after the push: the next run compares against it.
                row.pushed_quantity, row.cart_quantity, row.pushed_at, row.state, row.last_error = (
                    update.quantity,
                    update.quantity,
                    pushed_at,
                    CartInventoryLevel.State.OK,
                    "",
                )
                row.unverified_runs = 0
                counts["inventory_pushed"] += 1
                counts["verified"] += 1
            elif update.key in unverified:
                # Accepted, not shown: not recorded as pushed, so the next run sends it again.
                row.state, row.unverified_runs = CartInventoryLevel.State.UNVERIFIED, row.unverified_runs + 1
                row.last_error = f"Sent {update.quantity}, not shown by the cart: {unverified[update.key]}"
                counts["inventory_pushed"] += 1
                counts["unverified"] += 1
            else:
                row.state, row.unverified_runs = CartInventoryLevel.State.REFUSED, 0
                row.last_error = result.refused.get(update.key, "not accepted by the cart")
                counts["inventory_refused"] += 1
        _save_levels(rows[u.key] for u in batch)
        if progress:
            progress(
                f"{counts['inventory_pushed']} levels pushed ({counts['unverified']} not shown by the cart), "
                f"{counts['inventory_refused']} refused"
            )


def _connection_stamp(connection: CartConnection, *, now, catalog_read: bool, full: bool) -> None:
    """Record on the connection when its catalog was read and when it had a full push."""
    stamps = {"inventory_catalog_read_at": now} if catalog_read else {}
    if full:
        stamps["inventory_full_push_at"] = now
    if stamps:
        CartConnection.objects.filter(pk=connection.pk).update(**stamps)
        for name, value in stamps.items():
            setattr(connection, name, value)


def _catalog_due(connection: CartConnection, now) -> bool:
    read_at = connection.inventory_catalog_read_at
    return read_at is None or now - read_at >= timedelta(minutes=settings.INVENTORY_CATALOG_REFRESH_MINUTES)


def _cart_items(connection: CartConnection, connector: CartConnector, known: dict[str, CartInventoryLevel] | None):
    """The cart's items, a page at a time: listed by the cart, or as last listed (`known`, when the
    catalog is not due), or (for a cart that cannot list them) the items seen on its orders, with
    the level we last pushed as the cart's quantity."""
    if connector.inventory_listing and known is not None:
        yield [CartInventoryItem(key=key, sku=row.cart_sku, quantity=row.cart_quantity) for key, row in known.items()]
        return
    if connector.inventory_listing:
        yield from connector.iter_inventory()
        return
    pushed = dict(
        CartInventoryLevel.objects.filter(cart_connection=connection).values_list("cart_item_key", "pushed_quantity")
    )
    seen = (
        OrderLine.objects.filter(order__cart_connection=connection)
        .exclude(cart_item_key="")
        .values_list("cart_item_key", "cart_sku")
        .distinct()
        .order_by("cart_item_key")
    )
    items = {key: sku for key, sku in seen}
    yield [CartInventoryItem(key=key, sku=sku, quantity=pushed.get(key) or 0) for key, sku in items.items()]


def _batch_key(connection: CartConnection, run: SyncRun | None, batch: list[InventoryUpdate]) -> str:
    """Stable within a run (a resent batch is applied once), new in the next run (a level that
    returns to an earlier value is still set)."""
    run_part = run.pk if run is not None else timezone.now().isoformat()
    digest = hashlib.sha256(
        f"{connection.pk}|{run_part}|".encode() + "|".join(f"{u.key}={u.quantity}" for u in batch).encode()
    ).hexdigest()
    return f"ob-inv-{digest[:48]}"


def _level_values(row: CartInventoryLevel) -> tuple:
    return tuple(getattr(row, name) for name in LEVEL_FIELDS)


def _save_levels(rows, *, stamp_read=None) -> None:
    """Insert new rows; rewrite only the rows whose values changed; stamp the rest as read at
    `stamp_read` (when the cart's list was read this run)."""
    rows = list(rows)
    new = [r for r in rows if r.pk is None]
    rows_insert(CartInventoryLevel, new)
    for row in new:
        row._as_read = _level_values(row)
    inserted = {id(r) for r in new}
    changed = [r for r in rows if id(r) not in inserted and getattr(r, "_as_read", None) != _level_values(r)]
    fields = [*LEVEL_FIELDS, "read_at"]
    rows_update(CartInventoryLevel, fields, [(*(getattr(r, f) for f in fields), r.pk) for r in changed])
    for row in changed:
        row._as_read = _level_values(row)
    if stamp_read is not None:
        rewritten = {id(r) for r in changed}
        _stamp_read(CartInventoryLevel, [r.pk for r in rows if r.pk is not None and id(r) not in rewritten], stamp_read)
