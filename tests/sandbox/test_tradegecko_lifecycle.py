"""The TradeGecko sandbox's orders after creation: void, new shipping address and line changes are taken
until the order is packed or shipped, then refused with 422 (a modelled rule, see ``tradegecko_orders``)."""

from __future__ import annotations

import pytest

from tests.sandbox.test_tradegecko_sandbox import api


@pytest.fixture
def placed(tradegecko_sandbox):
    tradegecko_sandbox.add_variant("SKU-1", stock=10)
    tradegecko_sandbox.add_variant("SKU-2", stock=10)
    order = tradegecko_sandbox.add_order("SO-1", lines=[{"sku": "SKU-1", "quantity": 2, "price": "10.0"}])
    return tradegecko_sandbox, api(tradegecko_sandbox), order


def product_lines(sandbox, order):
    return [line for line in sandbox.order_lines(order["id"]) if line["line_type"] == "product"]


def test_an_open_order_is_voided_and_its_lines_changed_added_and_deleted(placed):
    sandbox, session, order = placed
    url = sandbox.base_url
    (line,) = product_lines(sandbox, order)
    variant = sandbox.store.variants
    sku_2 = next(v["id"] for v in variant.values() if v["sku"] == "SKU-2")

    assert (
        session.put(f"{url}/order_line_items/{line['id']}", json={"order_line_item": {"quantity": 3}}).status_code
        == 204
    )
    added = session.post(
        f"{url}/order_line_items",
        json={"order_line_item": {"order_id": order["id"], "variant_id": sku_2, "quantity": 1}},
    )
    assert added.status_code == 201
    assert session.delete(f"{url}/order_line_items/{line['id']}").status_code == 204
    assert [(ln["sku"], ln["quantity"]) for ln in product_lines(sandbox, order)] == [("SKU-2", "1.0")]
    assert session.put(f"{url}/orders/{order['id']}", json={"order": {"status": "void"}}).status_code == 204
    assert sandbox.order(order["id"])["status"] == "void"


def test_a_packed_order_refuses_a_void_an_address_and_line_changes(placed):
    sandbox, session, order = placed
    url = sandbox.base_url
    (line,) = product_lines(sandbox, order)
    sandbox.advance(order["id"], "picking")

    void = session.put(f"{url}/orders/{order['id']}", json={"order": {"status": "void"}})
    change = session.put(f"{url}/order_line_items/{line['id']}", json={"order_line_item": {"quantity": 1}})
    delete = session.delete(f"{url}/order_line_items/{line['id']}")

    assert (void.status_code, change.status_code, delete.status_code) == (422, 422, 422)
    assert "packed" in void.json()["errors"]["status"][0]
    assert sandbox.order(order["id"])["status"] == "active" and product_lines(sandbox, order)[0]["quantity"] == "2.0"
    assert session.put(f"{url}/orders/{order['id']}", json={"order": {"notes": "still editable"}}).status_code == 204


def test_advance_takes_only_picking_and_needs_something_left_to_pack(placed):
    sandbox, _, order = placed
    with pytest.raises(ValueError):
        sandbox.advance(order["id"], "shipped")
    sandbox.fulfil(order["id"])
    with pytest.raises(ValueError):
        sandbox.advance(order["id"], "picking")
