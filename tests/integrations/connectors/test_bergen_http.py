"""The real Bergen connector against the Bergen (Extensiv-model) sandbox, over loopback HTTP."""

from __future__ import annotations

import pytest

from integrations.connectors.bergen.connector import BergenWarehouse
from integrations.connectors.canonical import Address, WarehouseOrder
from integrations.connectors.errors import (
    AuthenticationError,
    DuplicateReferenceError,
    OrderRejectedError,
    TemporaryError,
)
from integrations.outbound import SANDBOX_TOOLING
from sandbox.bergen import BergenSandbox
from tests.integrations.connectors.builders import warehouse_order


def connector(sandbox: BergenSandbox, *, password: str = "sandbox-pass", **settings) -> BergenWarehouse:
    return BergenWarehouse(
        base_url=sandbox.base_url,
        outbound=SANDBOX_TOOLING,
        credentials={"username": "sandbox-user", "password": password},
        settings={"account_web_address": "https://www.demo.atworkweb.com", "customer_name": "DEMO"} | settings,
    )


def order(cust_ref: str = "SQ-1042", skus: tuple[str, ...] = ("TEE-M", "MUG"), **changes) -> WarehouseOrder:
    return warehouse_order(cust_ref, lines=[(sku, i) for i, sku in enumerate(skus, start=1)], **changes)


@pytest.fixture
def stocked(bergen_sandbox):
    for sku in ("TEE-M", "MUG"):
        bergen_sandbox.add_item(sku)
    return bergen_sandbox


def test_an_order_is_created_and_its_id_returned(stocked):
    ref = connector(stocked).submit_order(order())

    stored = stocked.order("SQ-1042")
    assert ref.warehouse_order_id == str(stored["readOnly"]["orderId"])
    assert ref.cust_ref == "SQ-1042"
    assert stored["poNum"] == "1042"
    assert [(i["itemIdentifier"]["sku"], i["qty"]) for i in stored["orderItems"]] == [("TEE-M", 1), ("MUG", 2)]
    post = stocked.requests_to("/orders", "POST")[0]
    assert post.header("Authorization").startswith("Bearer ")
    assert "hal+json" in post.header("Accept")
    assert "json" in post.header("Content-Type")


def test_the_created_order_is_read_back_from_the_create_answer_without_a_lookup(stocked):
    ref = connector(stocked).submit_order(order())

    stored = stocked.order("SQ-1042")
    assert ref.cust_po_no == stored["poNum"] == "1042"
    assert [(line.sku, line.quantity) for line in ref.items] == [("TEE-M", 1), ("MUG", 2)]
    assert ref.ship_to is not None and ref.ship_to.zip == stored["shipTo"]["zip"]
    assert stocked.requests_to("/orders", "GET") == []


def test_the_token_comes_from_basic_credentials_and_is_reused(stocked):
    bergen = connector(stocked)
    bergen.submit_order(order("SQ-1"))
    bergen.submit_order(order("SQ-2"))

    token_requests = stocked.requests_to("/AuthServer/api/Token", "POST")
    assert len(token_requests) == 1 and stocked.tokens_issued == 1
    assert token_requests[0].header("Authorization").startswith("Basic ")
    assert token_requests[0].json["grant_type"] == "client_credentials"
    assert "sandbox-pass" not in str(token_requests[0].json)


def test_an_expired_token_is_renewed_once_and_the_call_retried(stocked):
    bergen = connector(stocked)
    bergen.submit_order(order("SQ-1"))
    stocked.expire_tokens()

    ref = bergen.submit_order(order("SQ-2"))

    assert ref.cust_ref == "SQ-2"
    assert stocked.tokens_issued == 2
    assert stocked.duplicate_count() == 0


def test_a_token_is_shared_by_the_connectors_of_a_login_and_not_by_another_login(stocked):
    connector(stocked).submit_order(order("SQ-1"))
    connector(stocked).submit_order(order("SQ-2"))  # the next run's connector: no token request of its own
    assert stocked.tokens_issued == 1

    with pytest.raises(AuthenticationError):
        connector(stocked, password="changed").submit_order(order("SQ-3"))  # its own request, refused
    assert len(stocked.requests_to("/AuthServer/api/Token", "POST")) == 2
    assert [o["referenceNum"] for o in stocked.orders] == ["SQ-1", "SQ-2"]


def test_a_shared_token_the_warehouse_refuses_is_replaced_for_every_connector(stocked):
    connector(stocked).submit_order(order("SQ-1"))
    stocked.expire_tokens()

    connector(stocked).submit_order(order("SQ-2"))  # 401 with the kept token: a new one, the call retried
    connector(stocked).submit_order(order("SQ-3"))  # the new token, kept

    assert stocked.tokens_issued == 2
    assert [o["referenceNum"] for o in stocked.orders] == ["SQ-1", "SQ-2", "SQ-3"]
    assert stocked.duplicate_count() == 0


def test_a_user_login_is_sent_with_the_token_request(stocked):
    connector(stocked, user_login="orderbridge").test_connection()

    assert stocked.requests_to("/AuthServer/api/Token")[0].json.get("user_login") == "orderbridge"


def test_a_second_submission_of_the_same_reference_is_a_duplicate(stocked):
    bergen = connector(stocked)
    bergen.submit_order(order())

    with pytest.raises(DuplicateReferenceError):
        bergen.submit_order(order())

    assert stocked.duplicate_count() == 0
    assert len(stocked.orders_by_reference()["SQ-1042"]) == 1


def test_an_unknown_sku_is_refused_with_its_name(stocked):
    with pytest.raises(OrderRejectedError) as exc:
        connector(stocked).submit_order(order(skus=("TEE-M", "NOPE-1")))

    assert exc.value.reason_code == "unknown_sku"
    assert exc.value.skus == ["NOPE-1"]
    assert stocked.orders == []


def test_a_missing_address_is_refused_as_such(stocked):
    no_address = order()
    no_address.ship_to = Address(first_name="Ada", last_name="Lovelace")

    with pytest.raises(OrderRejectedError) as exc:
        connector(stocked).submit_order(no_address)

    assert exc.value.reason_code == "missing_address"


def test_find_order_finds_a_delivered_order_and_nothing_else(stocked):
    bergen = connector(stocked)
    ref = bergen.submit_order(order())

    found = bergen.find_order("SQ-1042")

    assert found is not None and found.warehouse_order_id == ref.warehouse_order_id
    assert found.cust_ref == "SQ-1042"
    assert bergen.find_order("SQ-9999") is None
    assert "referenceNum==" in stocked.requests_to("/orders", "GET")[0].param("rql")


def test_orders_found_by_reference_are_read_back_as_they_were_sent(stocked):
    bergen = connector(stocked)
    bergen.submit_order(order())

    [found] = bergen.find_orders("SQ-1042")

    assert stocked.requests_to("/orders", "GET")[-1].param("detail") == "All"  # the lines come with it
    assert found.cust_po_no == "1042"
    assert [(line.sku, line.quantity) for line in found.items] == [("TEE-M", 1), ("MUG", 2)]
    assert (found.ship_to.full_name, found.ship_to.address_1, found.ship_to.zip) == (
        "Ada Lovelace",
        "12 Analytical Way",
        "07102",
    )
    assert bergen.find_orders("SQ-9999") == []


def test_find_order_ignores_another_customers_order_with_the_same_reference(stocked):
    stocked.add_customer("OTHER")
    stocked.add_item("TEE-M", customer="OTHER")
    connector(stocked, customer_name="OTHER").submit_order(order(skus=("TEE-M",)))

    assert connector(stocked).find_order("SQ-1042") is None


def test_a_lost_reply_to_a_submission_is_reported_as_maybe_delivered_and_found_after(stocked):
    bergen = connector(stocked)
    stocked.fail_next(1, status=500, mode="after", path_contains="/orders", method="POST")

    with pytest.raises(TemporaryError) as exc:
        bergen.submit_order(order())

    assert exc.value.maybe_delivered is True
    assert len(stocked.requests_to("/orders", "POST")) == 1  # never resent blindly
    assert bergen.find_order("SQ-1042") is not None


def take_the_order_then_answer_unreadably(sandbox: BergenSandbox) -> None:
    body = "<html><body>upstream sent an invalid response</body></html>"
    sandbox.fail_next(1, mode="after", status=200, body=body, path_contains="/orders", method="POST")


def test_an_unreadable_answer_to_a_created_order_is_completed_by_a_lookup(stocked):
    take_the_order_then_answer_unreadably(stocked)

    ref = connector(stocked).submit_order(order())

    assert ref.warehouse_order_id == str(stocked.order("SQ-1042")["readOnly"]["orderId"])


def test_when_that_lookup_fails_too_the_error_says_the_order_may_be_delivered(stocked, settings):
    settings.HTTP_MAX_RETRIES, settings.HTTP_BACKOFF_SECONDS = 1, 0
    take_the_order_then_answer_unreadably(stocked)
    stocked.fail_next(2, status=503, path_contains="/orders", method="GET")  # the lookup and its one retry

    with pytest.raises(TemporaryError, match="accepted order SQ-1042 without giving its id") as exc:
        connector(stocked).submit_order(order())

    assert exc.value.maybe_delivered is True  # a GET failed, but the order is at the warehouse
    assert len(stocked.orders) == 1


def test_list_skus_reads_every_page_of_stock(bergen_sandbox):
    for i in range(1203):
        bergen_sandbox.add_item(f"SKU-{i:04d}", facility=("NJ", "WEST")[i % 2])

    skus = connector(bergen_sandbox).list_skus()

    assert len(skus) == 1203 and "SKU-1202" in skus
    pages = bergen_sandbox.requests_to("/inventory/stocksummaries", "GET")
    assert [(r.param("pgnum"), r.param("pgsiz")) for r in pages] == [("1", "500"), ("2", "500"), ("3", "500")]


def test_refused_credentials_say_which(bergen_sandbox):
    with pytest.raises(AuthenticationError, match="401: the API username or password was refused") as exc:
        connector(bergen_sandbox, password="wrong-pass").test_connection()

    assert "wrong-pass" not in str(exc.value)


def test_test_connection_names_the_address_and_customer(bergen_sandbox):
    message = connector(bergen_sandbox).test_connection()

    assert message.startswith(f"credentials accepted: token issued by {bergen_sandbox.base_url}, customer DEMO.")
