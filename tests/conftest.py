from __future__ import annotations

from dataclasses import dataclass

import pytest

from integrations.connectors.bergen.tokens import tokens_forget
from integrations.models import CartConnection, Merchant, WMSConnection
from tests.factories import CartConnectionFactory, ShippingMethodMapFactory, WMSConnectionFactory

pytest_plugins = [
    "tests.fixtures_sandbox",
    "tests.fixtures_tradegecko",
    "tests.fixtures_overstock",
    "tests.fixtures_outbound",
    "tests.fixtures_processes",
    "tests.credentials",
]


@pytest.fixture(autouse=True)
def bergen_tokens_forgotten():
    """Each test starts with no Bergen token kept in the process (a sandbox's port may be reused)."""
    tokens_forget()
    yield
    tokens_forget()


@dataclass
class Wired:
    """A merchant whose Squarespace cart and Bergen warehouse point at running sandboxes."""

    merchant: Merchant
    cart: CartConnection
    wms: WMSConnection
    squarespace: object
    bergen: object


def wire_to_sandboxes(squarespace_sandbox, bergen_sandbox) -> tuple[CartConnection, WMSConnection]:
    """A new merchant's Squarespace cart and Bergen warehouse, pointed at the running sandboxes."""
    wms = WMSConnectionFactory(
        api_base_url=bergen_sandbox.base_url,
        sandbox_tooling=True,
        credentials_values={"username": bergen_sandbox.username, "password": bergen_sandbox.password},
        settings={
            "account_web_address": bergen_sandbox.base_url,
            "customer_name": bergen_sandbox.customer,
            "facility": "NJ",
        },
    )
    ShippingMethodMapFactory(warehouse=wms, cart_method="Standard", ship_code="UPS:Ground")
    cart = CartConnectionFactory(
        merchant=wms.merchant,
        warehouse=wms,
        api_base_url=squarespace_sandbox.base_url,
        sandbox_tooling=True,
        credentials_values={"api_key": squarespace_sandbox.api_key},
    )
    return cart, wms


@pytest.fixture
def wired(db, squarespace_sandbox, bergen_sandbox) -> Wired:
    for sku in ("SKU-1", "SKU-2", "WMS-SKU-9"):
        bergen_sandbox.add_item(sku, on_hand=50)
    cart, wms = wire_to_sandboxes(squarespace_sandbox, bergen_sandbox)
    return Wired(wms.merchant, cart, wms, squarespace_sandbox, bergen_sandbox)
