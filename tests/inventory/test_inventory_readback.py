"""Inventory levels count as set only when the cart shows them: Squarespace and TradeGecko carts read
back what they were sent; a level the cart does not show is counted unverified, sent again the next
run, and after INVENTORY_UNVERIFIED_PROBLEM_AFTER_RUNS runs in a row becomes a problem naming its SKU."""

from __future__ import annotations

import pytest

from integrations.connectors.canonical import InventoryPushResult
from inventory.models import CartInventoryLevel
from inventory.readback import CANNOT_READ_BACK, levels_unverified
from orders.models import Problem
from sync.return_path import inventory_sync
from tests.factories import CartConnectionFactory

SKU_1 = "6d1f0c2e-0000-4000-8000-000000000001"
SKU_2 = "6d1f0c2e-0000-4000-8000-000000000002"


def push_run(wired, cart=None):
    """One inventory sync of the cart (the wired Squarespace one by default): its push run."""
    cart = cart or wired.cart
    cart.refresh_from_db()
    _, run = inventory_sync(connections=[cart])
    assert run.cart_connection_id == cart.pk and run.status in ("succeeded", "partial"), run.error
    return run


def level(cart, key: str) -> CartInventoryLevel:
    return CartInventoryLevel.objects.get(cart_connection=cart, cart_item_key=key)


def sent_to(wired, variant_id: str) -> int:
    """Adjustments the Squarespace sandbox received that set `variant_id`, from its own record."""
    return sum(
        op["variantId"] == variant_id for a in wired.squarespace.adjustments for op in a.get("setFiniteOperations", [])
    )


def unverified_problems(cart):
    return Problem.objects.filter(cart_connection=cart, reason_code="inventory_unverified")


def test_levels_the_squarespace_site_shows_after_the_push_are_counted_verified(wired):
    wired.squarespace.add_inventory(SKU_1, "SKU-1", 0)
    wired.squarespace.add_inventory(SKU_2, "SKU-2", 7)

    run = push_run(wired)

    assert [wired.squarespace.inventory[k]["quantity"] for k in (SKU_1, SKU_2)] == [50, 50]
    assert (run.counts["verified"], run.counts["unverified"], run.counts["inventory_pushed"]) == (2, 0, 2)
    assert wired.squarespace.requests_to(f"/inventory/{SKU_1},{SKU_2}", "GET")  # read back in one call
    row = level(wired.cart, SKU_1)
    assert (row.state, row.pushed_quantity, row.unverified_runs) == (CartInventoryLevel.State.OK, 50, 0)


def test_a_level_the_site_accepts_but_does_not_show_is_unverified_resent_and_then_a_problem(wired, settings):
    settings.INVENTORY_UNVERIFIED_PROBLEM_AFTER_RUNS = 3
    wired.squarespace.add_inventory(SKU_1, "SKU-1", 0)
    wired.squarespace.add_inventory(SKU_2, "SKU-2", 0)
    wired.squarespace.ignored_adjustments.add(SKU_1)  # answered 204, never applied

    first = push_run(wired)

    assert (first.counts["verified"], first.counts["unverified"]) == (1, 1)
    assert wired.squarespace.inventory[SKU_1]["quantity"] == 0
    row = level(wired.cart, SKU_1)
    assert row.state == CartInventoryLevel.State.UNVERIFIED
    assert row.pushed_quantity is None  # not recorded as pushed
    assert row.last_error == "Sent 50, not shown by the cart: Squarespace shows 0, not 50"
    assert not unverified_problems(wired.cart).exists()

    second = push_run(wired)  # nothing changed at the warehouse: still sent again
    assert sent_to(wired, SKU_1) == 2 and sent_to(wired, SKU_2) == 1
    assert (second.counts["verified"], second.counts["unverified"]) == (0, 1)
    assert not unverified_problems(wired.cart).exists()

    push_run(wired)
    (problem,) = unverified_problems(wired.cart)
    assert problem.status == Problem.Status.OPEN and "SKU-1" in problem.message and "SKU-2" not in problem.message
    assert level(wired.cart, SKU_1).unverified_runs == 3

    wired.squarespace.ignored_adjustments.clear()  # the site takes it again
    fixed = push_run(wired)

    assert (fixed.counts["verified"], fixed.counts["unverified"]) == (1, 0)
    assert wired.squarespace.inventory[SKU_1]["quantity"] == 50
    row = level(wired.cart, SKU_1)
    assert (row.state, row.pushed_quantity, row.unverified_runs) == (CartInventoryLevel.State.OK, 50, 0)
    problem.refresh_from_db()
    assert problem.status == Problem.Status.RESOLVED


def test_the_problem_outlives_the_runs_own_success(wired, settings):
    """A run that succeeds resolves its connection's problems; the unverified levels' problem is the
    inventory's and stays open while the levels stay unshown."""
    settings.INVENTORY_UNVERIFIED_PROBLEM_AFTER_RUNS = 1
    wired.squarespace.add_inventory(SKU_1, "SKU-1", 0)
    wired.squarespace.ignored_adjustments.add(SKU_1)

    push_run(wired)
    push_run(wired)

    (problem,) = unverified_problems(wired.cart)
    assert problem.status == Problem.Status.OPEN and problem.count == 2


@pytest.fixture
def tradegecko_cart(wired, tradegecko_sandbox):
    """A TradeGecko cart of the wired merchant, stocked from the wired Bergen warehouse."""
    return CartConnectionFactory(
        merchant=wired.merchant,
        warehouse=wired.wms,
        platform="tradegecko",
        api_base_url=tradegecko_sandbox.base_url,
        sandbox_tooling=True,
        credentials_values={"access_token": tradegecko_sandbox.access_token},
    )


def test_levels_a_tradegecko_cart_shows_after_the_adjustment_are_verified(tradegecko_cart, tradegecko_sandbox, wired):
    tee = tradegecko_sandbox.add_variant("SKU-1", stock=12)
    mug = tradegecko_sandbox.add_variant("SKU-2", stock=50)  # already at its level: nothing to send

    run = push_run(wired, tradegecko_cart)

    assert tradegecko_sandbox.variant_stock("SKU-1") == 50 and tradegecko_sandbox.variant_stock("SKU-2") == 50
    assert (run.counts["verified"], run.counts["unverified"]) == (2, 0)
    assert level(tradegecko_cart, str(tee["id"])).pushed_quantity == 50
    assert level(tradegecko_cart, str(mug["id"])).state == CartInventoryLevel.State.OK


def test_an_adjustment_a_tradegecko_cart_drops_is_unverified_and_sent_again(tradegecko_cart, tradegecko_sandbox, wired):
    tee = tradegecko_sandbox.add_variant("SKU-1", stock=12)
    tradegecko_sandbox.store.ignored_adjustments.add(tee["id"])

    first = push_run(wired, tradegecko_cart)
    second = push_run(wired, tradegecko_cart)

    assert (first.counts["verified"], first.counts["unverified"]) == (0, 1)
    assert second.counts["unverified"] == 1
    assert len(tradegecko_sandbox.stock_adjustments) == 2  # sent again: the account never showed it
    row = level(tradegecko_cart, str(tee["id"]))
    assert row.state == CartInventoryLevel.State.UNVERIFIED and row.pushed_quantity is None
    assert row.last_error == "Sent 50, not shown by the cart: TradeGecko shows 12 available, not 50"
    assert tradegecko_sandbox.variant_stock("SKU-1") == 12


def test_what_a_connector_cannot_read_back_counts_as_unverified():
    result = InventoryPushResult(
        accepted=["a", "b", "c"], refused={"d": "no"}, verified=["a"], unverified={"b": "shows 3, not 4"}
    )

    assert levels_unverified(result=result) == {"b": "shows 3, not 4", "c": CANNOT_READ_BACK}
