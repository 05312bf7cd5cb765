from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import CartConnection
from tests.factories import CartConnectionFactory, WMSConnectionFactory


@pytest.fixture
def seeded(wired):
    """The wired merchant with two open orders waiting at the Squarespace sandbox."""
    placed = timezone.now() - timedelta(hours=2)
    for number in ("4001", "4002"):
        wired.squarespace.add_order(
            order_number=number,
            created_on=placed,
            lines=[{"sku": "SKU-1", "quantity": 1, "price": "10.00", "name": "Widget"}],
        )
    return wired


@pytest.fixture
def second_merchant(wired) -> CartConnection:
    """Another merchant's cart, on the same sandboxes (no orders of its own)."""
    wms = WMSConnectionFactory(
        api_base_url=wired.bergen.base_url,
        sandbox_tooling=True,
        settings={
            "account_web_address": wired.bergen.base_url,
            "customer_name": wired.bergen.customer,
            "facility": "NJ",
        },
    )
    return CartConnectionFactory(
        merchant=wms.merchant, warehouse=wms, api_base_url=wired.squarespace.base_url, sandbox_tooling=True
    )
