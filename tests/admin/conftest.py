from __future__ import annotations

import pytest

from orders.models import HoldCode, Order, OrderStatus
from tests.admin.helpers import import_order


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
