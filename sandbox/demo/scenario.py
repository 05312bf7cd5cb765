"""The demo's fixed scenario, the same for every pair of platforms.

Orders have fixed numbers and dates relative to now; what each is meant to show is in `expect`.
Every pair's data includes an order with an unknown SKU and one shipped in two parcels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# What the warehouse stocks (warehouse SKU -> units on hand).
WAREHOUSE_ITEMS = {"TSHIRT-BLACK-M": 40, "MUG-WHITE": 25, "SOCKS-3PK": 60, "CAP-NAVY": 10}
# The cart calls the T-shirt TEE-BLK-M: an SKU alias translates it.
ALIASES = {"TEE-BLK-M": "TSHIRT-BLACK-M"}
# The cart's items (cart SKU -> units the cart shows before the sync); the poster is unknown at the warehouse.
CART_ITEMS = {"TEE-BLK-M": 3, "MUG-WHITE": 3, "SOCKS-3PK": 3, "CAP-NAVY": 3, "POSTER-XL": 3}
# Shipping method kinds -> the warehouse code they map to ("exotic" stays unmapped: held).
SHIP_CODES = {"standard": "UPS:Ground", "express": "FEDEX:2Day"}

ADDRESS = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "address_1": "12 Analytical Way",
    "city": "Newark",
    "state": "NJ",
    "zip": "07102",
    "country": "US",
    "phone": "+1 555 0100",
}


@dataclass
class DemoLine:
    sku: str
    quantity: int
    price: str
    name: str


@dataclass
class DemoOrder:
    number: str
    days_ago: float
    lines: list[DemoLine]
    method: str = "standard"  # standard | express | exotic
    status: str = "open"  # open | fulfilled
    address: dict = field(default_factory=lambda: dict(ADDRESS))
    modified_days_ago: float | None = None
    expect: str = ""


TEE, MUG = DemoLine("TEE-BLK-M", 2, "19.00", "T-shirt, black, M"), DemoLine("MUG-WHITE", 1, "12.00", "Mug")
ORDERS = [
    DemoOrder("1001", 1.0, [TEE], expect="delivered through the alias, shipped in two parcels"),
    DemoOrder("1002", 0.9, [MUG], method="express", expect="delivered, shipped"),
    DemoOrder("1003", 0.8, [DemoLine("POSTER-XL", 1, "30.00", "Poster XL")], expect="held: unknown SKU"),
    DemoOrder(
        "1004",
        0.7,
        [DemoLine("SOCKS-3PK", 3, "9.00", "Socks"), DemoLine("CAP-NAVY", 1, "15.00", "Cap")],
        expect="delivered, partially shipped",
    ),
    DemoOrder(
        "1005",
        0.6,
        [DemoLine("MUG-WHITE", 2, "12.00", "Mug")],
        address={**ADDRESS, "address_1": "", "city": ""},
        expect="held: missing ship-to address",
    ),
    DemoOrder(
        "1006", 0.5, [DemoLine("CAP-NAVY", 1, "15.00", "Cap")], method="exotic", expect="held: unmapped shipping method"
    ),
    DemoOrder("1007", 45, [MUG], modified_days_ago=0.4, expect="skipped: placed before the earliest order date"),
    DemoOrder("1008", 0.3, [MUG], status="fulfilled", expect="never imported: already shipped at the cart"),
]

# What the warehouse ships after the delivery: order number -> parcels (warehouse SKUs).
SHIPPING_PLAN = {
    "1001": [
        {
            "carrier": "UPS",
            "service": "Ground",
            "tracking_number": "1Z999AA10000001001",
            "lines": [{"sku": "TSHIRT-BLACK-M", "quantity": 1}],
        },
        {
            "carrier": "UPS",
            "service": "Ground",
            "tracking_number": "1Z999AA10000001002",
            "lines": [{"sku": "TSHIRT-BLACK-M", "quantity": 1}],
        },
    ],
    "1002": [
        {
            "carrier": "FDX",
            "service": "2Day",
            "tracking_number": "771000001002",
            "lines": [{"sku": "MUG-WHITE", "quantity": 1}],
        },
    ],
    "1004": [  # only some of its lines: the cap is still to come
        {
            "carrier": "USPS",
            "service": "Priority",
            "tracking_number": "9400100000000000001004",
            "lines": [{"sku": "SOCKS-3PK", "quantity": 3}],
        },
    ],
}
