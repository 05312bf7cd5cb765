"""The Squarespace and Bergen sandboxes tuned for volume: what the benchmark serves its N orders and M SKUs from.

The platform sandboxes build what a request needs from their whole store on every request (the orders
sorted for a listing, the inventory's positions, Bergen's stock summaries, a scan of every order for a
duplicate reference), which at 5,000 orders and 20,000 SKUs would make the emulator, not our sync, the
thing measured. These subclasses keep those between requests through the hooks the sandboxes call
(``_orders_listing``, ``_inventory_listing``, ``_stock_selected``, ``_level``, ``_reference_taken``) and
drop them when the store changes (``_orders_changed``, ``_inventory_changed``, ``_stock_changed``). The
handlers are the sandboxes' own, so every answer is the same. They add what the benchmark needs:

- every request gets a number from one counter shared by both sandboxes, so the sync's requests can be
  replayed in the order they were made;
- Squarespace's cursors are signed with a fixed secret, so a cursor recorded against one copy of the
  sandbox is valid against a freshly seeded copy.

No rate limits: the benchmark measures our cost, not the platforms' limits. Keep-alive and Nagle off come
from the sandbox server itself.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from sandbox import bergen_data
from sandbox.bergen import BergenSandbox
from sandbox.server import RecordedRequest
from sandbox.squarespace import SquarespaceSandbox

OrdersListing = tuple[list[tuple[str, str]], list[datetime | None], list[dict[str, Any]]]


class _Numbered:
    """Mixed into both bench sandboxes: requests numbered across sandboxes, taken as plain data."""

    name = ""
    _sequence: Iterator[int]

    def _record_and_take_fault(self, request: RecordedRequest) -> Any:
        request.seq = next(self._sequence)  # type: ignore[attr-defined]
        return super()._record_and_take_fault(request)  # type: ignore[misc]

    def take_requests(self) -> list[dict[str, Any]]:
        """The requests received since the last call, as plain data (they cross a process boundary)."""
        with self.lock:  # type: ignore[attr-defined]
            taken = [
                {
                    "seq": r.seq,
                    "sandbox": self.name,
                    "method": r.method,
                    "path": r.path,
                    "query": r.query,
                    "headers": r.headers,
                    "body": r.body,
                }
                for r in self.requests  # type: ignore[attr-defined]
            ]
            self.requests.clear()  # type: ignore[attr-defined]
        return taken


class BenchSquarespace(_Numbered, SquarespaceSandbox):
    """Squarespace without rate limit, its order and inventory listings kept until they change."""

    name = "squarespace"

    def __init__(self, *, sequence: Iterator[int], cursor_secret: bytes = b"orderbridge-bench") -> None:
        super().__init__(rate_limit_per_minute=None, cursor_secret=cursor_secret)
        self._sequence = sequence
        self._orders_kept: OrdersListing | None = None
        self._inventory_kept: tuple[list[str], dict[str, int]] | None = None

    def _orders_listing(self) -> OrdersListing:
        if self._orders_kept is None:
            self._orders_kept = super()._orders_listing()
        return self._orders_kept

    def _orders_changed(self) -> None:
        self._orders_kept = None

    def _inventory_listing(self) -> tuple[list[str], dict[str, int]]:
        if self._inventory_kept is None:
            self._inventory_kept = super()._inventory_listing()
        return self._inventory_kept

    def _inventory_changed(self) -> None:
        self._inventory_kept = None


class BenchBergen(_Numbered, BergenSandbox):
    """Bergen with its stock lines and order references indexed, and stock summaries kept until stock changes."""

    name = "bergen"

    def __init__(self, *, sequence: Iterator[int]) -> None:
        super().__init__()
        self._sequence = sequence
        self._levels: dict[tuple[int, int, str], bergen_data.StockLevel] = {}
        self._references: set[tuple[int, str]] = set()
        self._referenced = 0  # how many of the stored orders are in ``_references``
        self._summaries: dict[tuple[Any, ...], list[dict[str, Any]]] = {}

    def _stock_put(self, level: bergen_data.StockLevel) -> None:
        key = (level.customer_id, level.facility_id, level.sku)
        if key in self._levels:  # restocking a line: the sandbox's own scan, then the index follows
            super()._stock_put(level)
        else:
            self.stock.append(level)
        self._levels[key] = level

    def _level(self, customer_id: int, facility_id: int, sku: str) -> bergen_data.StockLevel | None:
        return self._levels.get((customer_id, facility_id, sku))

    def _reference_taken(self, customer_id: int, reference: str) -> bool:
        """From an index brought up to date with the orders stored since the last call (the store only grows)."""
        for order in self.orders[self._referenced :]:
            self._references.add((order["readOnly"]["customerIdentifier"]["id"], order["referenceNum"]))
        self._referenced = len(self.orders)
        return (customer_id, reference) in self._references

    def _stock_changed(self) -> None:
        self._summaries = {}

    def _stock_selected(
        self, narrowed: dict[str, int], rql: str | None, predicate: Callable[[dict], bool]
    ) -> list[dict[str, Any]]:
        key = (tuple(sorted(narrowed.items())), rql)
        if key not in self._summaries:
            self._summaries[key] = super()._stock_selected(narrowed, rql, predicate)
        return self._summaries[key]
