"""Bad input through the pipeline: a page mixing good and adversarial orders never raises out of the
import, every good order of the batch is stored, every bad one is held with a reason, skipped with a
reason or named on the run, and no value breaks a column (PostgreSQL enforces varchar lengths, NUL
and integer ranges; on SQLite the lengths are checked here).
"""

from __future__ import annotations

from datetime import date
from random import Random
from typing import Any

import pytest
from django.db import models, transaction
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from integrations.connectors.canonical import OrderPage
from integrations.connectors.errors import BadPayloadError
from integrations.connectors.overstock import wire as overstock_orders
from integrations.connectors.overstock import xml as overstock_xml
from integrations.connectors.squarespace import wire as squarespace_wire
from integrations.models import CartConnection
from integrations.services import warehouse_connector_for
from orders.models import HoldCode, Order, OrderEvent, OrderLine, OrderStatus, SkippedOrder, SyncRun
from orders.services.intake.importer import Importer
from orders.services.intake.pages import cart_page_store
from orders.services.translation.translate import load_context
from sandbox import squarespace_data
from sandbox.squarespace_data import iso
from tests.factories import CartConnectionFactory, ShippingMethodMapFactory
from tests.integrations.connectors import strategies as s
from tests.orders.helpers import ago, order_for, seed, sync

WAREHOUSE_SKUS = {"SKU-1", "SKU-2", "WMS-SKU-9"}
STORED_MODELS = (Order, OrderLine, OrderEvent, SkippedOrder)
ID_COLUMN = Order._meta.get_field("cart_order_id").max_length


@pytest.fixture
def cart(db):
    cart = CartConnectionFactory()
    ShippingMethodMapFactory(warehouse=cart.warehouse, cart_method="Standard", ship_code="UPS:Ground")
    return cart


def store_page(cart, payloads: list[Any]) -> tuple[SyncRun, dict[str, int]]:
    """Parse one orders page as the Squarespace connector does and store it as the import does."""
    page, _ = squarespace_wire.parse_page({"result": payloads, "pagination": {"hasNextPage": False}})
    return store(cart, page)


def store(cart, page: OrderPage) -> tuple[SyncRun, dict[str, int]]:
    run = SyncRun.objects.create(
        kind=SyncRun.Kind.ORDERS, merchant=cart.merchant, cart_connection=cart, warehouse=cart.warehouse
    )
    counts = dict.fromkeys(("imported", "updated", "skipped", "held", "canceled", "rejected", "pages"), 0)
    connector = warehouse_connector_for(connection=cart.warehouse)

    def context():
        return load_context(
            merchant_id=cart.merchant_id,
            warehouse=cart.warehouse,
            warehouse_skus=WAREHOUSE_SKUS,
            warehouse_connector=connector,
        )

    cart_page_store(importer=Importer(connection=cart, run=run, context_factory=context, counts=counts), page=page)
    return run, counts


INT_RANGE = (-(2**31), 2**31 - 1)  # IntegerField on PostgreSQL


def assert_columns_hold_what_was_stored() -> None:
    """Every stored value reads back and fits its column as PostgreSQL defines it (SQLite enforces
    neither lengths nor integer and decimal ranges, so they are checked here)."""
    for model in STORED_MODELS:
        for row in model.objects.all():  # reading back raises for a decimal the column cannot hold
            for f in model._meta.concrete_fields:
                value = getattr(row, f.attname)
                where = f"{model.__name__}.{f.name}"
                if isinstance(f, models.CharField) and f.max_length and value:
                    assert len(value) <= f.max_length, f"{where} holds {len(value)} characters"
                elif isinstance(f, models.IntegerField) and not isinstance(f, models.BigIntegerField) and value:
                    assert INT_RANGE[0] <= value <= INT_RANGE[1], f"{where} holds {value}"
                elif isinstance(f, models.DecimalField) and value is not None:
                    assert abs(value) < 10 ** (f.max_digits - f.decimal_places), f"{where} holds {value}"


def assert_accounted_for(cart, run: SyncRun, good: list[dict], bad: list[Any]) -> None:
    for cart_order in good:
        order = Order.objects.get(cart_connection=cart, cart_order_id=cart_order["id"])
        assert order.status in (OrderStatus.NEW, OrderStatus.ERROR)
        assert order.status == OrderStatus.NEW or order.hold_reason.strip()
        assert OrderEvent.objects.filter(order=order, code="imported").count() == 1
        assert order.lines.count() == len(cart_order["lineItems"])
    for payload in bad:
        cart_order_id = squarespace_wire._text(payload.get("id")) if isinstance(payload, dict) else ""
        if not cart_order_id or "\x00" in cart_order_id:  # cannot be stored (nor looked up): named on the run
            assert "An order without an id was skipped" in run.error, payload
            continue
        stored = Order.objects.filter(cart_connection=cart, cart_order_id=cart_order_id).first()
        skipped = SkippedOrder.objects.filter(cart_connection=cart, cart_order_id=cart_order_id).first()
        if stored is None and skipped is None and len(cart_order_id) > ID_COLUMN:
            assert run.error.strip(), f"order {cart_order_id[:40]!r}… (longer than any id column) is not named"
            continue
        assert stored is not None or skipped is not None, f"order {cart_order_id[:40]!r} is lost"
        if stored is not None:
            assert stored.status == OrderStatus.NEW or stored.hold_reason.strip()
        else:
            assert skipped.reason.strip()


def doc_order(order_id: str, **overrides: Any) -> dict[str, Any]:
    """A good order as the Commerce API documents it, placed five minutes ago."""
    placed = ago(minutes=5)
    lines = [
        squarespace_data.build_line_item(
            {"sku": "SKU-1", "quantity": 2, "price": "10.00", "name": "Widget"}, "USD", "v-1"
        )
    ]
    address = squarespace_data.build_address(None)
    order = squarespace_data.build_order(
        order_number="1001",
        created_on=placed,
        modified_on=placed,
        fulfillment_status="PENDING",
        line_items=lines,
        shipping_method="Standard",
        shipping_amount="5.00",
        shipping_address=address,
        billing_address=address,
        customer_email="ada@example.com",
        testmode=False,
        currency="USD",
    )
    return {**order, "id": order_id, **overrides}


def with_line(**line: Any) -> list[dict[str, Any]]:
    return [{**doc_order("x")["lineItems"][0], **line}]


@settings(
    max_examples=60,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    good=st.lists(s.squarespace_orders(), min_size=1, max_size=3),
    bad=st.lists(s.adversarial_squarespace_orders, min_size=1, max_size=3),
    shuffle=st.randoms(use_true_random=False),
)
@example(good=[doc_order("g")], bad=[doc_order(s.LONG_IDS[1])], shuffle=Random(0))
@example(good=[doc_order("g")], bad=[doc_order("b", orderNumber="A-1\x00001")], shuffle=Random(0))
@example(good=[doc_order("g")], bad=[doc_order("\x00")], shuffle=Random(0))
@example(good=[doc_order("g")], bad=[doc_order("b", lineItems=with_line(quantity=10**20))], shuffle=Random(0))
@example(good=[doc_order("g")], bad=[doc_order("b", lineItems=with_line(quantity=3_000_000_000))], shuffle=Random(0))
@example(
    good=[doc_order("g")],
    bad=[doc_order("b", lineItems=with_line(unitPricePaid={"currency": "USD", "value": "1E+20"}))],
    shuffle=Random(0),
)
def test_a_page_mixing_good_and_adversarial_orders_stores_every_good_one_and_accounts_for_every_bad_one(
    cart, good, bad, shuffle
):
    recent = iso(ago(minutes=5))  # on or after the connection's earliest order date: imported, not skipped
    for n, cart_order in enumerate(good):
        cart_order.update(id=f"good-{n}-{cart_order['id']}", createdOn=recent, modifiedOn=recent)  # unique ids
    payloads = [*good, *bad]
    shuffle.shuffle(payloads)
    with transaction.atomic():
        run, counts = store_page(cart, payloads)
        assert_accounted_for(cart, run, good, bad)
        assert_columns_hold_what_was_stored()
        transaction.set_rollback(True)


def xml_line_ends(text: str) -> str:
    """An XML reader turns every CR and CRLF in text into LF (XML 1.0, section 2.11)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


@settings(
    max_examples=50,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(listing=s.overstock_listings())
@example(listing=s.overstock_listing(("0\r0", "1")))
@example(listing=s.overstock_listing(("OSTK-1", "1"), ("OSTK-" + "9" * 300, "1")))
@example(listing=s.overstock_listing(("OSTK-1", "1"), ("OSTK-2", "3000000000")))
def test_an_overstock_listing_of_mangled_orders_is_stored_held_skipped_or_named_never_raised(cart, listing):
    body, built = listing
    CartConnection.objects.filter(pk=cart.pk).update(earliest_order_date=date(2024, 1, 1))  # the samples' dates
    cart.earliest_order_date = date(2024, 1, 1)
    try:
        page = overstock_orders.parse_orders(overstock_xml.read_xml(body, what="a listing"))
    except BadPayloadError:
        return  # the whole listing refused with a reason (the parsers' tests check the reason)
    with transaction.atomic():
        run, _ = store(cart, page)
        for built_number in {overstock_xml.text(element, "salesChannelOrderNumber") for element in built}:
            number = xml_line_ends(built_number)  # what the listing's reader sees of the number
            if not number:
                assert "without an id" in run.error
                continue
            stored = Order.objects.filter(cart_connection=cart, cart_order_id=number).first()
            skipped = SkippedOrder.objects.filter(cart_connection=cart, cart_order_id=number).first()
            if stored is None and skipped is None and ID_COLUMN is not None and len(number) > ID_COLUMN:
                assert run.error.strip()
                continue
            assert stored is not None or skipped is not None, f"order {number[:40]!r} is lost"
            assert stored is None or stored.status == OrderStatus.NEW or stored.hold_reason.strip()
        assert_columns_hold_what_was_stored()
        transaction.set_rollback(True)


# --- a full sync against the sandbox, one adversarial order at a time ---------------------------------

LONG_ID = "f" * 300
ADVERSARIAL = {
    "nul-in-the-name": {"shippingAddress": {"firstName": "Ada\x00", "lastName": "Love\x00lace"}},
    "nul-in-a-line-name": {"lineItems": [{"sku": "SKU-1", "quantity": 1, "productName": "Wid\x00get"}]},
    "rtl-and-emoji-address": {
        "shippingAddress": {"firstName": "\u202eעדה\u202c", "lastName": "👩‍🔬" * 50, "city": "طنجة" * 60}
    },
    "order-id-longer-than-any-column": {"id": LONG_ID},
    "order-number-longer-than-any-warehouse": {"orderNumber": "9" * 400},
    "huge-quantity": {"lineItems": [{"sku": "SKU-1", "quantity": 3_000_000_000}]},
    "huge-quantity-string": {"lineItems": [{"sku": "SKU-1", "quantity": "1E+20"}]},
    "negative-quantity": {"lineItems": [{"sku": "SKU-1", "quantity": -2}]},
    "fractional-quantity": {"lineItems": [{"sku": "SKU-1", "quantity": 1.5}]},
    "huge-price": {
        "lineItems": [{"sku": "SKU-1", "quantity": 1, "unitPricePaid": {"currency": "USD", "value": "1E+20"}}]
    },
    "price-beyond-the-column": {
        "lineItems": [{"sku": "SKU-1", "quantity": 1, "unitPricePaid": {"currency": "USD", "value": "123456789012.34"}}]
    },
    "sku-longer-than-the-column": {"lineItems": [{"sku": "S" * 500, "quantity": 1}]},
    "line-items-not-a-list": {"lineItems": {"sku": "SKU-1"}},
    "address-a-string": {"shippingAddress": "12 Analytical Row"},
    "created-on-year-9999-minus-5": {"createdOn": "9999-12-31T23:59:59-05:00"},
    "email-of-2000-characters": {"customerEmail": "a" * 2000 + "@example.com"},
}


def _line(spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "1" * 24,
        "variantId": "v-1",
        "productId": "2" * 24,
        "productName": "Widget",
        "unitPricePaid": {"currency": "USD", "value": "10.00"},
        "lineItemType": "PHYSICAL_PRODUCT",
        **spec,
    }


@pytest.mark.parametrize("overrides", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_a_sync_with_one_adversarial_order_delivers_the_good_ones_and_holds_or_skips_the_bad_one(wired, overrides):
    good = [seed(wired.squarespace, "1001"), seed(wired.squarespace, "1003", created_on=ago(minutes=4))]
    raw = dict(overrides)
    if isinstance(raw.get("lineItems"), list):
        raw["lineItems"] = [_line(spec) for spec in raw["lineItems"]]
    if isinstance(raw.get("shippingAddress"), dict):
        raw["shippingAddress"] = {**good[0]["shippingAddress"], **raw["shippingAddress"]}
    bad = seed(wired.squarespace, "1002", created_on=ago(minutes=4, seconds=30), **raw)

    run = sync(wired.cart)
    again = sync(wired.cart)

    assert run.status in ("succeeded", "partial"), run.error
    assert again.status in ("succeeded", "partial"), again.error
    for cart_order in good:
        assert order_for(wired.cart, cart_order).status == OrderStatus.AT_WMS
    stored = Order.objects.filter(cart_connection=wired.cart, cart_order_id=bad["id"]).first()
    skipped = SkippedOrder.objects.filter(cart_connection=wired.cart, cart_order_id=bad["id"]).first()
    assert stored is not None or skipped is not None, "the adversarial order is lost"
    if stored is not None and stored.status == OrderStatus.ERROR:
        assert stored.hold_reason.strip() and stored.hold_code
    assert wired.bergen.duplicate_count() == 0
    assert_columns_hold_what_was_stored()


def test_an_unreadable_order_is_held_as_bad_payload_with_its_reason(cart):
    payload = {"id": "abc", "orderNumber": "1", "lineItems": [{"sku": "S", "quantity": "2.5"}]}

    run, counts = store_page(cart, [payload])

    order = Order.objects.get(cart_connection=cart, cart_order_id="abc")
    assert (order.status, order.hold_code) == (OrderStatus.ERROR, HoldCode.BAD_PAYLOAD)
    assert "not a whole number" in order.hold_reason
    assert counts["rejected"] == 1
