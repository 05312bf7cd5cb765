"""The demo: a merchant wired to the Squarespace and Bergen sandboxes, with a fixed set of orders.

The orders' ids are fixed and their dates relative to now, so that running the demo again on the
same database finds the same orders and imports and delivers nothing new.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from integrations.models import CartConnection, Merchant, ShippingMethodMap, WMSConnection
from inventory.models import SKUAlias
from sandbox.bergen import BergenSandbox
from sandbox.squarespace import SquarespaceSandbox

MERCHANT_SLUG = "demo"
EARLIEST_ORDER_DAYS = 30
WAREHOUSE_ITEMS = {"TSHIRT-BLACK-M": 40, "MUG-WHITE": 25, "SOCKS-3PK": 60, "CAP-NAVY": 10}
ALIASES = {"TEE-BLK-M": "TSHIRT-BLACK-M"}
SHIPPING = {"Standard": "UPS:Ground", "Express": "FEDEX:2Day"}
ADDRESS = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "address1": "12 Analytical Way",
    "city": "Newark",
    "state": "NJ",
    "countryCode": "US",
    "postalCode": "07102",
    "phone": "+1 555 0100",
}


@dataclass
class DemoOrder:
    id: str
    number: str
    days_ago: float
    lines: list[dict]
    shipping: str = "Standard"
    status: str = "PENDING"
    address: dict | None = None
    modified_days_ago: float | None = None
    expect: str = ""


DEMO_ORDERS = [
    DemoOrder(
        "6560f0a1c0ffee0000001001",
        "1001",
        2,
        [{"sku": "TEE-BLK-M", "quantity": 2, "price": "19.00", "name": "T-shirt, black, M"}],
        expect="delivered (SKU alias TEE-BLK-M → TSHIRT-BLACK-M)",
    ),
    DemoOrder(
        "6560f0a1c0ffee0000001002",
        "1002",
        1.5,
        [{"sku": "MUG-WHITE", "quantity": 1, "price": "12.00", "name": "Mug"}],
        shipping="Express",
        expect="delivered",
    ),
    DemoOrder(
        "6560f0a1c0ffee0000001003",
        "1003",
        1,
        [{"sku": "POSTER-XL", "quantity": 1, "price": "30.00", "name": "Poster XL"}],
        expect="held: unknown SKU POSTER-XL",
    ),
    DemoOrder(
        "6560f0a1c0ffee0000001004",
        "1004",
        0.5,
        [
            {"sku": "SOCKS-3PK", "quantity": 3, "price": "9.00", "name": "Socks"},
            {"sku": "CAP-NAVY", "quantity": 1, "price": "15.00", "name": "Cap"},
        ],
        expect="delivered",
    ),
    DemoOrder(
        "6560f0a1c0ffee0000001005",
        "1005",
        0.25,
        [{"sku": "MUG-WHITE", "quantity": 2, "price": "12.00", "name": "Mug"}],
        address={**ADDRESS, "address1": None, "city": None},
        expect="held: missing ship-to address",
    ),
    DemoOrder(
        "6560f0a1c0ffee0000001006",
        "1006",
        0.2,
        [{"sku": "CAP-NAVY", "quantity": 1, "price": "15.00", "name": "Cap"}],
        shipping="Overnight Rocket",
        expect="held: unmapped shipping method",
    ),
    DemoOrder(
        "6560f0a1c0ffee0000001007",
        "1007",
        45,
        [{"sku": "MUG-WHITE", "quantity": 1, "price": "12.00", "name": "Mug"}],
        modified_days_ago=1,
        expect="skipped: placed before the earliest order date",
    ),
    DemoOrder(
        "6560f0a1c0ffee0000001008",
        "1008",
        3,
        [{"sku": "MUG-WHITE", "quantity": 1, "price": "12.00", "name": "Mug"}],
        status="FULFILLED",
        expect="never imported: already shipped at the cart",
    ),
]


# Items at the cart (variant id, SKU, quantity shown before the sync): the cart's T-shirt is the
# warehouse's TSHIRT-BLACK-M through the alias; the poster is unknown at the warehouse.
CART_ITEMS = [
    ("6d1f0c2e-0000-4000-8000-000000000001", "TEE-BLK-M", 3),
    ("6d1f0c2e-0000-4000-8000-000000000002", "MUG-WHITE", 3),
    ("6d1f0c2e-0000-4000-8000-000000000003", "SOCKS-3PK", 3),
    ("6d1f0c2e-0000-4000-8000-000000000004", "CAP-NAVY", 3),
    ("6d1f0c2e-0000-4000-8000-000000000005", "POSTER-XL", 3),
]
# What the warehouse ships after the delivery: order number -> parcels.
SHIPPING_PLAN = {
    "1001": [  # two parcels
        {
            "carrier": "UPS",
            "service": "Ground",
            "tracking_number": "1Z999AA10000001001",
            "lines": [{"sku": "TSHIRT-BLACK-M", "qty": 1}],
        },
        {
            "carrier": "UPS",
            "service": "Ground",
            "tracking_number": "1Z999AA10000001002",
            "lines": [{"sku": "TSHIRT-BLACK-M", "qty": 1}],
        },
    ],
    "1002": [
        {
            "carrier": "FDX",
            "service": "2Day",
            "tracking_number": "771000001002",
            "lines": [{"sku": "MUG-WHITE", "qty": 1}],
        },
    ],
    "1004": [  # only some of its lines: the cap is still to come
        {
            "carrier": "USPS",
            "service": "Priority",
            "tracking_number": "9400100000000000001004",
            "lines": [{"sku": "SOCKS-3PK", "qty": 3}],
        },
    ],
}


def seed_sandboxes(squarespace: SquarespaceSandbox, bergen: BergenSandbox) -> None:
    now = timezone.now()
    for sku, on_hand in WAREHOUSE_ITEMS.items():
        bergen.add_item(sku, on_hand=on_hand)
    for variant_id, sku, quantity in CART_ITEMS:
        squarespace.add_inventory(variant_id, sku, quantity, descriptor=sku)
    for spec in DEMO_ORDERS:
        placed = now - timedelta(days=spec.days_ago)
        squarespace.add_order(
            order_number=spec.number,
            created_on=placed,
            modified_on=(
                now - timedelta(days=spec.modified_days_ago)
                if spec.modified_days_ago is not None
                else placed + timedelta(minutes=5)
            ),
            fulfillment_status=spec.status,
            lines=spec.lines,
            shipping_method=spec.shipping,
            shipping_address=spec.address or ADDRESS,
            id=spec.id,
        )


@transaction.atomic
def wire_demo_merchant(
    *, squarespace_url: str, squarespace: SquarespaceSandbox, bergen_url: str, bergen: BergenSandbox
) -> tuple[Merchant, CartConnection, WMSConnection]:
    """Create the demo merchant once; point its connections at this run's sandbox ports."""
    merchant, _ = Merchant.objects.get_or_create(
        slug=MERCHANT_SLUG, defaults={"name": "Demo Merchant", "contact_email": "ops@demo.example"}
    )
    wms = WMSConnection.objects.filter(merchant=merchant, platform="bergen").first() or WMSConnection(
        merchant=merchant, platform="bergen", name="Demo warehouse (sandbox)"
    )
    wms.api_base_url = bergen_url
    wms.set_credentials({"username": bergen.username, "password": bergen.password})
    wms.settings = {"account_web_address": bergen_url, "customer_name": bergen.customer, "facility": "NJ"}
    wms.save()
    for method, code in SHIPPING.items():
        ShippingMethodMap.objects.get_or_create(warehouse=wms, cart_method=method, defaults={"ship_code": code})
    for cart_sku, warehouse_sku in ALIASES.items():
        SKUAlias.objects.get_or_create(merchant=merchant, cart_sku=cart_sku, defaults={"warehouse_sku": warehouse_sku})
    cart = CartConnection.objects.filter(merchant=merchant, platform="squarespace").first() or CartConnection(
        merchant=merchant,
        platform="squarespace",
        name="Demo store (sandbox)",
        earliest_order_date=(timezone.now() - timedelta(days=EARLIEST_ORDER_DAYS)).date(),
    )
    cart.api_base_url = squarespace_url
    cart.warehouse = wms
    cart.set_credentials({"api_key": squarespace.api_key})
    cart.save()
    return merchant, cart, wms


def ship_delivered_orders(bergen: BergenSandbox) -> int:
    """The warehouse ships what the plan says, for the orders it holds; returns parcels shipped."""
    held = bergen.orders_by_reference()
    shipped_at = timezone.now() - timedelta(minutes=5)
    parcels = 0
    for reference, packages in SHIPPING_PLAN.items():
        if reference in held:
            bergen.ship_order(reference, packages, ship_date=shipped_at)
            parcels += len(packages)
    return parcels
