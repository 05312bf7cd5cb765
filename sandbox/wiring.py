"""One way to wire a merchant to running sandboxes: the demo, the chaos run and the benchmark all use it.

A sandbox is an emulator and knows nothing of our connections; what a connection needs to reach one
(its base URL, the account's credentials, the settings that name the account there) is said here, once
per platform, as a ``SandboxAccount``. ``merchant_wire_sandboxes`` then creates the merchant and its cart
and warehouse connections, or points existing ones at this run's ports: a sandbox listens on a free port
that changes from one run to the next, while the merchant, its orders and its mappings stay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction

from integrations.models import CartConnection, Merchant, WMSConnection
from orders.models import ShippingMethodMap, SKUAlias

# The rate a sandbox started without a rate limit takes (1,000 requests a second): a connection wired to
# it declares it (`sandbox_requests_per_minute`), so that its rate budget never holds the tooling back.
ANY_RATE_PER_MINUTE = 60_000


@dataclass(frozen=True)
class SandboxAccount:
    """What one connection needs to reach an account at a running sandbox."""

    platform: str
    base_url: str
    credentials: dict[str, str]
    settings: dict[str, Any] = field(default_factory=dict)


def squarespace_account(base_url: str, *, api_key: str) -> SandboxAccount:
    return SandboxAccount("squarespace", base_url, {"api_key": api_key})


def bergen_account(
    base_url: str, *, username: str, password: str, customer: str, facility: str = "NJ"
) -> SandboxAccount:
    """The sandbox plays the account web address too, so the base URL is also the account's address."""
    settings = {"account_web_address": base_url, "customer_name": customer, "facility": facility}
    return SandboxAccount("bergen", base_url, {"username": username, "password": password}, settings)


def tradegecko_account(
    base_url: str, *, platform: str, access_token: str, stock_location_id: str | None = None
) -> SandboxAccount:
    """``platform``: TradeGecko or its later name, QuickBooks Commerce (one API); a warehouse connection
    names the stock location it ships from."""
    settings = {} if stock_location_id is None else {"stock_location_id": stock_location_id}
    return SandboxAccount(platform, base_url, {"access_token": access_token}, settings)


def overstock_account(base_url: str, *, username: str, password: str, warehouse_name: str) -> SandboxAccount:
    return SandboxAccount(
        "overstock", base_url, {"username": username, "password": password}, {"warehouse_name": warehouse_name}
    )


@dataclass(frozen=True)
class SandboxMerchant:
    """The merchant to wire (found by ``slug``) and the names its rows get when they are created."""

    slug: str
    name: str
    contact_email: str
    cart_name: str
    warehouse_name: str


def _pointed(connection: CartConnection | WMSConnection, account: SandboxAccount, per_minute: int | None) -> None:
    connection.api_base_url, connection.sandbox_tooling = account.base_url, True
    connection.sandbox_requests_per_minute = per_minute
    connection.set_credentials(account.credentials)
    connection.settings = dict(account.settings)


@transaction.atomic
def merchant_wire_sandboxes(
    *,
    merchant: SandboxMerchant,
    cart: SandboxAccount,
    warehouse: SandboxAccount,
    earliest_order_date: date,
    ship_codes: Mapping[str, str],
    sku_aliases: Mapping[str, str] | None = None,
    requests_per_minute: int | None = None,
) -> CartConnection:
    """The merchant's cart connection (its warehouse connection behind it), pointed at the sandboxes.

    Created once: the merchant by slug, each connection by platform; on a later run the same rows get
    this run's URLs and credentials. ``ship_codes`` (cart shipping method -> warehouse code) and
    ``sku_aliases`` (cart SKU -> warehouse SKU) are added where missing, never changed;
    ``earliest_order_date`` applies to a new cart connection only (an existing one keeps its own).
    ``requests_per_minute`` is the rate the sandboxes take (``ANY_RATE_PER_MINUTE`` for ones started
    without a limit); None keeps the connections' budgets to the platforms' documented limits.
    """
    owner, _ = Merchant.objects.get_or_create(
        slug=merchant.slug, defaults={"name": merchant.name, "contact_email": merchant.contact_email}
    )
    wms = WMSConnection.objects.filter(merchant=owner, platform=warehouse.platform).first() or WMSConnection(
        merchant=owner, platform=warehouse.platform, name=merchant.warehouse_name
    )
    _pointed(wms, warehouse, requests_per_minute)
    wms.save()
    for cart_method, ship_code in ship_codes.items():
        ShippingMethodMap.objects.get_or_create(
            warehouse=wms, cart_method=cart_method, defaults={"ship_code": ship_code}
        )
    for cart_sku, warehouse_sku in (sku_aliases or {}).items():
        SKUAlias.objects.get_or_create(merchant=owner, cart_sku=cart_sku, defaults={"warehouse_sku": warehouse_sku})
    connection = CartConnection.objects.filter(merchant=owner, platform=cart.platform).first() or CartConnection(
        merchant=owner, platform=cart.platform, name=merchant.cart_name, earliest_order_date=earliest_order_date
    )
    _pointed(connection, cart, requests_per_minute)
    connection.warehouse = wms
    connection.save()
    return connection
