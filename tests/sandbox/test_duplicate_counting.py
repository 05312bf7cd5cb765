"""The chaos harness can see a duplicate: the warehouse sandbox can store a second order under a reference
it already has, the report counts duplicates from the sandbox's own store, and the canary planted before
the run proves that counting sees one."""

from __future__ import annotations

import pytest
import requests

from sandbox.chaos.harness import chaos_problems
from sandbox.chaos.sandboxes import CANARY_REFERENCE, SandboxPair
from sandbox.chaos.scenario import ADDRESS, WAREHOUSE_SKUS

CART_CONNECTION_ID = 7


def stocked(pair: SandboxPair) -> SandboxPair:
    pair.seed(orders=[], stock_per_sku=100)
    return pair


def post_order(pair: SandboxPair, reference: str, order_number: str) -> requests.Response:
    """An order sent to the warehouse sandbox over HTTP, as the Bergen connector sends one."""
    bergen = pair.bergen
    session = requests.Session()
    token = session.post(
        bergen.base_url + "/AuthServer/api/Token",
        auth=(bergen.username, bergen.password),
        json={"grant_type": "client_credentials"},
        timeout=5,
    ).json()["access_token"]
    body = {
        "customerIdentifier": {"name": bergen.customer},
        "facilityIdentifier": {"name": "NJ"},
        "referenceNum": reference,
        "poNum": order_number,
        "shipTo": {
            "name": "Grace Hopper",
            "address1": ADDRESS["address1"],
            "city": ADDRESS["city"],
            "zip": "22201",
            "country": "US",
        },
        "orderItems": [{"itemIdentifier": {"sku": WAREHOUSE_SKUS[1]}, "qty": 2}],
    }
    return session.post(bergen.base_url + "/orders", json=body, headers={"Authorization": f"Bearer {token}"}, timeout=5)


def test_a_warehouse_accepting_repeated_references_stores_the_second_order_and_the_counts_see_it(accepting_pair):
    pair = stocked(accepting_pair[0])
    first = post_order(pair, "CHAOS-50001", "50001")
    again = post_order(pair, "CHAOS-50001", "50001")  # the same order sent twice
    renamed = post_order(pair, "CHAOS-50001-B", "50001")  # the same cart order under another reference
    other = post_order(pair, "CHAOS-50002", "50002")

    assert [r.status_code for r in (first, again, renamed, other)] == [201, 201, 201, 201]
    assert again.json()["readOnly"]["orderId"] != first.json()["readOnly"]["orderId"]
    report = pair.report(cart_connection_id=CART_CONNECTION_ID)
    assert report["warehouse_references"] == {"CHAOS-50001": 2, "CHAOS-50001-B": 1, "CHAOS-50002": 1}
    assert report["warehouse_duplicates"] == 1
    assert report["warehouse_duplicated_references"] == ["CHAOS-50001"]
    assert report["warehouse_duplicate_orders"] == 2
    assert report["warehouse_duplicated_order_numbers"] == ["50001"]


def test_by_default_the_warehouse_refuses_a_repeated_reference_and_counts_nothing(sandbox_pair):
    pair = stocked(sandbox_pair[0])
    assert post_order(pair, "CHAOS-50001", "50001").status_code == 201

    refused = post_order(pair, "CHAOS-50001", "50001")

    assert refused.status_code == 400 and refused.json()["ErrorCode"] == "Duplicate"
    report = pair.report(cart_connection_id=CART_CONNECTION_ID)
    assert report["warehouse_references"] == {"CHAOS-50001": 1}
    assert report["warehouse_duplicates"] == report["warehouse_duplicate_orders"] == 0


@pytest.mark.parametrize("pair_fixture", ["sandbox_pair", "accepting_pair"])
def test_the_canary_is_stored_twice_seen_by_both_counts_and_left_out_of_them(request, pair_fixture):
    pair = stocked(request.getfixturevalue(pair_fixture)[0])
    post_order(pair, "CHAOS-50001", "50001")

    pair.plant_duplicate_canary()

    assert len(pair.bergen.orders_by_reference()[CANARY_REFERENCE]) == 2  # even where the API refuses it
    report = pair.report(cart_connection_id=CART_CONNECTION_ID)
    assert report["duplicate_canary_seen"] is True
    assert report["warehouse_duplicates"] == report["warehouse_duplicate_orders"] == 0
    assert report["warehouse_references"] == {"CHAOS-50001": 1}
    # The warehouse does not ship it either: its tracking would match no order of ours.
    assert pair.ship_all(tracking_prefix="1ZCANARY") == 1
    assert {row["referenceNum"] for row in pair.bergen.tracking} == {"CHAOS-50001"}


def test_a_real_duplicate_is_counted_besides_the_canary(accepting_pair):
    pair = stocked(accepting_pair[0])
    pair.plant_duplicate_canary()
    post_order(pair, "CHAOS-50001", "50001")
    post_order(pair, "CHAOS-50001", "50001")

    report = pair.report(cart_connection_id=CART_CONNECTION_ID)

    assert report["duplicate_canary_seen"] is True
    assert report["warehouse_duplicates"] == report["warehouse_duplicate_orders"] == 1
    assert report["warehouse_duplicated_references"] == ["CHAOS-50001"]


def test_a_canary_planted_twice_is_all_left_out_of_the_totals(sandbox_pair):
    pair = stocked(sandbox_pair[0])
    pair.plant_duplicate_canary()
    pair.plant_duplicate_canary()

    report = pair.report(cart_connection_id=CART_CONNECTION_ID)

    assert len(pair.bergen.orders_by_reference()[CANARY_REFERENCE]) == 4
    assert report["duplicate_canary_seen"] is True
    assert report["warehouse_duplicates"] == report["warehouse_duplicate_orders"] == 0


def test_a_canary_the_counts_do_not_find_is_not_seen_and_fails_the_run(sandbox_pair):
    pair = stocked(sandbox_pair[0])
    assert pair.report(cart_connection_id=CART_CONNECTION_ID)["duplicate_canary_seen"] is False  # none planted
    pair.plant_duplicate_canary()
    with pair.bergen.lock:
        pair.bergen.orders.pop()  # one copy gone: the store no longer holds a duplicate

    sides = pair.report(cart_connection_id=CART_CONNECTION_ID)

    assert sides["duplicate_canary_seen"] is False
    assert sides["warehouse_duplicates"] == sides["warehouse_duplicate_orders"] == 0
    clean = {
        "settled": True,
        "orders": 1,
        "delivered": 1,
        "held": 0,
        "lost": 0,
        "wrongly_sent": 0,
        "tracking_duplicates": 0,
        "tracking_missing": 0,
        "held_without_reason": 0,
        "shipments_pushed": 1,
        "parcels_shipped": 1,
        "canceled": 0,
        "skipped_canceled": 0,
        "shipped_after_cancel_unflagged": 0,
        "shipped_stale_unflagged": 0,
        "tracking_refused_canceled": 0,
        **{key: sides[key] for key in ("warehouse_duplicates", "warehouse_duplicate_orders")},
    }
    assert chaos_problems({**clean, "duplicate_canary_seen": True}, sides) == []
    assert chaos_problems({**clean, "duplicate_canary_seen": False}, sides) == [
        "the duplicate canary planted at the warehouse was not seen: its counts prove nothing"
    ]
    assert chaos_problems({**clean, "duplicate_canary_seen": True, "warehouse_duplicate_orders": 1}, sides) == [
        "warehouse_duplicate_orders = 1"
    ]
