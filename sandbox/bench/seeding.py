"""The benchmark's scenario, the same byte for byte in every copy of the sandboxes seeded from one ``BenchSpec``.

N open, valid orders at Squarespace (one to three lines of SKUs the warehouse stocks, the "Standard"
shipping method, a complete US address), M SKUs at Bergen (stock summaries at facility NJ) and the same
M items in Squarespace's inventory. Ids, timestamps and variant ids derive from the spec only: the floor
replays the sync's recorded requests (cursors, variant ids, references) against a second copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sandbox.bench.sandboxes import BenchBergen, BenchSquarespace

SHIPPING_METHOD = "Standard"
SHIP_CODE = "UPS:Ground"


@dataclass(frozen=True)
class BenchSpec:
    orders: int
    skus: int
    # When the first order was placed (UTC, ISO 8601); order i is placed i seconds later.
    placed_from: str

    @property
    def first_placed(self) -> datetime:
        return datetime.fromisoformat(self.placed_from)


def sku(index: int) -> str:
    return f"BENCH-{index:06d}"


def variant_id(index: int) -> str:
    return f"00000000-0000-4000-8000-{index:012d}"


def order_id(index: int) -> str:
    """24 hex digits, like Squarespace's ids."""
    return f"be{index:022x}"


def order_lines(index: int, skus: int) -> list[dict]:
    """One to three lines of distinct SKUs, spread over the catalogue."""
    first = (index * 7) % skus
    count = min(1 + index % 3, skus)
    return [
        {
            "sku": sku((first + j) % skus),
            "variant_id": variant_id((first + j) % skus),
            "quantity": 1 + (index + j) % 3,
            "price": "12.50",
            "name": f"Bench item {(first + j) % skus}",
        }
        for j in range(count)
    ]


def seed(spec: BenchSpec, cart: BenchSquarespace, warehouse: BenchBergen) -> None:
    placed = spec.first_placed
    # Orders before the cart's inventory: a line's variant id is given, so nothing is looked up per order.
    for index in range(spec.orders):
        at = placed + timedelta(seconds=index)
        cart.add_order(
            order_number=str(100000 + index),
            created_on=at,
            modified_on=at + timedelta(milliseconds=500),
            lines=order_lines(index, spec.skus),
            shipping_method=SHIPPING_METHOD,
            customer_email=f"buyer{index}@example.com",
            id=order_id(index),
        )
    for index in range(spec.skus):
        cart.add_inventory(variant_id(index), sku(index), 0, descriptor=f"Bench item {index}")
        warehouse.add_item(sku(index), on_hand=1000 + index % 500, facility="NJ")


def placed_from(now: datetime) -> str:
    """Two days ago, to the second: inside the first import's window, well behind its lag."""
    return (now - timedelta(days=2)).replace(microsecond=0).isoformat()


def earliest_order_date(spec: BenchSpec):
    return (spec.first_placed - timedelta(days=1)).date()
