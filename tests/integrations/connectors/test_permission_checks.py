"""Test connection checks the permissions the setup guides require, where the platform allows it.

Squarespace documents a permission level per API (none, Read Only, Read and Write): its reads prove
Orders and Inventory, each missing one named in the guide's words, and the connection is not
connected until the test passes. No platform documents a way to ask what a key may write: the test
says so, and the first write refused for permission stops the sync with a problem that says what to
change.
"""

from __future__ import annotations

import pytest

from integrations.connectors.errors import AuthenticationError
from integrations.connectors.permissions import INVENTORY_SYNC_HINT
from integrations.connectors.squarespace.connector import SquarespaceCart
from integrations.outbound import SANDBOX_TOOLING
from integrations.services import connection_test
from orders.models import Problem
from tests.integrations.connectors.test_bergen_http import connector as bergen
from tests.integrations.connectors.test_overstock_http import connector as overstock
from tests.integrations.connectors.test_tradegecko_oauth_http import connector as tradegecko
from tests.orders.tracking_helpers import deliver, package, run_shipments, ship

UNCHECKED = "Write permission cannot be checked until the first write"


def squarespace(sandbox, *, inventory_sync: bool = True) -> SquarespaceCart:
    return SquarespaceCart(
        base_url=sandbox.base_url,
        outbound=SANDBOX_TOOLING,
        credentials={"api_key": sandbox.api_key},
        settings={INVENTORY_SYNC_HINT: inventory_sync},
    )


def test_a_squarespace_key_with_both_permissions_passes_and_names_the_writes_it_cannot_check(squarespace_sandbox):
    message = squarespace(squarespace_sandbox).test_connection()

    assert message.startswith("credentials accepted: the API key can read orders and stock levels.")
    assert UNCHECKED in message
    assert "Orders: Read and write" in message and "Inventory: Read and write" in message
    assert squarespace_sandbox.requests_to("/1.0/commerce/inventory", "GET")


def test_a_squarespace_key_without_inventory_fails_the_test_in_the_guides_words(squarespace_sandbox):
    squarespace_sandbox.inventory_permission = False

    with pytest.raises(AuthenticationError) as refused:
        squarespace(squarespace_sandbox).test_connection()

    text = str(refused.value)
    assert "This API key cannot read stock levels: in Squarespace, make a key with Inventory: Read and write" in text
    assert "cannot read orders" not in text
    assert "Developer API Keys" in text


def test_a_squarespace_key_missing_both_names_each(squarespace_sandbox):
    squarespace_sandbox.inventory_permission = False
    squarespace_sandbox.orders_permission = False

    with pytest.raises(AuthenticationError) as refused:
        squarespace(squarespace_sandbox).test_connection()

    text = str(refused.value)
    assert "cannot read orders: in Squarespace, make a key with Orders: Read and write" in text
    assert "cannot read stock levels" in text


def test_without_the_inventory_sync_the_inventory_permission_is_not_asked(squarespace_sandbox):
    squarespace_sandbox.inventory_permission = False

    message = squarespace(squarespace_sandbox, inventory_sync=False).test_connection()

    assert message.startswith("credentials accepted: the API key can read orders.")
    assert "Inventory" not in message
    assert not squarespace_sandbox.requests_to("/1.0/commerce/inventory", "GET")


def test_a_read_only_squarespace_key_passes_the_reads_and_is_told_its_writes_are_unchecked(squarespace_sandbox):
    squarespace_sandbox.orders_read_only = True
    squarespace_sandbox.inventory_read_only = True

    message = squarespace(squarespace_sandbox).test_connection()

    assert UNCHECKED in message and "sending tracking needs Orders: Read and write" in message


def test_a_connection_whose_key_lacks_a_permission_is_not_connected(wired):
    wired.squarespace.inventory_permission = False

    result = connection_test(connection=wired.cart)

    assert result.ok is False
    wired.cart.refresh_from_db()
    assert wired.cart.last_test_ok is False
    assert "make a key with Inventory: Read and write" in wired.cart.last_test_message


def test_a_connection_whose_inventory_sync_is_off_is_connected_without_inventory(wired):
    wired.squarespace.inventory_permission = False
    wired.cart.inventory_sync_enabled = False
    wired.cart.save()

    result = connection_test(connection=wired.cart)

    assert result.ok is True, result.message
    assert UNCHECKED in result.message


def test_the_first_tracking_write_refused_for_permission_opens_a_problem_saying_what_to_change(wired):
    order = deliver(wired)
    ship(wired, order.cust_ref, package("1ZPERM0001", ("SKU-1", 1)))
    wired.squarespace.orders_read_only = True  # the key was made with Orders: Read Only

    run_shipments(wired)

    problem = Problem.objects.get(cart_connection=wired.cart, status=Problem.Status.OPEN)
    assert "403" in problem.message and "Orders “Read and Write”" in problem.message
    assert wired.squarespace.fulfillments_for(order.cart_order_id) == []


@pytest.mark.parametrize("fixture", ["bergen_sandbox", "overstock_sandbox", "tradegecko_sandbox"])
def test_platforms_that_cannot_tell_say_so_in_a_passing_test(request, fixture):
    sandbox = request.getfixturevalue(fixture)
    connectors = {
        "bergen_sandbox": lambda: bergen(sandbox),
        "overstock_sandbox": lambda: overstock(sandbox),
        "tradegecko_sandbox": lambda: tradegecko(sandbox, {"access_token": sandbox.access_token}),
    }

    message = connectors[fixture]().test_connection()

    assert message.startswith("credentials accepted")
    assert UNCHECKED in message
