"""Fixtures of the order tests: Squarespace sandboxes that page small or spell times with an offset,
and orders held for an unknown SKU or an unmapped shipping method."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from orders.models import HoldCode, Order, OrderStatus
from sandbox.server import Response, json_response
from sandbox.squarespace import SquarespaceSandbox
from tests.admin_helpers import import_order


class OffsetSquarespace(SquarespaceSandbox):
    """A Squarespace sandbox that writes the listed orders' timestamps with a UTC offset (+05:30 unless
    told otherwise per order), as a regional host or a proxy re-serialising the JSON might.

    The sandbox filters and pages by the UTC instant (its keyset needs UTC strings), so only the
    answer is rewritten: the instants are the same, their spelling is not.
    """

    def __init__(self, *args: Any, offset: timedelta = timedelta(hours=5, minutes=30), **kwargs: Any) -> None:
        self.offset = offset
        self.offsets: dict[str, timedelta] = {}
        super().__init__(*args, **kwargs)

    def _spell(self, value: Any, offset: timedelta) -> Any:
        if not isinstance(value, str) or not value.endswith("Z"):
            return value
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return instant.astimezone(timezone(offset)).isoformat(timespec="milliseconds")

    def _page(self, key: str, items: list[dict], state: dict[str, Any], path: str, last_key: Any) -> Response:
        response = super()._page(key, items, state, path, last_key)
        body = json.loads(response.body)
        for order in body.get("result") or []:
            offset = self.offsets.get(order.get("id"), self.offset)
            for name in ("createdOn", "modifiedOn"):
                order[name] = self._spell(order.get(name), offset)
        return json_response(response.status, body, headers={k: v for k, v in response.headers.items()})


@pytest.fixture
def small_pages(wired):
    """A Squarespace sandbox answering two orders a page, with the wired cart pointed at it."""
    with SquarespaceSandbox(page_size=2, rate_limit_per_minute=None) as sandbox:
        wired.cart.api_base_url = sandbox.base_url
        wired.cart.save()
        yield sandbox


@pytest.fixture
def offset_cart(wired):
    """A Squarespace sandbox writing its timestamps in +05:30, with the wired cart pointed at it."""
    with OffsetSquarespace(rate_limit_per_minute=None) as sandbox:
        wired.cart.api_base_url = sandbox.base_url
        wired.cart.save()
        yield sandbox


@pytest.fixture
def held_for_sku(wired) -> Order:
    """An order held because the warehouse does not know its SKU TEE-BLK."""
    order = import_order(wired, "2001", sku="TEE-BLK")
    assert (order.status, order.hold_code) == (OrderStatus.ERROR, HoldCode.UNKNOWN_SKU)
    return order


@pytest.fixture
def held_for_shipping(wired) -> Order:
    """An order held because its shipping method Express has no warehouse code."""
    order = import_order(wired, "2002", shipping="Express")
    assert (order.status, order.hold_code) == (OrderStatus.ERROR, HoldCode.UNMAPPED_SHIPPING)
    return order
