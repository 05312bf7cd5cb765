"""The real TradeGecko cart connector against the TradeGecko sandbox, over loopback HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from integrations.budget import AccountBudget, DatabaseBudgets
from integrations.connectors.canonical import (
    CART_CANCELED,
    CART_OPEN,
    InventoryUpdate,
)
from integrations.connectors.errors import PermanentError, ThrottledError
from integrations.connectors.tradegecko.connector import TradeGeckoCart
from integrations.outbound import SANDBOX_TOOLING
from sandbox.tradegecko import TradeGeckoSandbox
from tests.integrations.connectors.builders import shipment, shipment_lines


def window() -> dict:
    now = datetime.now(UTC)
    return {"modified_after": now - timedelta(days=1), "modified_before": now + timedelta(minutes=5)}


def cart(sandbox: TradeGeckoSandbox, **settings) -> TradeGeckoCart:
    return TradeGeckoCart(
        base_url=sandbox.base_url,
        outbound=SANDBOX_TOOLING,
        credentials={"access_token": sandbox.access_token},
        settings=settings,
    )


def seed(sandbox: TradeGeckoSandbox, count: int, *, start: int = 1001, **kwargs) -> list[dict]:
    """Orders of TEE-M with MUG or CAP (the sandbox adds a variant for a SKU it does not know)."""
    return [
        sandbox.add_order(
            f"SO{start + i}",
            lines=[{"sku": "TEE-M", "quantity": 1 + i % 2}, {"sku": ("MUG", "CAP")[i % 2], "quantity": 1}],
            **kwargs,
        )
        for i in range(count)
    ]


def import_all(connector: TradeGeckoCart, *, open_only: bool = False):
    pages = list(connector.iter_order_pages(**window(), open_only=open_only))
    return pages, [order for page in pages for order in page.orders]


def test_every_page_is_read_as_x_pagination_tells(tradegecko_sandbox):
    seed(tradegecko_sandbox, 5)
    connector = cart(tradegecko_sandbox)
    connector.page_limit = 2

    pages, orders = import_all(connector)

    assert sorted(o.order_number for o in orders) == ["SO1001", "SO1002", "SO1003", "SO1004", "SO1005"]
    listing = tradegecko_sandbox.requests_to("/orders", "GET")
    assert [(r.param("page"), r.param("limit")) for r in listing] == [("1", "2"), ("2", "2"), ("3", "2")]
    assert len(pages) == 3


def test_lines_skus_and_addresses_come_in_batches_not_one_call_per_line(tradegecko_sandbox):
    seed(tradegecko_sandbox, 6)

    _, orders = import_all(cart(tradegecko_sandbox))

    assert len(orders) == 6
    assert all(o.ship_to.missing_fields() == [] for o in orders)
    assert {line.sku for o in orders for line in o.lines} == {"TEE-M", "MUG", "CAP"}
    assert {o.ship_method for o in orders} == {"Standard"}
    # One page of orders: one call each for its lines, their variants and its addresses.
    for path in ("/order_line_items", "/variants", "/addresses"):
        assert len(tradegecko_sandbox.requests_to(path, "GET")) == 1, path
    variants = tradegecko_sandbox.requests_to("/variants", "GET")[0]
    assert len(variants.query["ids[]"]) == 3


def test_the_first_import_asks_for_open_orders_and_later_runs_see_cancellations(tradegecko_sandbox):
    seed(tradegecko_sandbox, 2)
    void = seed(tradegecko_sandbox, 1, start=2001, status="void")[0]
    seed(tradegecko_sandbox, 1, start=3001, fulfillment_status="shipped")

    _, first = import_all(cart(tradegecko_sandbox), open_only=True)
    listing = tradegecko_sandbox.requests_to("/orders", "GET")
    tradegecko_sandbox.requests.clear()
    _, later = import_all(cart(tradegecko_sandbox))

    assert sorted(o.order_number for o in first) == ["SO1001", "SO1002"]
    assert {(r.param("status"), r.param("fulfillment_status")) for r in listing} == {
        ("active", "unshipped"),
        ("finalized", "unshipped"),
    }
    again = tradegecko_sandbox.requests_to("/orders", "GET")[0]
    assert again.param("status") is None and again.param("fulfillment_status") is None
    assert again.param("updated_at_min") and again.param("updated_at_max")
    states = {o.order_number: o.cart_status for o in later}
    assert states[void["order_number"]] == CART_CANCELED
    assert states["SO1001"] == CART_OPEN
    assert len(later) == 4


def test_the_required_location_id_filters_the_listing(tradegecko_sandbox):
    elsewhere = tradegecko_sandbox.add_location("West DC")
    seed(tradegecko_sandbox, 2)
    seed(tradegecko_sandbox, 1, start=5001, stock_location_id=elsewhere)

    _, orders = import_all(cart(tradegecko_sandbox, required_location_id=str(elsewhere)))

    assert [o.order_number for o in orders] == ["SO5001"]
    assert tradegecko_sandbox.requests_to("/orders")[0].param("stock_location_id") == str(elsewhere)


def test_a_fractional_quantity_rejects_the_order_and_the_rest_is_imported(tradegecko_sandbox):
    seed(tradegecko_sandbox, 2)
    tradegecko_sandbox.add_order("SO9001", lines=[{"sku": "TEE-M", "quantity": "1.5"}])

    pages, orders = import_all(cart(tradegecko_sandbox))

    assert sorted(o.order_number for o in orders) == ["SO1001", "SO1002"]
    rejected = [r for p in pages for r in p.rejected]
    assert [r.order_number for r in rejected] == ["SO9001"]
    assert "not a whole number" in rejected[0].reason


# --- tracking back ---


def parcel(order: dict, sandbox: TradeGeckoSandbox, lines: dict[str, int], number: str, *, complete: bool):
    by_sku = {line["sku"]: line for line in sandbox.order_lines(order["id"]) if line["sku"]}
    return shipment(
        number,
        tracking_url=f"https://www.ups.com/track?tracknum={number}",
        shipped_at=datetime(2024, 5, 2, 8, 0, tzinfo=UTC),
        lines=shipment_lines(*[(str(by_sku[sku]["id"]), q) for sku, q in lines.items()], skus=lines),
        complete=complete,
    )


def test_a_partial_shipment_fulfils_its_lines_then_the_rest_is_a_second_fulfillment(tradegecko_sandbox):
    (order,) = seed(tradegecko_sandbox, 1)  # TEE-M x1, MUG x1
    connector = cart(tradegecko_sandbox)

    connector.push_shipment(
        str(order["id"]), parcel(order, tradegecko_sandbox, {"TEE-M": 1}, "1ZA", complete=False), notify_customer=True
    )
    created = tradegecko_sandbox.requests_to("/fulfillments", "POST")
    updated = tradegecko_sandbox.requests_to("/fulfillments/", "PUT")

    assert len(created) == 1 and created[0].header("Idempotency-Key")
    assert created[0].json["fulfillment"]["fulfillment_line_items"][0]["quantity"] == 1
    assert updated[0].json["fulfillment"]["status"] == "fulfilled"
    assert updated[0].json["fulfillment"]["tracking_number"] == "1ZA"
    assert tradegecko_sandbox.order(order["id"])["fulfillment_status"] == "partial"
    assert connector.existing_tracking_numbers(str(order["id"])) == {"1ZA"}

    connector.push_shipment(
        str(order["id"]), parcel(order, tradegecko_sandbox, {"MUG": 1}, "1ZB", complete=True), notify_customer=True
    )

    assert tradegecko_sandbox.requests_to("/actions/fulfil", "POST") == []
    assert [(f["status"], f["tracking_number"], f["tracking_company"]) for f in tradegecko_sandbox.fulfillments] == [
        ("fulfilled", "1ZA", "UPS"),
        ("fulfilled", "1ZB", "UPS"),
    ]
    assert tradegecko_sandbox.order(order["id"])["fulfillment_status"] == "shipped"
    assert connector.existing_tracking_numbers(str(order["id"])) == {"1ZA", "1ZB"}


@pytest.mark.parametrize("lines", [{"TEE-M": 1, "MUG": 1}, {}], ids=["lines_named", "whole_order"])
def test_a_whole_order_in_one_parcel_is_one_documented_fulfillment_with_its_tracking(tradegecko_sandbox, lines):
    (order,) = seed(tradegecko_sandbox, 1)
    connector = cart(tradegecko_sandbox)

    connector.push_shipment(
        str(order["id"]), parcel(order, tradegecko_sandbox, lines, "1ZC", complete=True), notify_customer=False
    )

    assert tradegecko_sandbox.requests_to("/actions/fulfil", "POST") == []
    (created,) = tradegecko_sandbox.requests_to("/fulfillments", "POST")
    assert created.json["fulfillment"]["order_id"] == order["id"]
    assert sorted(i["quantity"] for i in created.json["fulfillment"]["fulfillment_line_items"]) == [1, 1]
    # Counted from the sandbox's own store: one fulfillment, shipped, holding the number.
    (stored,) = tradegecko_sandbox.fulfillments
    assert (stored["status"], stored["tracking_number"], stored["tracking_company"]) == ("fulfilled", "1ZC", "UPS")
    assert tradegecko_sandbox.order(order["id"])["fulfillment_status"] == "shipped"
    assert connector.existing_tracking_numbers(str(order["id"])) == {"1ZC"}


def test_a_fulfillment_whose_tracking_was_lost_is_finished_on_the_next_push_not_made_twice(tradegecko_sandbox):
    (order,) = seed(tradegecko_sandbox, 1)
    connector = cart(tradegecko_sandbox)
    whole = parcel(order, tradegecko_sandbox, {"TEE-M": 1, "MUG": 1}, "1ZE", complete=True)
    tradegecko_sandbox.fail_next(1, status=422, path_contains="/fulfillments/", method="PUT")
    with pytest.raises(PermanentError, match="refused its tracking"):
        connector.push_shipment(str(order["id"]), whole, notify_customer=False)
    assert [f["status"] for f in tradegecko_sandbox.fulfillments] == ["packed"]

    connector.push_shipment(str(order["id"]), whole, notify_customer=False)

    assert len(tradegecko_sandbox.requests_to("/fulfillments", "POST")) == 1
    (stored,) = tradegecko_sandbox.fulfillments
    assert (stored["status"], stored["tracking_number"]) == ("fulfilled", "1ZE")


def test_tracking_for_a_voided_order_is_refused_with_a_reason(tradegecko_sandbox):
    (order,) = seed(tradegecko_sandbox, 1, status="void")

    with pytest.raises(PermanentError, match="is void"):
        cart(tradegecko_sandbox).push_shipment(
            str(order["id"]),
            parcel(order, tradegecko_sandbox, {"TEE-M": 1}, "1ZD", complete=False),
            notify_customer=False,
        )
    assert tradegecko_sandbox.fulfillments == []


# --- inventory back ---


def test_stock_is_listed_per_variant(tradegecko_sandbox):
    tradegecko_sandbox.add_variant("TEE-M", stock=12)
    tradegecko_sandbox.add_variant("MUG", stock=0)

    items = [item for page in cart(tradegecko_sandbox).iter_inventory() for item in page]

    assert {(i.sku, i.quantity) for i in items} == {("TEE-M", 12), ("MUG", 0)}


def test_levels_are_set_with_one_adjustment_of_the_differences(tradegecko_sandbox):
    tee = tradegecko_sandbox.add_variant("TEE-M", stock=12)
    mug = tradegecko_sandbox.add_variant("MUG", stock=4)
    cap = tradegecko_sandbox.add_variant("CAP", stock=7)
    updates = [
        InventoryUpdate(key=str(tee["id"]), sku="TEE-M", quantity=9),
        InventoryUpdate(key=str(mug["id"]), sku="MUG", quantity=10),
        InventoryUpdate(key=str(cap["id"]), sku="CAP", quantity=7),  # unchanged: not sent
        InventoryUpdate(key="999999", sku="GONE", quantity=1),
    ]

    result = cart(tradegecko_sandbox).set_inventory(updates, idempotency_key="ob-inv-run-1")

    assert sorted(result.accepted) == sorted([str(tee["id"]), str(mug["id"]), str(cap["id"])])
    assert sorted(result.verified) == sorted(result.accepted) and result.unverified == {}
    assert list(result.refused) == ["999999"]
    (adjustment,) = tradegecko_sandbox.stock_adjustments
    assert {(li["variant_id"], Decimal(str(li["quantity"]))) for li in adjustment["stock_adjustment_line_items"]} == {
        (tee["id"], Decimal(-3)),
        (mug["id"], Decimal(6)),
    }
    assert tradegecko_sandbox.variant_stock("TEE-M") == 9
    assert tradegecko_sandbox.variant_stock("MUG") == 10
    assert tradegecko_sandbox.requests_to("/stock_adjustments", "POST")[0].header("Idempotency-Key")
    before, after = tradegecko_sandbox.requests_to("/variants", "GET")  # each in one batch
    assert sorted(before.query["ids[]"]) == sorted([str(tee["id"]), str(mug["id"]), str(cap["id"]), "999999"])
    assert sorted(after.query["ids[]"]) == sorted([str(tee["id"]), str(mug["id"])])  # the adjusted ones, read back


def test_a_level_the_account_does_not_show_after_the_adjustment_is_unverified_with_what_it_shows(tradegecko_sandbox):
    tee = tradegecko_sandbox.add_variant("TEE-M", stock=12)
    mug = tradegecko_sandbox.add_variant("MUG", stock=4)
    tradegecko_sandbox.store.ignored_adjustments.add(tee["id"])  # answered 201, stock left as it was
    updates = [
        InventoryUpdate(key=str(tee["id"]), sku="TEE-M", quantity=9),
        InventoryUpdate(key=str(mug["id"]), sku="MUG", quantity=10),
    ]

    result = cart(tradegecko_sandbox).set_inventory(updates, idempotency_key="ob-inv-run-1")

    assert sorted(result.accepted) == sorted([str(tee["id"]), str(mug["id"])])
    assert result.verified == [str(mug["id"])]
    assert result.unverified == {str(tee["id"]): "TradeGecko shows 12 available, not 9"}
    assert tradegecko_sandbox.variant_stock("TEE-M") == 12 and tradegecko_sandbox.variant_stock("MUG") == 10


def test_levels_already_right_send_nothing(tradegecko_sandbox):
    tee = tradegecko_sandbox.add_variant("TEE-M", stock=5)

    result = cart(tradegecko_sandbox).set_inventory(
        [InventoryUpdate(key=str(tee["id"]), sku="TEE-M", quantity=5)], idempotency_key="k"
    )

    assert result.accepted == result.verified == [str(tee["id"])]  # shown at its level by the read just made
    assert tradegecko_sandbox.requests_to("/stock_adjustments") == []


def test_levels_are_set_at_the_required_location(tradegecko_sandbox):
    west = tradegecko_sandbox.add_location("West DC")
    tee = tradegecko_sandbox.add_variant("TEE-M", stock=5)
    tradegecko_sandbox.set_stock("TEE-M", 2, location_id=west)

    cart(tradegecko_sandbox, required_location_id=str(west)).set_inventory(
        [InventoryUpdate(key=str(tee["id"]), sku="TEE-M", quantity=8)], idempotency_key="k"
    )

    assert tradegecko_sandbox.stock_adjustments[0]["stock_location_id"] == west
    assert tradegecko_sandbox.variant_stock("TEE-M", location_id=west) == 8
    assert tradegecko_sandbox.variant_stock("TEE-M") == 13


def test_a_level_set_at_the_required_location_is_compared_with_that_locations_stock(tradegecko_sandbox):
    west = tradegecko_sandbox.add_location("West DC")
    tee = tradegecko_sandbox.add_variant("TEE-M", stock=5)
    tradegecko_sandbox.set_stock("TEE-M", 2, location_id=west)
    tradegecko_sandbox.store.ignored_adjustments.add(tee["id"])

    result = cart(tradegecko_sandbox, required_location_id=str(west)).set_inventory(
        [InventoryUpdate(key=str(tee["id"]), sku="TEE-M", quantity=8)], idempotency_key="k"
    )

    assert result.verified == []
    assert result.unverified == {str(tee["id"]): f"TradeGecko shows 2 available at location {west}, not 8"}


def test_lines_of_orders_that_do_not_list_their_line_ids_are_asked_for_by_order(tradegecko_sandbox):
    seeded = seed(tradegecko_sandbox, 2)
    unlisted = [{k: v for k, v in o.items() if k != "order_line_item_ids"} for o in seeded]

    lines = cart(tradegecko_sandbox).line_items_of(unlisted)

    assert sorted(line["order_id"] for line in lines) == sorted([seeded[0]["id"]] * 3 + [seeded[1]["id"]] * 3)
    (request,) = tradegecko_sandbox.requests_to("/order_line_items", "GET")
    assert sorted(request.query["order_id[]"]) == sorted(str(o["id"]) for o in seeded)


def test_the_budget_follows_the_rate_headers_and_sends_nothing_past_what_remains(db):
    sandbox = TradeGeckoSandbox(rate_limit=10, rate_window=300)
    sandbox.start()
    try:
        budget = AccountBudget("tradegecko-headers", TradeGeckoCart.rate_limit, store=DatabaseBudgets())
        connector = TradeGeckoCart(
            base_url=sandbox.base_url,
            outbound=SANDBOX_TOOLING,
            credentials={"access_token": sandbox.access_token},
            budget=budget,
        )
        sent = 0
        with pytest.raises(ThrottledError, match="rate budget is spent"):
            for _ in range(20):
                connector.get_json("/accounts/current")
                sent += 1
        asked = len(sandbox.requests_to("/accounts/current"))
    finally:
        sandbox.stop()

    # the documented 300 per 300 s would allow a burst of 29: the headers said 10, and the 11th never left
    assert sent == asked == 10
