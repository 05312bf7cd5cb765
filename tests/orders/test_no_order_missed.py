"""No order missed: orders that appear at the cart while a sync runs, in another time zone, or on a page
boundary are all imported by the next run, and none twice (the real connector against the sandbox).

`tests/orders/test_import.py` covers an order moved to a later page within one run, the watermark's
arithmetic and a page that cannot be read; these cover what lands *behind* the run's read position.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from orders.models import Order, OrderEvent, OrderStatus, SyncRun
from sandbox.squarespace_data import iso
from tests.orders.helpers import ago, order_for, seed, sync


def imported_once_each(wired, cart_orders) -> None:
    """Every cart order is stored once, imported once, and (when it is deliverable) sent once."""
    ids = [o["id"] for o in cart_orders]
    assert sorted(Order.objects.filter(cart_connection=wired.cart).values_list("cart_order_id", flat=True)) == sorted(
        ids
    )
    for cart_order in cart_orders:
        order = order_for(wired.cart, cart_order)
        assert OrderEvent.objects.filter(order=order, code="imported").count() == 1, cart_order["orderNumber"]
        assert order.lines.count() == len(cart_order["lineItems"])
    assert wired.bergen.duplicate_count() == 0


def current_run() -> SyncRun:
    return SyncRun.objects.latest("pk")


def at_ms(moment: datetime) -> datetime:
    """The instant as Squarespace stores it (milliseconds)."""
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


# --- created or modified at the cart while a sync is running -------------------------------------------


@pytest.mark.parametrize(
    "stamped",
    [
        pytest.param(lambda run: ago(minutes=6), id="behind-the-pages-already-read"),
        pytest.param(lambda run: run.window_end - timedelta(seconds=1), id="just-inside-the-window-end"),
        pytest.param(lambda run: run.window_end, id="at-the-window-end"),
        pytest.param(lambda run: ago(seconds=5), id="in-the-lag-after-the-window"),
    ],
)
def test_an_order_created_at_the_cart_during_a_run_is_imported_by_the_next_run(wired, small_pages, settings, stamped):
    """Carts stamp `modifiedOn` when the change starts and show it when it commits: an order can appear
    with a time the listing has already passed. The next run re-reads the overlap and takes it."""
    placed = ago(minutes=5)
    orders = [seed(small_pages, str(1001 + i), created_on=placed + timedelta(seconds=i)) for i in range(4)]
    late: list[dict] = []

    def add_an_order_mid_run(message: str) -> None:
        if message.startswith("page 1:") and not late:
            when = stamped(current_run())
            late.append(small_pages.add_order(order_number="1100", created_on=when, modified_on=when))

    first = sync(wired.cart, progress=add_an_order_mid_run)
    settings.ORDER_IMPORT_LAG_SECONDS = 0  # the next scheduled run comes minutes later: past the lag
    second = sync(wired.cart)

    assert first.status == second.status == "succeeded", (first.error, second.error)
    assert late and first.counts["imported"] + second.counts["imported"] == 5
    imported_once_each(wired, [*orders, *late])
    assert order_for(wired.cart, late[0]).status == OrderStatus.AT_WMS
    assert len(wired.bergen.orders) == 5


def test_an_order_created_behind_the_read_position_is_not_in_that_run_but_in_the_next(wired, small_pages):
    """The gap the overlap exists for, shown: the run that was paging misses it, the next one reads it."""
    orders = [seed(small_pages, str(1001 + i), created_on=ago(minutes=5, seconds=-i)) for i in range(4)]
    late: list[dict] = []

    def add_an_order_behind_the_cursor(message: str) -> None:
        if message.startswith("page 1:") and not late:
            late.append(small_pages.add_order(order_number="1100", created_on=ago(minutes=6)))

    first = sync(wired.cart, progress=add_an_order_behind_the_cursor)

    assert first.counts["imported"] == 4
    assert not Order.objects.filter(cart_order_id=late[0]["id"]).exists()
    assert wired.cart.order_watermark > datetime.fromisoformat(late[0]["modifiedOn"].replace("Z", "+00:00"))

    second = sync(wired.cart)

    assert second.counts["imported"] == 1
    imported_once_each(wired, [*orders, *late])


def test_an_order_canceled_at_the_cart_during_a_run_behind_the_read_position_is_canceled_by_the_next(
    wired, small_pages
):
    held = seed(small_pages, "1001", created_on=ago(minutes=5), lines=[{"sku": "NOT-STOCKED", "quantity": 1}])
    others = [seed(small_pages, str(1002 + i), created_on=ago(minutes=5, seconds=-(i + 1))) for i in range(3)]
    canceled: list[dict] = []

    def cancel_mid_run(message: str) -> None:
        if message.startswith("page 1:") and not canceled:
            modified = datetime.fromisoformat(held["modifiedOn"].replace("Z", "+00:00")) + timedelta(milliseconds=1)
            canceled.append(small_pages.update_order(held["id"], fulfillmentStatus="CANCELED", modifiedOn=modified))

    first = sync(wired.cart, progress=cancel_mid_run)
    order = order_for(wired.cart, held)
    assert first.status == "partial" and order.status == OrderStatus.ERROR  # held: the cancellation not seen yet

    second = sync(wired.cart)

    order.refresh_from_db()
    assert second.counts["canceled"] == 1
    assert (order.status, order.cart_status) == (OrderStatus.CANCELED, "canceled")
    assert order.cart_modified_at == datetime.fromisoformat(canceled[0]["modifiedOn"].replace("Z", "+00:00"))
    imported_once_each(wired, [held, *others])
    assert sorted(wired.bergen.orders_by_reference()) == ["1002", "1003", "1004"]


def test_an_order_modified_at_the_cart_during_a_run_is_applied_by_the_next_run(wired, small_pages):
    """A held order whose address is fixed at the cart while the run pages through is released next run."""
    held = seed(small_pages, "1001", created_on=ago(minutes=5), shipping_address={"city": None})
    others = [seed(small_pages, str(1002 + i), created_on=ago(minutes=5, seconds=-(i + 1))) for i in range(3)]
    fixed: list[dict] = []

    def fix_the_address_mid_run(message: str) -> None:
        if message.startswith("page 1:") and not fixed:
            address = dict(held["shippingAddress"], city="Hoboken")
            modified = datetime.fromisoformat(held["modifiedOn"].replace("Z", "+00:00")) + timedelta(milliseconds=1)
            fixed.append(small_pages.update_order(held["id"], shippingAddress=address, modifiedOn=modified))

    sync(wired.cart, progress=fix_the_address_mid_run)
    assert order_for(wired.cart, held).status == OrderStatus.ERROR

    second = sync(wired.cart)

    order = order_for(wired.cart, held)
    assert second.counts["updated"] == 1
    assert (order.status, order.ship_city) == (OrderStatus.AT_WMS, "Hoboken")
    imported_once_each(wired, [held, *others])
    assert len(wired.bergen.orders) == 4


# --- another time zone ---------------------------------------------------------------------------------


IST = timezone(timedelta(hours=5, minutes=30))
PST = timezone(timedelta(hours=-8))


def test_an_order_written_in_plus_0530_is_imported_once_at_the_right_utc_instant(wired, offset_cart):
    """Placed five minutes ago: in +05:30 its wall-clock time lies hours in the future, which a reader
    dropping the offset would take for an order not due yet (or a date on the wrong day)."""
    placed = at_ms(ago(minutes=5))
    cart_order = seed(offset_cart, "1001", created_on=placed)

    first = sync(wired.cart)
    second = sync(wired.cart)

    assert first.counts["imported"] == 1 and second.counts["imported"] == 0
    assert second.counts["updated"] == 0  # the same instant spelt with an offset is not a change
    order = order_for(wired.cart, cart_order)
    assert order.ordered_at == placed and order.ordered_at.utcoffset() == timedelta(0)
    assert order.cart_modified_at == placed
    assert order.cart_payload["modifiedOn"].endswith("+05:30")
    imported_once_each(wired, [cart_order])
    assert len(wired.bergen.orders) == 1


def test_created_on_in_raw_offsets_reads_as_the_same_utc_instant(wired):
    """`createdOn` written by the cart in +05:30 and -08:00 (raw overrides) gives the UTC instant."""
    placed = at_ms(ago(minutes=5))
    east = seed(wired.squarespace, "1001", created_on=placed, createdOn=placed.astimezone(IST).isoformat())
    west = seed(wired.squarespace, "1002", created_on=placed, createdOn=placed.astimezone(PST).isoformat())

    run = sync(wired.cart)

    assert run.counts["imported"] == 2
    for cart_order in (east, west):
        assert order_for(wired.cart, cart_order).ordered_at == placed
    imported_once_each(wired, [east, west])


def test_a_change_stamped_in_minus_0800_is_seen_as_newer_than_the_stored_utc_time(wired, offset_cart, settings):
    """The change's wall-clock time in -08:00 is hours *before* the stored UTC time: the comparison must
    be between instants, or the change is dropped as stale."""
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    cart_order = seed(offset_cart, "1001", shipping_address={"city": None})
    offset_cart.offsets[cart_order["id"]] = timedelta(0)
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.ERROR

    offset_cart.offsets[cart_order["id"]] = timedelta(hours=-8)
    changed = offset_cart.update_order(
        cart_order["id"], shippingAddress=dict(cart_order["shippingAddress"], city="Hoboken")
    )
    run = sync(wired.cart)

    order.refresh_from_db()
    assert run.counts["updated"] == 1
    assert order.status == OrderStatus.AT_WMS
    assert order.cart_modified_at == datetime.fromisoformat(changed["modifiedOn"].replace("Z", "+00:00"))
    imported_once_each(wired, [cart_order])


# --- page boundaries -----------------------------------------------------------------------------------


def test_orders_with_identical_modified_on_across_page_boundaries_are_each_imported_once(wired, small_pages):
    same = ago(minutes=5)
    orders = [seed(small_pages, str(1001 + i), created_on=same) for i in range(5)]

    first = sync(wired.cart)
    wired.cart.order_watermark = None  # read the whole range again, pages and all
    wired.cart.save()
    again = sync(wired.cart)

    assert first.counts["imported"] == 5 and first.counts["pages"] == 3
    assert again.counts["imported"] == 0 and again.counts["updated"] == 0
    imported_once_each(wired, orders)
    assert len(wired.bergen.orders) == 5


def test_an_order_appearing_at_a_page_boundary_with_the_same_modified_on_is_imported(wired, small_pages):
    """Two orders appear after page 1 with the same `modifiedOn` as the page's last order: one sorts
    before the cursor (by id), one after. The run takes the later one; the next run the earlier."""
    same = ago(minutes=5)
    orders = [seed(small_pages, str(1001 + i), created_on=same) for i in range(4)]
    added: list[dict] = []

    def add_at_the_boundary(message: str) -> None:
        if message.startswith("page 1:") and not added:
            for number, order_id in (("1100", "0" * 24), ("1101", "f" * 24)):
                added.append(small_pages.add_order(order_number=number, created_on=same, id=order_id))

    first = sync(wired.cart, progress=add_at_the_boundary)

    assert iso(same) == added[0]["modifiedOn"] == orders[0]["modifiedOn"]
    assert Order.objects.filter(cart_order_id="f" * 24).exists()
    assert not Order.objects.filter(cart_order_id="0" * 24).exists()
    assert first.counts["imported"] == 5

    second = sync(wired.cart)

    assert second.counts["imported"] == 1
    imported_once_each(wired, [*orders, *added])
    assert len(wired.bergen.orders) == 6


def test_an_order_whose_modified_on_equals_the_watermark_is_imported(wired, small_pages, settings):
    """Squarespace's range is exclusive at both ends: an order stamped exactly at the previous run's
    end is in neither window unless the next one reaches back (the overlap)."""
    first = sync(wired.cart)
    watermark = wired.cart.order_watermark
    at_watermark = small_pages.add_order(order_number="1001", created_on=watermark, modified_on=watermark)

    second = sync(wired.cart)

    assert first.counts.get("imported", 0) == 0
    assert second.counts["imported"] == 1
    assert datetime.fromisoformat(at_watermark["modifiedOn"].replace("Z", "+00:00")) <= watermark
    imported_once_each(wired, [at_watermark])
    assert second.window_start.astimezone(UTC) < watermark
