"""Orders in: the real Squarespace connector against the sandbox, stored once, windowed by a watermark."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from integrations.connectors.parsing import format_datetime
from orders.models import HoldCode, Order, OrderEvent, OrderLine, OrderStatus, SkippedOrder
from sandbox.squarespace import SquarespaceSandbox
from tests.orders.helpers import ORDERS_PATH, ago, cooldowns_end, order_for, seed, status_changes, sync


@pytest.fixture
def small_pages(wired):
    """A Squarespace sandbox answering two orders a page, with the wired cart pointed at it."""
    with SquarespaceSandbox(page_size=2, rate_limit_per_minute=None) as sandbox:
        wired.cart.api_base_url = sandbox.base_url
        wired.cart.save()
        yield sandbox


# --- idempotency -------------------------------------------------------------------------------------


def test_syncing_twice_stores_one_order_with_one_imported_row_and_its_lines_once(wired):
    cart_order = seed(
        wired.squarespace,
        "1001",
        lines=[
            {"sku": "SKU-1", "quantity": 2, "price": "10.00", "name": "Widget"},
            {"sku": "SKU-2", "quantity": 1, "price": "5.00", "name": "Gadget"},
        ],
    )

    first = sync(wired.cart)
    second = sync(wired.cart)

    assert first.counts["imported"] == 1
    assert second.counts["imported"] == 0
    order = order_for(wired.cart, cart_order)
    assert Order.objects.filter(cart_connection=wired.cart).count() == 1
    assert OrderEvent.objects.filter(order=order, code="imported").count() == 1
    assert list(order.lines.values_list("line_no", "cart_sku", "quantity")) == [(1, "SKU-1", 2), (2, "SKU-2", 1)]


def test_reading_the_same_page_again_after_a_lost_watermark_stores_nothing_twice(wired):
    cart_order = seed(wired.squarespace, "1001")
    sync(wired.cart)
    wired.cart.order_watermark = None  # as if the first run had not been able to record its watermark
    wired.cart.save()

    rerun = sync(wired.cart)

    assert rerun.counts["imported"] == 0
    order = order_for(wired.cart, cart_order)
    assert Order.objects.filter(cart_connection=wired.cart).count() == 1
    assert OrderEvent.objects.filter(order=order, code="imported").count() == 1
    assert order.lines.count() == 1
    assert wired.bergen.duplicate_count() == 0
    assert len(wired.bergen.orders) == 1


def test_an_order_modified_while_the_pages_are_read_and_listed_twice_in_one_run_is_stored_once(wired, small_pages):
    orders = [seed(small_pages, str(1001 + i), created_on=ago(minutes=5, seconds=-i)) for i in range(5)]
    moved = orders[0]

    def move_first_order_to_the_end(message: str) -> None:
        # The listing is keyset-paged by modifiedOn: an order changed while the run pages through
        # comes back on a later page of the same run.
        if message.startswith("page 1:"):
            small_pages.update_order(moved["id"], modifiedOn=ago(seconds=45))

    run = sync(wired.cart, progress=move_first_order_to_the_end)

    assert run.status == "succeeded", run.error
    assert run.counts["imported"] == 5
    # Read a second time on a later page, after page 1's orders went to the warehouse: not sent again.
    assert run.counts["updated"] == 0 and run.counts["delivered"] == 5
    order = order_for(wired.cart, moved)
    assert Order.objects.filter(cart_connection=wired.cart).count() == 5
    assert OrderEvent.objects.filter(order=order, code="imported").count() == 1
    assert OrderLine.objects.filter(order=order).count() == 1
    assert wired.bergen.duplicate_count() == 0
    assert len(wired.bergen.orders) == 5


# --- the first import ----------------------------------------------------------------------------------


def test_the_first_import_takes_only_open_orders(wired):
    open_order = seed(wired.squarespace, "1001")
    seed(wired.squarespace, "1002", fulfillment_status="FULFILLED")
    seed(wired.squarespace, "1003", fulfillment_status="CANCELED")

    run = sync(wired.cart)

    assert run.counts["imported"] == 1
    assert list(Order.objects.values_list("cart_order_id", flat=True)) == [open_order["id"]]
    first_request = wired.squarespace.requests_to(ORDERS_PATH, "GET")[0]
    assert first_request.param("fulfillmentStatus") == "PENDING"


def test_the_first_import_skips_an_order_placed_before_the_earliest_order_date_as_too_old(wired):
    placed = timezone.now() - timedelta(days=45)  # the factory's earliest order date is 30 days ago
    old = seed(wired.squarespace, "900", created_on=placed, modified_on=ago(minutes=5))
    recent = seed(wired.squarespace, "1001")

    run = sync(wired.cart)

    assert run.counts["imported"] == 1
    assert run.counts["skipped"] == 1
    assert Order.objects.filter(cart_connection=wired.cart).get().cart_order_id == recent["id"]
    skipped = SkippedOrder.objects.get(cart_connection=wired.cart)
    assert skipped.cart_order_id == old["id"]
    assert skipped.order_number == "900"
    assert skipped.reason_code == "too_old"
    assert "earliest order date" in skipped.reason


def test_test_orders_are_imported_when_the_connection_does_not_skip_them(wired):
    cart_order = seed(wired.squarespace, "1001", testmode=True)

    sync(wired.cart)

    assert order_for(wired.cart, cart_order).is_test is True
    assert not SkippedOrder.objects.exists()


def test_test_orders_are_skipped_as_test_order_when_the_connection_skips_them(wired):
    wired.cart.skip_test_orders = True
    wired.cart.save()
    test_order = seed(wired.squarespace, "1001", testmode=True)
    real = seed(wired.squarespace, "1002")

    run = sync(wired.cart)

    assert run.counts["skipped"] == 1
    assert list(Order.objects.values_list("cart_order_id", flat=True)) == [real["id"]]
    skipped = SkippedOrder.objects.get()
    assert (skipped.cart_order_id, skipped.reason_code) == (test_order["id"], "test_order")
    assert wired.bergen.duplicate_count() == 0
    assert list(wired.bergen.orders_by_reference()) == ["1002"]


# --- the watermark -------------------------------------------------------------------------------------


def test_the_first_run_sets_a_utc_watermark_and_the_next_run_reads_from_it_less_the_overlap(wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 30
    settings.ORDER_IMPORT_OVERLAP_SECONDS = 600
    before = timezone.now()

    first = sync(wired.cart)
    after = timezone.now()
    watermark = wired.cart.order_watermark
    second = sync(wired.cart)

    assert watermark is not None
    assert watermark.utcoffset() == timedelta(0)
    assert watermark == first.window_end
    assert before - timedelta(seconds=30) <= watermark <= after - timedelta(seconds=30)
    assert second.window_start == watermark - timedelta(seconds=600)
    assert wired.cart.order_watermark == second.window_end
    request = wired.squarespace.requests_to(ORDERS_PATH, "GET")[-1]
    assert request.param("modifiedAfter") == format_datetime(second.window_start.astimezone(UTC))
    assert request.param("fulfillmentStatus") is None  # later runs read every status, to see cancellations


def test_a_change_at_the_cart_is_applied_to_a_held_order_by_the_next_run(wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    cart_order = seed(wired.squarespace, "1001", shipping_address={"city": None})
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    assert (order.status, order.hold_code) == (OrderStatus.ERROR, HoldCode.MISSING_ADDRESS)

    address = dict(cart_order["shippingAddress"], city="Hoboken")
    wired.squarespace.update_order(cart_order["id"], shippingAddress=address)
    run = sync(wired.cart)

    order.refresh_from_db()
    assert run.counts["updated"] == 1
    assert order.ship_city == "Hoboken"
    assert order.status == OrderStatus.AT_WMS
    assert OrderEvent.objects.filter(order=order, code="updated").count() == 1
    assert wired.bergen.orders_by_reference()[order.cust_ref][0]["shipTo"]["city"] == "Hoboken"


def test_a_change_at_the_cart_is_applied_to_a_new_order_not_yet_sent(wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    cart_order = seed(wired.squarespace, "1001")
    wired.bergen.fail_next(1, status=429, headers={"Retry-After": "120"}, path_contains="/orders", method="POST")
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.NEW

    lines = [dict(cart_order["lineItems"][0], quantity=5)]
    wired.squarespace.update_order(cart_order["id"], lineItems=lines)
    cooldowns_end()
    run = sync(wired.cart)

    order.refresh_from_db()
    assert run.counts["updated"] == 1
    assert list(order.lines.values_list("quantity", flat=True)) == [5]
    assert order.status == OrderStatus.AT_WMS
    assert wired.bergen.orders_by_reference()[order.cust_ref][0]["orderItems"][0]["qty"] == 5


def test_an_order_canceled_at_the_cart_before_delivery_becomes_canceled_with_history(wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    cart_order = seed(wired.squarespace, "1001", lines=[{"sku": "NOT-STOCKED", "quantity": 1}])
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.ERROR

    wired.squarespace.update_order(cart_order["id"], fulfillmentStatus="CANCELED")
    run = sync(wired.cart)

    order.refresh_from_db()
    assert run.counts["canceled"] == 1
    assert order.status == OrderStatus.CANCELED
    assert order.cart_status == "canceled"
    event = OrderEvent.objects.filter(order=order).last()
    assert (event.from_status, event.to_status) == (OrderStatus.ERROR, OrderStatus.CANCELED)
    assert "Canceled at the cart" in event.message
    assert wired.bergen.orders == []


def test_an_order_canceled_at_the_cart_while_its_send_is_uncertain_is_not_sent_if_the_warehouse_lacks_it(
    wired, settings
):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    cart_order = seed(wired.squarespace, "1001")
    wired.bergen.fail_next(1, status=500, path_contains="/orders", method="POST")  # refused before storing
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)
    assert (order.status, order.delivery_uncertain) == (OrderStatus.NEW, True)

    wired.squarespace.update_order(cart_order["id"], fulfillmentStatus="CANCELED")
    sync(wired.cart)
    Order.objects.filter(pk=order.pk).update(next_attempt_at=None)
    sync(wired.cart)

    order.refresh_from_db()
    assert wired.bergen.orders == []
    assert order.status == OrderStatus.CANCELED


def test_a_cart_change_seen_while_a_send_is_uncertain_is_noted_once(wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    cart_order = seed(wired.squarespace, "1001")
    wired.bergen.fail_next(1, status=500, path_contains="/orders", method="POST")
    sync(wired.cart)
    order = order_for(wired.cart, cart_order)

    wired.squarespace.update_order(cart_order["id"], customerEmail="new@example.com")
    sync(wired.cart)
    sync(wired.cart)

    notes = OrderEvent.objects.filter(order=order, message__startswith="Changed at the cart while being sent")
    assert notes.count() == 1


# --- a page that cannot be read --------------------------------------------------------------------------


@pytest.mark.parametrize("fault", ["status_500", "truncated"])
def test_a_later_page_that_cannot_be_read_fails_the_run_and_keeps_the_watermark(wired, small_pages, settings, fault):
    empty = sync(wired.cart)
    watermark = wired.cart.order_watermark
    assert empty.status == "succeeded" and watermark is not None
    orders = [seed(small_pages, str(1001 + i), created_on=ago(minutes=5, seconds=-i)) for i in range(5)]

    def break_the_next_page(message: str) -> None:
        if message.startswith("page 1:"):
            if fault == "truncated":
                small_pages.fail_next(1, mode="truncated", path_contains=ORDERS_PATH)
            else:
                small_pages.fail_next(settings.HTTP_MAX_RETRIES + 1, status=500, path_contains=ORDERS_PATH)

    failed = sync(wired.cart, progress=break_the_next_page)

    assert failed.status == "failed"
    assert failed.error.startswith("Cart: ")
    assert ("500" in failed.error) if fault == "status_500" else ("not valid JSON" in failed.error)
    assert wired.cart.order_watermark == watermark
    assert wired.cart.last_sync_status == "failed"
    stored = set(Order.objects.values_list("cart_order_id", flat=True))
    assert stored == {orders[0]["id"], orders[1]["id"]}

    rest = sync(wired.cart)

    assert rest.status == "succeeded", rest.error
    assert rest.counts["imported"] == 3
    assert wired.cart.order_watermark > watermark
    assert Order.objects.count() == 5
    assert OrderEvent.objects.filter(code="imported").count() == 5
    assert OrderLine.objects.count() == 5
    assert wired.bergen.duplicate_count() == 0
    assert len(wired.bergen.orders) == 5


# --- a malformed order in a good page ---------------------------------------------------------------------


def test_an_order_with_an_unreadable_quantity_is_held_as_bad_payload_and_the_rest_imported(wired):
    good = seed(wired.squarespace, "1001")
    bad = seed(wired.squarespace, "1002")
    lines = [dict(bad["lineItems"][0], quantity="abc")]
    wired.squarespace.update_order(bad["id"], lineItems=lines, modifiedOn=ago(minutes=4))
    also_good = seed(wired.squarespace, "1003")

    run = sync(wired.cart)

    held = order_for(wired.cart, bad)
    assert held.status == OrderStatus.ERROR
    assert held.hold_code == HoldCode.BAD_PAYLOAD
    assert "quantity 'abc'" in held.hold_reason
    assert held.order_number == "1002"
    assert run.counts["rejected"] == 1
    assert order_for(wired.cart, good).status == OrderStatus.AT_WMS
    assert order_for(wired.cart, also_good).status == OrderStatus.AT_WMS
    assert sorted(wired.bergen.orders_by_reference()) == ["1001", "1003"]


def test_an_order_missing_its_order_number_is_held_as_bad_payload_and_the_rest_imported(wired):
    bad = seed(wired.squarespace, "1001", orderNumber=None)
    good = seed(wired.squarespace, "1002")

    run = sync(wired.cart)

    held = order_for(wired.cart, bad)
    assert (held.status, held.hold_code) == (OrderStatus.ERROR, HoldCode.BAD_PAYLOAD)
    assert "orderNumber" in held.hold_reason
    assert run.counts["rejected"] == 1
    assert order_for(wired.cart, good).status == OrderStatus.AT_WMS
    assert list(wired.bergen.orders_by_reference()) == ["1002"]


def test_an_unreadable_order_is_held_once_however_often_it_is_read(wired):
    bad = seed(wired.squarespace, "1001", orderNumber=None)

    sync(wired.cart)
    wired.cart.order_watermark = None
    wired.cart.save()
    sync(wired.cart)

    held = order_for(wired.cart, bad)
    assert Order.objects.count() == 1
    assert OrderEvent.objects.filter(order=held, code=HoldCode.BAD_PAYLOAD).count() == 1


def test_an_unreadable_order_fixed_at_the_cart_is_imported_and_delivered_by_the_next_run(wired, settings):
    settings.ORDER_IMPORT_LAG_SECONDS = 0
    bad = seed(wired.squarespace, "1001", orderNumber=None)
    sync(wired.cart)

    wired.squarespace.update_order(bad["id"], orderNumber="1001")
    sync(wired.cart)

    order = order_for(wired.cart, bad)
    assert (order.order_number, order.hold_code) == ("1001", "")
    assert order.status == OrderStatus.AT_WMS
    assert status_changes(order)[-2:] == [(OrderStatus.ERROR, OrderStatus.NEW), (OrderStatus.NEW, OrderStatus.AT_WMS)]
    assert list(wired.bergen.orders_by_reference()) == ["1001"]


# --- the cart failing ---------------------------------------------------------------------------------------


def test_a_500_from_the_cart_fails_the_run_with_a_clear_message_and_loses_nothing(wired, settings):
    cart_order = seed(wired.squarespace, "1001")
    wired.squarespace.fail_next(settings.HTTP_MAX_RETRIES + 1, status=500, path_contains=ORDERS_PATH)

    run = sync(wired.cart)

    assert run.status == "failed"
    assert "Cart:" in run.error and "500" in run.error
    assert wired.cart.last_sync_status == "failed"
    assert "500" in wired.cart.last_sync_message
    assert wired.cart.order_watermark is None

    again = sync(wired.cart)

    assert again.status == "succeeded", again.error
    assert order_for(wired.cart, cart_order).status == OrderStatus.AT_WMS


def test_a_timeout_from_the_cart_fails_the_run_with_a_clear_message(wired, settings):
    settings.HTTP_TIMEOUT_SECONDS = 0.5
    settings.HTTP_MAX_RETRIES = 1
    seed(wired.squarespace, "1001")
    wired.squarespace.fail_next(2, mode="timeout", delay=1.0, path_contains=ORDERS_PATH)

    run = sync(wired.cart)

    assert run.status == "failed"
    assert "timed out" in run.error
    assert wired.cart.last_sync_status == "failed"
    assert "timed out" in wired.cart.last_sync_message
    assert wired.cart.order_watermark is None
    assert not Order.objects.exists()


def test_a_long_rate_limit_from_the_cart_makes_the_run_throttled_and_keeps_the_watermark(wired):
    sync(wired.cart)
    watermark = wired.cart.order_watermark
    seed(wired.squarespace, "1001")
    wired.squarespace.fail_next(1, status=429, path_contains=ORDERS_PATH)  # Squarespace gives no Retry-After

    run = sync(wired.cart)

    assert run.status == "throttled"
    assert "rate limiting" in run.error
    assert wired.cart.order_watermark == watermark
    assert not Order.objects.exists()


def test_a_401_from_the_cart_fails_the_run_with_a_message_naming_401(wired):
    wired.cart.set_credentials({"api_key": "revoked-key"})
    wired.cart.save()
    seed(wired.squarespace, "1001")

    run = sync(wired.cart)

    assert run.status == "failed"
    assert "401" in run.error
    assert wired.cart.last_sync_status == "failed"
    assert "401" in wired.cart.last_sync_message
    assert "revoked-key" not in run.error
