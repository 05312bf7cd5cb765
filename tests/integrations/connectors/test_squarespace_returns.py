"""Tracking and stock levels back to Squarespace: payloads (pure, shaped like the docs) and the real
connector against the Squarespace sandbox over loopback HTTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from integrations.connectors.canonical import InventoryUpdate
from integrations.connectors.errors import AuthenticationError, BadPayloadError, PermanentError, TemporaryError
from integrations.connectors.squarespace.connector import SquarespaceCart
from integrations.connectors.squarespace.wire import (
    format_adjustments,
    format_fulfillment,
    idempotency_header,
    named_variants,
    parse_inventory_page,
    retry_idempotency_key,
    tracking_numbers_of,
)
from integrations.outbound import SANDBOX_TOOLING
from sandbox.squarespace import SquarespaceSandbox
from tests.integrations.connectors.builders import shipment

NOW = datetime(2024, 5, 3, 9, 30, 15, 250000, tzinfo=UTC)
SHIPPED = datetime(2024, 5, 2, 16, 4, 5, tzinfo=timezone(timedelta(hours=-4)))
KEY_PATTERN = re.compile(r"[A-Za-z0-9_-]{1,64}")


def connector(sandbox: SquarespaceSandbox, api_key: str = "sandbox-squarespace-key") -> SquarespaceCart:
    return SquarespaceCart(base_url=sandbox.base_url, outbound=SANDBOX_TOOLING, credentials={"api_key": api_key})


# --- tracking: the payload ---------------------------------------------------------------------


def test_a_fulfillment_has_one_shipment_entry_per_tracking_number_with_the_required_fields():
    body = format_fulfillment(shipment("1ZA", "1ZB", shipped_at=SHIPPED), notify_customer=True, now=NOW)

    assert body == {
        "shouldSendNotification": True,
        "shipments": [
            {"shipDate": "2024-05-02T20:04:05Z", "carrierName": "UPS", "service": "Ground", "trackingNumber": "1ZA"},
            {"shipDate": "2024-05-02T20:04:05Z", "carrierName": "UPS", "service": "Ground", "trackingNumber": "1ZB"},
        ],
    }


def test_an_empty_service_and_ship_date_fall_back_to_standard_and_now():
    body = format_fulfillment(shipment("1ZA", service=" "), notify_customer=False, now=NOW)

    assert body["shouldSendNotification"] is False
    assert body["shipments"][0]["service"] == "Standard"
    assert body["shipments"][0]["shipDate"] == "2024-05-03T09:30:15Z"


def test_repeated_and_blank_tracking_numbers_are_sent_once():
    body = format_fulfillment(shipment(" 1ZA ", "1ZA", "", "1ZB"), notify_customer=True, now=NOW)

    assert [s["trackingNumber"] for s in body["shipments"]] == ["1ZA", "1ZB"]


def test_a_tracking_url_goes_only_with_the_number_it_names():
    url = "https://www.ups.com/track?tracknum=1ZB"
    several = format_fulfillment(shipment("1ZA", "1ZB", tracking_url=url), notify_customer=True, now=NOW)
    single = format_fulfillment(
        shipment("1ZA", tracking_url="https://carrier.example/t/abc"), notify_customer=True, now=NOW
    )

    assert [s.get("trackingUrl") for s in several["shipments"]] == [None, url]
    assert single["shipments"][0]["trackingUrl"] == "https://carrier.example/t/abc"


@pytest.mark.parametrize("url", ["www.ups.com/track?1ZA", "ftp://example.com/1ZA", "javascript:alert(1)"])
def test_a_tracking_url_squarespace_would_refuse_is_left_out(url):
    body = format_fulfillment(shipment("1ZA", tracking_url=url), notify_customer=True, now=NOW)

    assert "trackingUrl" not in body["shipments"][0]


def test_without_tracking_numbers_a_complete_shipment_only_marks_the_order_fulfilled():
    assert format_fulfillment(shipment(tracking_numbers=[]), notify_customer=True, now=NOW) == {
        "shouldSendNotification": True,
        "shipments": [],
    }
    assert format_fulfillment(shipment(tracking_numbers=[], complete=False), notify_customer=True, now=NOW) is None


def test_tracking_without_a_carrier_is_refused_before_sending():
    with pytest.raises(PermanentError, match="without a carrier"):
        format_fulfillment(shipment("1ZA", carrier=" "), notify_customer=True, now=NOW)


def test_the_tracking_numbers_an_order_has_are_read_from_its_fulfillments():
    order = {
        "id": "585d498fdee9f31a60284a37",
        "fulfillments": [
            {
                "shipDate": "2017-01-29T22:19:26.98Z",
                "carrierName": "FedEx",
                "service": "Same-Day Delivery",
                "trackingNumber": "103932814692659",
                "trackingUrl": None,
            },
            {
                "shipDate": "2017-01-29T22:19:26.98Z",
                "carrierName": "FedEx",
                "service": "Ground",
                "trackingNumber": None,
                "trackingUrl": None,
            },
        ],
    }

    assert tracking_numbers_of(order) == {"103932814692659"}
    assert tracking_numbers_of({**order, "fulfillments": None}) == set()
    with pytest.raises(BadPayloadError):
        tracking_numbers_of({**order, "fulfillments": "none"})


def test_the_default_carrier_names_map_warehouse_codes_to_what_squarespace_shows():
    names = SquarespaceCart.default_carrier_names

    assert all(code == code.upper() for code in names)
    assert [names[c] for c in ("UPS", "FDX", "FEDEX", "USPS", "DHLEXPRESS", "ONTRAC", "CANADAPOST")] == [
        "UPS",
        "FedEx",
        "FedEx",
        "USPS",
        "DHL",
        "OnTrac",
        "Canada Post",
    ]
    assert SquarespaceCart.accepts_multiple_shipments is True
    assert SquarespaceCart.shipment_lines_supported is False


# --- tracking: over HTTP -----------------------------------------------------------------------


def test_pushed_tracking_is_read_back_and_the_body_has_the_documented_shape(squarespace_sandbox):
    order = squarespace_sandbox.add_order("1001")
    cart = connector(squarespace_sandbox)
    assert cart.existing_tracking_numbers(order["id"]) == set()

    cart.push_shipment(
        order["id"],
        shipment("1ZA", "1ZB", shipped_at=SHIPPED, tracking_url="https://www.ups.com/track?tracknum=1ZA"),
        notify_customer=False,
    )

    assert cart.existing_tracking_numbers(order["id"]) == {"1ZA", "1ZB"}
    [call] = squarespace_sandbox.fulfillment_calls
    assert call["shouldSendNotification"] is False
    assert call["shipments"] == [
        {
            "shipDate": "2024-05-02T20:04:05Z",
            "carrierName": "UPS",
            "service": "Ground",
            "trackingNumber": "1ZA",
            "trackingUrl": "https://www.ups.com/track?tracknum=1ZA",
        },
        {"shipDate": "2024-05-02T20:04:05Z", "carrierName": "UPS", "service": "Ground", "trackingNumber": "1ZB"},
    ]
    post = squarespace_sandbox.requests_to("/fulfillments", "POST")[0]
    assert post.header("Content-Type").startswith("application/json")
    assert post.header("User-Agent")


def test_a_second_shipment_is_added_to_an_order_already_fulfilled(squarespace_sandbox):
    order = squarespace_sandbox.add_order("1001")
    cart = connector(squarespace_sandbox)

    cart.push_shipment(order["id"], shipment("1ZA"), notify_customer=True)
    cart.push_shipment(order["id"], shipment("1ZB"), notify_customer=True)

    assert cart.existing_tracking_numbers(order["id"]) == {"1ZA", "1ZB"}
    assert [f["trackingNumber"] for f in squarespace_sandbox.fulfillments_for(order["id"])] == ["1ZA", "1ZB"]


def test_a_failed_fulfillment_post_is_not_resent_by_the_client(squarespace_sandbox):
    order = squarespace_sandbox.add_order("1001")
    squarespace_sandbox.fail_next(1, status=500, path_contains="/fulfillments", mode="after")

    with pytest.raises(TemporaryError, match="500") as exc:
        connector(squarespace_sandbox).push_shipment(order["id"], shipment("1ZA"), notify_customer=True)

    assert exc.value.maybe_delivered is True
    assert len(squarespace_sandbox.requests_to("/fulfillments", "POST")) == 1
    assert connector(squarespace_sandbox).existing_tracking_numbers(order["id"]) == {"1ZA"}


def test_a_read_only_key_is_told_it_needs_orders_read_and_write():
    sandbox = SquarespaceSandbox(rate_limit_per_minute=None, orders_read_only=True)
    sandbox.start()
    try:
        order = sandbox.add_order("1001")
        with pytest.raises(AuthenticationError, match="Orders “Read and Write”") as exc:
            connector(sandbox).push_shipment(order["id"], shipment("1ZA"), notify_customer=True)
        assert sandbox.fulfillments_for(order["id"]) == []
    finally:
        sandbox.stop()

    assert exc.value.status == 403
    assert "sandbox-squarespace-key" not in str(exc.value)


def test_an_unknown_order_is_a_permanent_error(squarespace_sandbox):
    cart = connector(squarespace_sandbox)

    with pytest.raises(PermanentError, match="404"):
        cart.push_shipment("5f3e1a2b3c4d5e6f7a8b9c0d", shipment("1ZA"), notify_customer=True)
    with pytest.raises(PermanentError, match="no order"):
        cart.existing_tracking_numbers("5f3e1a2b3c4d5e6f7a8b9c0d")


def test_a_refusal_carries_squarespaces_message(squarespace_sandbox):
    order = squarespace_sandbox.add_order("1001", fulfillment_status="CANCELED")

    with pytest.raises(PermanentError, match="canceled order cannot be fulfilled") as exc:
        connector(squarespace_sandbox).push_shipment(order["id"], shipment("1ZA"), notify_customer=True)

    assert exc.value.status == 400


# --- stock: the payloads -----------------------------------------------------------------------

INVENTORY_PAGE = {
    "inventory": [
        {
            "variantId": "2c4b0c0e-0c5f-4f5e-9d2a-1b2c3d4e5f60",
            "sku": "SQ-TEE-M",
            "descriptor": "Tee [M, Blue]",
            "isUnlimited": False,
            "quantity": 12,
        },
        {
            "variantId": "7a1d3c5e-3b1f-4d8a-8f2e-0a9b8c7d6e5f",
            "sku": "SQ-POSTER",
            "descriptor": "Poster",
            "isUnlimited": True,
            "quantity": 0,
        },
        {"variantId": None, "sku": "SQ-GHOST", "descriptor": "No id", "isUnlimited": False, "quantity": 3},
        {
            "variantId": "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b",
            "sku": None,
            "descriptor": None,
            "isUnlimited": False,
            "quantity": None,
        },
    ],
    "pagination": {"hasNextPage": True, "nextPageCursor": "b2Zmc2V0PTUw", "nextPageUrl": "https://…?cursor=b2Zm"},
}


def test_an_inventory_page_is_read_into_cart_items():
    items, cursor = parse_inventory_page(INVENTORY_PAGE)

    assert cursor == "b2Zmc2V0PTUw"
    assert [(i.key[:8], i.sku, i.quantity, i.description) for i in items] == [
        ("2c4b0c0e", "SQ-TEE-M", 12, "Tee [M, Blue]"),
        ("7a1d3c5e", "SQ-POSTER", None, "Poster"),
        ("9e8d7c6b", "", 0, ""),
    ]


def test_the_last_inventory_page_has_no_cursor_and_may_hold_null():
    items, cursor = parse_inventory_page(
        {"inventory": None, "pagination": {"hasNextPage": False, "nextPageCursor": None}}
    )

    assert (items, cursor) == ([], None)


@pytest.mark.parametrize(
    "body",
    [
        None,
        {"pagination": {"hasNextPage": False}},
        {"inventory": [], "pagination": None},
        {"inventory": {"a": 1}, "pagination": {"hasNextPage": False}},
        {"inventory": [], "pagination": {"hasNextPage": True, "nextPageCursor": None}},
    ],
)
def test_a_malformed_inventory_page_fails_loudly(body):
    with pytest.raises(BadPayloadError):
        parse_inventory_page(body)


def test_adjustments_are_absolute_finite_levels():
    body = format_adjustments(
        [InventoryUpdate(key="v-1", sku="A", quantity=7), InventoryUpdate(key="v-2", sku="B", quantity=0)], limit=50
    )

    assert body == {"setFiniteOperations": [{"variantId": "v-1", "quantity": 7}, {"variantId": "v-2", "quantity": 0}]}


@pytest.mark.parametrize(
    "updates",
    [
        [InventoryUpdate(key=f"v-{i}", sku="A", quantity=1) for i in range(51)],
        [InventoryUpdate(key="v-1", sku="A", quantity=1), InventoryUpdate(key="v-1", sku="A", quantity=2)],
        [InventoryUpdate(key="v-1", sku="A", quantity=-1)],
        [InventoryUpdate(key="v-1", sku="A", quantity=1.5)],
        [InventoryUpdate(key="", sku="A", quantity=1)],
    ],
)
def test_a_batch_squarespace_would_refuse_whole_is_a_bug_caught_before_sending(updates):
    with pytest.raises(ValueError):
        format_adjustments(updates, limit=50)


def test_an_idempotency_key_is_kept_when_valid_and_hashed_when_not():
    assert idempotency_header("ob-inv-0123abcd") == "ob-inv-0123abcd"
    long_key, odd_key = "x" * 65, "run 42/batch:1"
    for key in (long_key, odd_key):
        header = idempotency_header(key)
        assert KEY_PATTERN.fullmatch(header) and len(header) == 64
        assert header == idempotency_header(key)
    assert idempotency_header(long_key) != idempotency_header(long_key + "y")
    with pytest.raises(ValueError):
        idempotency_header("")


def test_the_retry_key_is_valid_stable_and_depends_on_what_was_refused():
    base = "ob-inv-" + "a" * 48
    retry = retry_idempotency_key(base, ["v-2", "v-1"])

    assert KEY_PATTERN.fullmatch(retry) and retry != base
    assert retry == retry_idempotency_key(base, ["v-1", "v-2"])
    assert retry != retry_idempotency_key(base, ["v-1"])


def test_only_the_variants_an_error_names_are_picked_out():
    text = '{"message": "InventoryItem \'v-12\' was not found.", "details": {"variantIds": ["v-3"]}}'

    assert named_variants(text, ["v-1", "v-12", "v-3", "v-4"]) == ["v-12", "v-3"]


# --- stock: over HTTP --------------------------------------------------------------------------


def variant(i: int) -> str:
    return f"00000000-0000-4000-8000-{i:012d}"


def test_every_inventory_page_is_read_with_the_cursor_alone(squarespace_sandbox):
    for i in range(120):
        squarespace_sandbox.add_inventory(variant(i), f"SKU-{i}", quantity=i, is_unlimited=i == 7)

    pages = list(connector(squarespace_sandbox).iter_inventory())

    assert [len(p) for p in pages] == [50, 50, 20]
    items = [item for page in pages for item in page]
    assert [item.key for item in items] == [variant(i) for i in range(120)]
    assert items[7].quantity is None and items[8].quantity == 8
    first, *later = squarespace_sandbox.requests_to("/1.0/commerce/inventory", "GET")
    assert first.query == {} and len(later) == 2
    assert all(set(r.query) == {"cursor"} for r in later)


def test_a_key_without_inventory_permission_is_told_so():
    sandbox = SquarespaceSandbox(rate_limit_per_minute=None, inventory_permission=False)
    sandbox.start()
    try:
        with pytest.raises(AuthenticationError, match="Inventory"):
            list(connector(sandbox).iter_inventory())
    finally:
        sandbox.stop()


def test_levels_are_set_absolutely_under_the_callers_idempotency_key(squarespace_sandbox):
    squarespace_sandbox.add_inventory(variant(1), "A", quantity=3)
    squarespace_sandbox.add_inventory(variant(2), "B", quantity=9, is_unlimited=True)
    updates = [
        InventoryUpdate(key=variant(1), sku="A", quantity=10),
        InventoryUpdate(key=variant(2), sku="B", quantity=0),
    ]

    result = connector(squarespace_sandbox).set_inventory(updates, idempotency_key="ob-inv-batch-1")

    assert result.accepted == [variant(1), variant(2)] and result.refused == {}
    assert result.verified == [variant(1), variant(2)] and result.unverified == {}
    [post] = squarespace_sandbox.requests_to("/inventory/adjustments", "POST")
    assert post.header("Idempotency-Key") == "ob-inv-batch-1"
    assert post.json == {
        "setFiniteOperations": [{"variantId": variant(1), "quantity": 10}, {"variantId": variant(2), "quantity": 0}]
    }
    assert squarespace_sandbox.inventory[variant(1)]["quantity"] == 10
    unlimited_before = squarespace_sandbox.inventory[variant(2)]
    assert (unlimited_before["isUnlimited"], unlimited_before["quantity"]) == (False, 0)
    [read_back] = squarespace_sandbox.requests_to(f"/inventory/{variant(1)},{variant(2)}", "GET")
    assert read_back.header("Authorization") == "Bearer sandbox-squarespace-key"


def test_a_level_the_site_accepts_but_does_not_show_is_unverified_with_what_it_shows(squarespace_sandbox):
    squarespace_sandbox.add_inventory(variant(1), "A", quantity=3)
    squarespace_sandbox.add_inventory(variant(2), "B", quantity=3)
    squarespace_sandbox.ignored_adjustments.add(variant(1))  # answered 204, left as it was
    updates = [
        InventoryUpdate(key=variant(1), sku="A", quantity=10),
        InventoryUpdate(key=variant(2), sku="B", quantity=7),
    ]

    result = connector(squarespace_sandbox).set_inventory(updates, idempotency_key="ob-inv-batch-1")

    assert result.accepted == [variant(1), variant(2)]
    assert result.verified == [variant(2)]
    assert result.unverified == {variant(1): "Squarespace shows 3, not 10"}
    assert [squarespace_sandbox.inventory[variant(i)]["quantity"] for i in (1, 2)] == [3, 7]


def test_a_read_back_that_fails_leaves_the_levels_sent_unverified(squarespace_sandbox):
    squarespace_sandbox.add_inventory(variant(1), "A", quantity=3)
    squarespace_sandbox.fail_next(1, mode="truncated", path_contains=f"/inventory/{variant(1)}", method="GET")

    result = connector(squarespace_sandbox).set_inventory(
        [InventoryUpdate(key=variant(1), sku="A", quantity=10)], idempotency_key="ob-inv-batch-1"
    )

    assert result.accepted == [variant(1)] and result.verified == []
    assert "could not be asked what it shows" in result.unverified[variant(1)]
    assert squarespace_sandbox.inventory[variant(1)]["quantity"] == 10


def test_a_batch_sent_again_with_the_same_key_is_not_applied_twice(squarespace_sandbox):
    squarespace_sandbox.add_inventory(variant(1), "A", quantity=3)
    cart = connector(squarespace_sandbox)
    updates = [InventoryUpdate(key=variant(1), sku="A", quantity=10)]
    cart.set_inventory(updates, idempotency_key="ob-inv-batch-1")
    squarespace_sandbox.add_inventory(variant(1), "A", quantity=4)  # a sale at the cart since

    result = cart.set_inventory(updates, idempotency_key="ob-inv-batch-1")

    assert result.accepted == [variant(1)]
    assert squarespace_sandbox.inventory[variant(1)]["quantity"] == 4
    assert result.unverified == {variant(1): "Squarespace shows 4, not 10"}  # accepted, but not what it shows
    assert len(squarespace_sandbox.adjustments) == 1


def test_a_lost_reply_is_resent_under_the_same_key_and_applied_once(squarespace_sandbox):
    squarespace_sandbox.add_inventory(variant(1), "A", quantity=3)
    squarespace_sandbox.fail_next(1, status=503, path_contains="/inventory/adjustments", mode="after")

    result = connector(squarespace_sandbox).set_inventory(
        [InventoryUpdate(key=variant(1), sku="A", quantity=10)], idempotency_key="run 7 / batch 1"
    )

    assert result.accepted == [variant(1)]
    posts = squarespace_sandbox.requests_to("/inventory/adjustments", "POST")
    assert len(posts) == 2 and posts[0].header("Idempotency-Key") == posts[1].header("Idempotency-Key")
    assert KEY_PATTERN.fullmatch(posts[0].header("Idempotency-Key"))
    assert len(squarespace_sandbox.adjustments) == 1


def test_more_than_fifty_updates_are_refused_before_any_request(squarespace_sandbox):
    updates = [InventoryUpdate(key=variant(i), sku=f"S{i}", quantity=1) for i in range(51)]

    with pytest.raises(ValueError, match="at most 50"):
        connector(squarespace_sandbox).set_inventory(updates, idempotency_key="k")

    assert squarespace_sandbox.requests == []


def test_a_refused_item_is_reported_and_the_rest_applied_with_a_new_key(squarespace_sandbox):
    for i in (1, 3):
        squarespace_sandbox.add_inventory(variant(i), f"S{i}", quantity=0)
    updates = [InventoryUpdate(key=variant(i), sku=f"S{i}", quantity=5 + i) for i in (1, 2, 3)]

    result = connector(squarespace_sandbox).set_inventory(updates, idempotency_key="ob-inv-batch-9")

    assert result.accepted == result.verified == [variant(1), variant(3)]
    assert list(result.refused) == [variant(2)]
    assert "not found" in result.refused[variant(2)] and "400" in result.refused[variant(2)]
    assert [squarespace_sandbox.inventory[variant(i)]["quantity"] for i in (1, 3)] == [6, 8]
    first, retry = squarespace_sandbox.requests_to("/inventory/adjustments", "POST")
    assert first.header("Idempotency-Key") == "ob-inv-batch-9"
    assert retry.header("Idempotency-Key") != "ob-inv-batch-9" and KEY_PATTERN.fullmatch(
        retry.header("Idempotency-Key")
    )
    assert [op["variantId"] for op in retry.json["setFiniteOperations"]] == [variant(1), variant(3)]


def test_a_batch_of_only_refused_items_is_not_sent_again(squarespace_sandbox):
    result = connector(squarespace_sandbox).set_inventory(
        [InventoryUpdate(key=variant(5), sku="S5", quantity=1)], idempotency_key="ob-inv-batch-3"
    )

    assert result.accepted == [] and list(result.refused) == [variant(5)]
    assert len(squarespace_sandbox.requests_to("/inventory/adjustments", "POST")) == 1


def test_no_updates_sends_nothing(squarespace_sandbox):
    assert connector(squarespace_sandbox).set_inventory([], idempotency_key="k").accepted == []
    assert squarespace_sandbox.requests == []
