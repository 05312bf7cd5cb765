"""cust_ref: short, within the warehouse's limits, unique per warehouse, derived and fixed before a send."""

from __future__ import annotations

import re

import pytest

from orders.models import Order, OrderStatus
from orders.services.translation.cust_ref import cust_ref_candidates
from sandbox.squarespace import SquarespaceSandbox
from tests.factories import CartConnectionFactory
from tests.orders.helpers import order_for, order_posts, seed, sync


def test_a_long_order_number_with_odd_characters_gets_a_reference_within_the_default_limits(wired):
    number = "#Ord/2024 ö_Ä 000123456789012345678 (gift)"
    cart_order = seed(wired.squarespace, number)

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.AT_WMS
    assert re.fullmatch(r"[A-Za-z0-9-]{1,20}", order.cust_ref), order.cust_ref
    assert order.cust_po_no == number
    assert list(wired.bergen.orders_by_reference()) == [order.cust_ref]


@pytest.mark.parametrize("number", ["A-1001-B/77", "ORDER-123456789012345", "no digits at all"])
def test_a_reference_fits_a_max_length_of_8_and_a_digits_only_charset(wired, number):
    wired.wms.cust_ref_max_length = 8
    wired.wms.cust_ref_charset = "0-9"
    wired.wms.save()
    cart_order = seed(wired.squarespace, number)

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert re.fullmatch(r"[0-9]{1,8}", order.cust_ref), order.cust_ref
    assert order.status == OrderStatus.AT_WMS
    assert list(wired.bergen.orders_by_reference()) == [order.cust_ref]


def test_the_prefix_is_put_before_the_reference_within_the_max_length(wired):
    wired.wms.cust_ref_prefix = "SQ"
    wired.wms.cust_ref_max_length = 10
    wired.wms.save()
    short = seed(wired.squarespace, "1001")
    long = seed(wired.squarespace, "123456789012")

    sync(wired.cart)

    assert order_for(wired.cart, short).cust_ref == "SQ1001"
    long_ref = order_for(wired.cart, long).cust_ref
    assert long_ref.startswith("SQ") and len(long_ref) <= 10


def test_two_carts_sending_the_same_order_number_to_one_warehouse_get_different_references(wired):
    with SquarespaceSandbox(rate_limit_per_minute=None) as other_store:
        second_cart = CartConnectionFactory(
            merchant=wired.merchant,
            warehouse=wired.wms,
            api_base_url=other_store.base_url,
            sandbox_tooling=True,
            credentials_values={"api_key": other_store.api_key},
        )
        first = seed(wired.squarespace, "1001")
        second = seed(other_store, "1001")

        sync(wired.cart)
        sync(second_cart)

    one, two = order_for(wired.cart, first), order_for(second_cart, second)
    assert one.cust_ref == "1001"
    assert two.cust_ref != one.cust_ref
    assert re.fullmatch(r"[A-Za-z0-9-]{1,20}", two.cust_ref)
    assert one.cust_po_no == two.cust_po_no == "1001"
    assert one.status == two.status == OrderStatus.AT_WMS
    assert sorted(wired.bergen.orders_by_reference()) == sorted([one.cust_ref, two.cust_ref])
    assert wired.bergen.duplicate_count() == 0


def test_cust_ref_candidates_are_derived_from_their_inputs_not_random():
    args = {
        "order_number": "SQ-2024-000000123456789",
        "identity": "7:5f3e1a2b3c4d5e6f7a8b9c0d",
        "max_length": 12,
        "charset": "A-Za-z0-9-",
    }

    first = list(cust_ref_candidates(**args))
    again = list(cust_ref_candidates(**args))
    other = list(cust_ref_candidates(**{**args, "identity": "8:5f3e1a2b3c4d5e6f7a8b9c0d"}))

    assert first == again
    assert first != other
    assert len(set(first)) == len(first)  # every try is a new reference
    assert all(re.fullmatch(r"[A-Za-z0-9-]{1,12}", c) for c in first)


def test_cust_ref_candidates_start_with_the_plain_number_when_it_fits():
    candidates = cust_ref_candidates(order_number="1001", identity="1:abc", max_length=20, charset="A-Za-z0-9-")

    assert next(candidates) == "1001"
    assert next(candidates) != "1001"


@pytest.mark.parametrize(
    ("max_length", "charset", "allowed"),
    [(8, "0-9", r"[0-9]"), (6, "A-Z0-9", r"[A-Z0-9]"), (20, "A-Za-z0-9-", r"[A-Za-z0-9-]"), (3, "0-9", r"[0-9]")],
)
def test_every_candidate_fits_the_length_and_charset(max_length, charset, allowed):
    candidates = list(
        cust_ref_candidates(
            order_number="#Ord/ö 2024-000123456789", identity="3:xyz", max_length=max_length, charset=charset
        )
    )

    assert candidates
    assert all(re.fullmatch(f"{allowed}{{1,{max_length}}}", c) for c in candidates), candidates


def test_references_that_differ_only_in_case_are_not_both_given_out(wired):
    """The warehouse (and our own lookup by reference) compares references ignoring case."""
    with SquarespaceSandbox(rate_limit_per_minute=None) as other_store:
        second_cart = CartConnectionFactory(
            merchant=wired.merchant,
            warehouse=wired.wms,
            api_base_url=other_store.base_url,
            sandbox_tooling=True,
            credentials_values={"api_key": other_store.api_key},
        )
        first = seed(wired.squarespace, "ab-1001")
        second = seed(other_store, "AB-1001")
        sync(wired.cart)
        wired.bergen.fail_next(1, status=500, path_contains="/orders", method="POST")  # not stored: uncertain
        sync(second_cart)
        Order.objects.filter(cart_connection=second_cart).update(next_attempt_at=None)

        sync(second_cart)

    one, two = order_for(wired.cart, first), order_for(second_cart, second)
    at_warehouse = sorted(o["poNum"] for o in wired.bergen.orders)
    marked_delivered = sorted(o.cust_po_no for o in (one, two) if o.status == OrderStatus.AT_WMS)
    assert (two.status, at_warehouse) == (OrderStatus.AT_WMS, marked_delivered)  # never "delivered" unsent
    assert one.cust_ref.casefold() != two.cust_ref.casefold()


def test_a_warehouse_allowing_long_references_still_gets_one_that_fits_the_stored_field(wired):
    wired.wms.cust_ref_max_length = 100
    wired.wms.save()
    number = "9" * 80
    cart_order = seed(wired.squarespace, number)

    run = sync(wired.cart)

    assert run.status == "succeeded", run.error
    order = order_for(wired.cart, cart_order)
    assert len(order.cust_ref) <= Order._meta.get_field("cust_ref").max_length
    assert order.status == OrderStatus.AT_WMS
    assert list(wired.bergen.orders_by_reference()) == [order.cust_ref]


def test_cust_ref_is_stored_before_the_first_send_and_kept_for_the_next_attempt(wired):
    cart_order = seed(wired.squarespace, "SQ-2024-000000000000000123456789")
    wired.bergen.fail_next(1, status=500, path_contains="/orders", method="POST")

    sync(wired.cart)

    order = order_for(wired.cart, cart_order)
    assert order.status == OrderStatus.NEW
    assert order.cust_ref
    [failed_send] = order_posts(wired.bergen)
    assert failed_send.json["referenceNum"] == order.cust_ref
    stored = order.cust_ref

    Order.objects.filter(pk=order.pk).update(next_attempt_at=None)
    sync(wired.cart)

    order.refresh_from_db()
    assert order.status == OrderStatus.AT_WMS
    assert order.cust_ref == stored
    assert [r.json["referenceNum"] for r in order_posts(wired.bergen)] == [stored, stored]
    assert wired.bergen.duplicate_count() == 0
