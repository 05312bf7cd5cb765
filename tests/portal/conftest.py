"""Fixtures of the merchant-page tests: a merchant user, and another merchant's objects to stay out of."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from integrations.models import CartConnection, Merchant, MerchantMembership, WMSConnection
from orders.models import HoldCode, Order, OrderStatus, ShippingMethodMap, SKUAlias
from sync.cycle import cart_connection_sync_orders
from tests.factories import (
    CartConnectionFactory,
    MerchantFactory,
    OrderLineFactory,
    ShippingMethodMapFactory,
    SKUAliasFactory,
)

PASSWORD = "correct-horse-battery-staple-42"


def merchant_user(merchant: Merchant, username: str = "shopkeeper") -> User:
    user = User.objects.create_user(username, f"{username}@example.com", PASSWORD)
    MerchantMembership.objects.create(user=user, merchant=merchant)
    return user


def client_of(user: User, **kwargs) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


@dataclass
class Objects:
    """One of everything a merchant owns."""

    merchant: Merchant
    cart: CartConnection
    wms: WMSConnection
    order: Order
    alias: SKUAlias
    shipping: ShippingMethodMap


def objects_of(merchant: Merchant, tag: str) -> Objects:
    """A cart and warehouse, an order held for an unknown SKU, an alias and a shipping mapping,
    each named after `tag` so a page that shows another merchant's can be caught."""
    cart = CartConnectionFactory(merchant=merchant, name=f"{tag} store")
    line = OrderLineFactory(
        order__cart_connection=cart,
        order__order_number=f"{tag}-1001",
        order__status=OrderStatus.ERROR,
        order__hold_code=HoldCode.UNKNOWN_SKU,
        order__hold_reason=f"The warehouse does not know SKU '{tag}-LINE-SKU': add an SKU alias.",
        cart_sku=f"{tag}-LINE-SKU",
        warehouse_sku=f"{tag}-LINE-SKU",
    )
    return Objects(
        merchant=cart.merchant,
        cart=cart,
        wms=cart.warehouse,
        order=line.order,
        alias=SKUAliasFactory(merchant=cart.merchant, cart_sku=f"{tag}-CART-SKU", warehouse_sku=f"{tag}-WMS-SKU"),
        shipping=ShippingMethodMapFactory(warehouse=cart.warehouse, cart_method=f"{tag} Express"),
    )


@pytest.fixture
def mine(db) -> Objects:
    return objects_of(MerchantFactory(name="Mine Ltd", slug="mine"), "MINE")


@pytest.fixture
def theirs(db) -> Objects:
    return objects_of(MerchantFactory(name="Theirs Inc", slug="theirs"), "THEIR")


@pytest.fixture
def user(mine) -> User:
    return merchant_user(mine.merchant)


@pytest.fixture
def client(user) -> Client:
    """The test client signed in as the merchant user of `mine`."""
    return client_of(user)


@pytest.fixture
def wired_client(wired) -> Client:
    """Signed in as a user of the `wired` merchant (Squarespace and Bergen sandboxes running)."""
    return client_of(merchant_user(wired.merchant, "wired-shopkeeper"))


def import_orders(wired, numbers: list[str], *, sku: str = "SKU-1", shipping: str = "Standard") -> list[Order]:
    """Put open orders at the Squarespace sandbox and run the real sync once; return them as stored."""
    for number in numbers:
        wired.squarespace.add_order(
            order_number=number,
            created_on=timezone.now() - timedelta(hours=1),
            lines=[{"sku": sku, "quantity": 1, "price": "10.00", "name": "Item"}],
            shipping_method=shipping,
        )
    cart_connection_sync_orders(connection=wired.cart)
    return [Order.objects.get(cart_connection=wired.cart, order_number=number) for number in numbers]
