"""The chaos run's orders, drawn from a seed: what the cart holds, what the warehouse stocks, how it ships.

Plain data and the standard library only: the sandbox process imports this without Django.
About one order in ten is deliberately invalid, half with an SKU the warehouse does not know and half
without a street and city; those must end held, every other one delivered once.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

# What the warehouse stocks; plenty, so that allocation never gets in the way.
WAREHOUSE_SKUS = ("CHAOS-TEE", "CHAOS-MUG", "CHAOS-CAP", "CHAOS-SOCKS")
UNKNOWN_SKU = "CHAOS-NOT-STOCKED"
# Cart shipping method -> warehouse ship code (both mapped, so no order is held for its method).
SHIP_CODES = {"Standard": "UPS:Ground", "Express": "FEDEX:2Day"}
INVALID_SHARE = 0.1
UNKNOWN_SKU_KIND, MISSING_ADDRESS_KIND = "unknown_sku", "missing_address"

ADDRESS = {
    "firstName": "Grace",
    "lastName": "Hopper",
    "address1": "1 Compiler Lane",
    "city": "Arlington",
    "state": "VA",
    "countryCode": "US",
    "postalCode": "22201",
    "phone": "+1 555 0199",
}


@dataclass
class ChaosOrder:
    """One order at the cart; ``invalid`` names why it must end held ("" for a valid order)."""

    number: str
    placed_at: datetime
    lines: list[dict]
    method: str = "Standard"
    invalid: str = ""
    address: dict = field(default_factory=lambda: dict(ADDRESS))

    def squarespace_fields(self) -> dict:
        """Keyword arguments of ``SquarespaceSandbox.add_order``."""
        return {
            "order_number": self.number,
            "created_on": self.placed_at,
            "modified_on": self.placed_at,
            "lines": self.lines,
            "shipping_method": self.method,
            "shipping_address": self.address,
            "customer_email": f"buyer{self.number}@chaos.example",
        }


def chaos_orders(count: int, *, seed: int, now: datetime | None = None) -> list[ChaosOrder]:
    """``count`` open orders placed over the last hour, a tenth of them (rounded) invalid."""
    rng = random.Random(f"orders:{seed}")
    now = now or datetime.now(UTC)
    invalid = set(rng.sample(range(count), round(count * INVALID_SHARE)))
    kinds = itertools.cycle((UNKNOWN_SKU_KIND, MISSING_ADDRESS_KIND))
    orders = []
    for index in range(count):
        skus = rng.sample(WAREHOUSE_SKUS, rng.choice((1, 1, 2, 3)))
        lines = [
            {"sku": sku, "quantity": rng.randint(1, 3), "price": f"{rng.randint(5, 40)}.00", "name": sku.title()}
            for sku in skus
        ]
        order = ChaosOrder(
            number=str(50001 + index),
            placed_at=now - timedelta(hours=1) + timedelta(seconds=index * 3600 / max(count, 1)),
            lines=lines,
            method=rng.choice(tuple(SHIP_CODES)),
        )
        if index in invalid:
            order.invalid = next(kinds)
            if order.invalid == UNKNOWN_SKU_KIND:
                order.lines[-1] = {**order.lines[-1], "sku": UNKNOWN_SKU, "name": "Not stocked"}
            else:
                order.address = {**order.address, "address1": None, "city": None}
        orders.append(order)
    return orders


def parcels_for(items: list[tuple[str, float]], carrier: str, service: str, tracking_prefix: str) -> list[dict]:
    """How the warehouse ships one order: one parcel, or one per line for an order of several lines
    (so that partial shipments and several fulfillments per cart order are exercised)."""
    groups = [items] if len(items) < 2 else [[item] for item in items]
    return [
        {
            "carrier": carrier,
            "service": service,
            "tracking_number": f"{tracking_prefix}{number}",
            "lines": [{"sku": sku, "qty": qty} for sku, qty in group],
        }
        for number, group in enumerate(groups, 1)
    ]


# When the cart changes an order: before it is delivered (as soon as the run starts, a random moment
# later), once the warehouse holds it, once the warehouse has started picking it, or after it shipped.
BEFORE_DELIVERY, AT_WAREHOUSE, PICKING, SHIPPED = "before_delivery", "at_warehouse", "picking", "shipped"
MOMENTS = (BEFORE_DELIVERY, AT_WAREHOUSE, PICKING, SHIPPED)
CANCEL, EDIT = "cancel", "edit"
EDITS = ("address", "quantity", "method")


@dataclass
class CartChange:
    """One change the cart makes to one valid order: ``kind`` cancel or edit (``edit`` says what),
    at ``moment``, ``delay`` seconds after that moment comes."""

    number: str
    kind: str
    moment: str
    edit: str = ""
    delay: float = 0.0


def chaos_changes(orders: list[ChaosOrder], *, cancel_rate: float, edit_rate: float, seed: int) -> list[CartChange]:
    """Each valid order is canceled with probability ``cancel_rate``, else edited with ``edit_rate``
    (at most one change per order), at a moment drawn from ``MOMENTS``."""
    rng = random.Random(f"changes:{seed}")
    changes = []
    for order in orders:
        if order.invalid:
            continue
        draw = rng.random()
        if draw < cancel_rate:
            kind, edit = CANCEL, ""
        elif draw < cancel_rate + edit_rate:
            kind, edit = EDIT, rng.choice(EDITS)
        else:
            continue
        changes.append(CartChange(order.number, kind, rng.choice(MOMENTS), edit, round(rng.uniform(0, 2.0), 2)))
    return changes
