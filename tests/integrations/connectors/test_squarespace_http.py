"""The real Squarespace connector against the Squarespace sandbox, over loopback HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from integrations.connectors.errors import AuthenticationError, BadPayloadError, TemporaryError, ThrottledError
from integrations.connectors.squarespace.connector import SquarespaceCart
from integrations.outbound import SANDBOX_TOOLING
from sandbox.squarespace import SquarespaceSandbox

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
WINDOW = {"modified_after": T0 - timedelta(days=1), "modified_before": T0 + timedelta(days=1)}
ADDRESS = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "address1": "12 Analytical Way",
    "city": "Newark",
    "state": "NJ",
    "countryCode": "US",
    "postalCode": "07102",
    "phone": "+1 973 555 0100",
}


def connector(sandbox: SquarespaceSandbox, api_key: str = "sandbox-squarespace-key") -> SquarespaceCart:
    return SquarespaceCart(base_url=sandbox.base_url, outbound=SANDBOX_TOOLING, credentials={"api_key": api_key})


def seed(sandbox: SquarespaceSandbox, count: int, *, status: str = "PENDING", start: int = 1001) -> None:
    for i in range(count):
        sandbox.add_order(
            order_number=str(start + i),
            created_on=T0 + timedelta(minutes=i),
            fulfillment_status=status,
            lines=[{"sku": f"SKU-{i}", "quantity": 1 + i % 3, "price": "10.00", "name": f"Item {i}"}],
            shipping_address=ADDRESS,
        )


def all_orders(cart: SquarespaceCart, *, open_only: bool = False):
    pages = list(cart.iter_order_pages(**WINDOW, open_only=open_only))
    return pages, [order for page in pages for order in page.orders]


@pytest.fixture
def small_pages():
    sandbox = SquarespaceSandbox(page_size=2, rate_limit_per_minute=None)
    sandbox.start()
    try:
        yield sandbox
    finally:
        sandbox.stop()


def test_every_page_is_read_and_later_pages_are_asked_for_with_the_cursor_alone(small_pages):
    seed(small_pages, 5)

    pages, orders = all_orders(connector(small_pages))

    assert len(pages) == 3
    assert sorted(o.order_number for o in orders) == ["1001", "1002", "1003", "1004", "1005"]
    assert all(o.ship_to.missing_fields() == [] for o in orders)
    listing = small_pages.requests_to("/1.0/commerce/orders", "GET")
    first, *later = listing
    assert first.param("modifiedAfter") == "2024-04-30T12:00:00Z"
    assert first.param("modifiedBefore") == "2024-05-02T12:00:00Z"
    assert first.param("cursor") is None
    assert len(later) == 2
    assert all(set(r.query) == {"cursor"} for r in later)


def test_the_first_import_asks_for_pending_orders_only(squarespace_sandbox):
    seed(squarespace_sandbox, 2)
    seed(squarespace_sandbox, 1, status="FULFILLED", start=2001)

    _, orders = all_orders(connector(squarespace_sandbox), open_only=True)

    assert sorted(o.order_number for o in orders) == ["1001", "1002"]
    assert squarespace_sandbox.requests_to("/orders")[0].param("fulfillmentStatus") == "PENDING"


def test_requests_carry_the_bearer_key_and_a_user_agent(squarespace_sandbox):
    all_orders(connector(squarespace_sandbox))

    request = squarespace_sandbox.requests_to("/orders")[0]
    assert request.header("Authorization") == "Bearer sandbox-squarespace-key"
    assert request.header("User-Agent").startswith("Orderbridge/")


def test_an_unreadable_order_is_rejected_and_the_rest_of_the_page_imported(squarespace_sandbox):
    seed(squarespace_sandbox, 2)
    bad = squarespace_sandbox.add_order(order_number="1003", created_on=T0, shipping_address=ADDRESS)
    squarespace_sandbox.update_order(
        bad["id"],
        lineItems=[{**bad["lineItems"][0], "quantity": 1.5}],
        modifiedOn=T0,
    )

    pages, orders = all_orders(connector(squarespace_sandbox))

    assert sorted(o.order_number for o in orders) == ["1001", "1002"]
    rejected = [r for page in pages for r in page.rejected]
    assert [(r.cart_order_id, r.order_number) for r in rejected] == [(bad["id"], "1003")]
    assert "not a whole number" in rejected[0].reason


def test_a_refused_key_says_so(squarespace_sandbox):
    with pytest.raises(AuthenticationError, match="401: the API key was refused by Squarespace Commerce") as exc:
        all_orders(connector(squarespace_sandbox, api_key="wrong-key"))

    assert "wrong-key" not in str(exc.value)


def test_a_basic_auth_wall_in_front_of_the_site_is_named(squarespace_sandbox):
    squarespace_sandbox.basic_auth_challenge = True

    with pytest.raises(AuthenticationError, match="Basic Auth challenge"):
        connector(squarespace_sandbox).test_connection()


def test_a_server_error_is_retried(squarespace_sandbox):
    seed(squarespace_sandbox, 1)
    squarespace_sandbox.fail_next(1, status=500, path_contains="/orders")

    _, orders = all_orders(connector(squarespace_sandbox))

    assert [o.order_number for o in orders] == ["1001"]
    assert len(squarespace_sandbox.requests_to("/orders")) == 2


def test_a_dropped_connection_is_retried(squarespace_sandbox):
    seed(squarespace_sandbox, 1)
    squarespace_sandbox.fail_next(1, mode="drop", path_contains="/orders")

    _, orders = all_orders(connector(squarespace_sandbox))

    assert [o.order_number for o in orders] == ["1001"]


def test_an_outage_that_outlasts_the_retries_is_temporary(squarespace_sandbox):
    squarespace_sandbox.fail_next(10, status=503, path_contains="/orders")

    with pytest.raises(TemporaryError, match="503"):
        all_orders(connector(squarespace_sandbox))


def test_a_truncated_page_fails_the_run_loudly(small_pages):
    seed(small_pages, 3)
    pages = connector(small_pages).iter_order_pages(**WINDOW, open_only=False)
    assert len(next(pages).orders) == 2
    small_pages.fail_next(1, mode="truncated", path_contains="/orders")

    with pytest.raises(BadPayloadError, match="not valid JSON"):
        next(pages)


def test_the_rate_limit_cooldown_stops_the_run():
    sandbox = SquarespaceSandbox(rate_limit_per_minute=1, page_size=1)
    sandbox.start()
    try:
        seed(sandbox, 3)
        with pytest.raises(ThrottledError) as exc:
            all_orders(connector(sandbox))
    finally:
        sandbox.stop()

    assert exc.value.retry_after == pytest.approx(60, abs=1)


def test_test_connection_reports_what_was_checked(squarespace_sandbox):
    assert (
        connector(squarespace_sandbox)
        .test_connection()
        .startswith("credentials accepted: the API key can read orders and stock levels.")
    )
