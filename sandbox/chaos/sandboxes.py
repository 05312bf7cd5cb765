"""The chaos run's cart and warehouse: a Squarespace and a Bergen sandbox, in this process or their own.

``SandboxPair`` runs both sandboxes and knows the few things the harness asks of them: seed the scenario,
plant the duplicate canary, set the fault rate, let the warehouse ship what it holds, and report what each
side ended up with, duplicates counted from the warehouse sandbox's own store (not from our database).
``SandboxProcess`` runs a pair in a child process and forwards those calls over a pipe, so that the
sandboxes (and what they recorded) outlive the worker processes the harness kills. Only the standard
library and the sandboxes are imported here: the child process never loads Django.
"""

from __future__ import annotations

import contextlib
import multiprocessing.connection
from collections import Counter
from collections.abc import Hashable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox.bergen import BergenSandbox
from sandbox.chaos.cart_changes import ChangeDriver, order_sides
from sandbox.chaos.scenario import ADDRESS, WAREHOUSE_SKUS, CartChange, ChaosOrder, parcels_for
from sandbox.squarespace import SquarespaceSandbox

CALLS = ("seed", "plant_duplicate_canary", "set_fault_rate", "plan_changes", "drive_changes", "ship_all", "report")

# The canary: one order stored twice, straight into the warehouse sandbox, before the run. Its reference
# and order number are none the pipeline makes (the scenario's order numbers are digits).
CANARY_REFERENCE = "CHAOS-DUPLICATE-CANARY"
CANARY_ORDER_NUMBER = "CANARY-1"
CANARY_COPIES = 2


def beyond_first(keys: Iterable[Hashable]) -> dict[Hashable, int]:
    """Each key seen more than once, with how many times beyond the first."""
    return {key: seen - 1 for key, seen in Counter(keys).items() if seen > 1}


class SandboxPair:
    """A Squarespace cart and a Bergen warehouse on loopback, seeded with one chaos scenario.

    ``accept_duplicate_references``: the warehouse stores a second order under a reference it already
    has (as some warehouses do) instead of refusing it, so that a second send shows as a duplicate."""

    def __init__(self, *, accept_duplicate_references: bool = False) -> None:
        # No rate limit of its own: the faults (429s among them) come from the fault rate.
        self.squarespace = SquarespaceSandbox(rate_limit_per_minute=None)
        self.bergen = BergenSandbox(accept_duplicate_references=accept_duplicate_references)
        self.canary_copies = 0
        self.changes = ChangeDriver(self.squarespace, self.bergen, [])
        self.shipped = False

    def start(self) -> dict[str, Any]:
        """Start both; return what a connection needs to reach them."""
        return {
            "squarespace_url": self.squarespace.start(),
            "squarespace_api_key": self.squarespace.api_key,
            "bergen_url": self.bergen.start(),
            "bergen_username": self.bergen.username,
            "bergen_password": self.bergen.password,
            "bergen_customer": self.bergen.customer,
        }

    def stop(self) -> None:
        self.squarespace.stop()
        self.bergen.stop()

    def seed(self, *, orders: list[ChaosOrder], stock_per_sku: int) -> None:
        for sku in WAREHOUSE_SKUS:
            self.bergen.add_item(sku, on_hand=stock_per_sku)
        for order in orders:
            self.squarespace.add_order(**order.squarespace_fields())

    def plant_duplicate_canary(self) -> None:
        """Store one order ``CANARY_COPIES`` times straight into the warehouse (after ``seed``: its SKU
        must be stocked), so that the report proves its counting sees a duplicate."""
        body = {
            "customerIdentifier": {"name": self.bergen.customer},
            "facilityIdentifier": {"name": "NJ"},
            "referenceNum": CANARY_REFERENCE,
            "poNum": CANARY_ORDER_NUMBER,
            "shipTo": {
                "name": "Duplicate Canary",
                "address1": ADDRESS["address1"],
                "city": ADDRESS["city"],
                "state": ADDRESS["state"],
                "zip": ADDRESS["postalCode"],
                "country": ADDRESS["countryCode"],
            },
            "orderItems": [{"itemIdentifier": {"sku": WAREHOUSE_SKUS[0]}, "qty": 1}],
        }
        for _ in range(CANARY_COPIES):
            self.bergen.store_order(body)
        self.canary_copies += CANARY_COPIES

    def set_fault_rate(self, *, rate: float, seed: int, timeout_delay: float, retry_after: float) -> None:
        """The same rate on both sides, from two seeds derived from ``seed``."""
        for offset, server in enumerate((self.squarespace, self.bergen)):
            server.set_fault_rate(rate, seed=seed * 2 + offset, timeout_delay=timeout_delay, retry_after=retry_after)

    def plan_changes(self, *, changes: list[CartChange]) -> None:
        """The changes the cart will make during the run (``drive_changes`` makes them at their moments)."""
        self.changes = ChangeDriver(self.squarespace, self.bergen, changes)

    def drive_changes(self) -> dict[str, Any]:
        """Make the cart changes due now (``ChangeDriver.step``)."""
        return self.changes.step(shipped=self.shipped)

    def ship_all(self, *, tracking_prefix: str) -> int:
        """The warehouse ships every order it holds (the first, should a reference be there twice), the
        canary excepted: one parcel per line for orders of several lines, else one. Returns the parcels
        shipped."""
        shipped_at = datetime.now(UTC) - timedelta(seconds=5)
        parcels = 0
        for number, (reference, records) in enumerate(sorted(self.bergen.orders_by_reference().items()), 1):
            record = records[0]
            if record["readOnly"]["isClosed"] or reference == CANARY_REFERENCE:
                continue
            items = [(item["itemIdentifier"]["sku"], item["qty"]) for item in record["orderItems"]]
            routing = record.get("routingInfo") or {}
            packages = parcels_for(
                items,
                routing.get("carrier") or "UPS",
                routing.get("mode") or "Ground",
                f"{tracking_prefix}{number:05d}-",
            )
            self.bergen.ship_order(reference, packages, ship_date=shipped_at)
            parcels += len(packages)
        self.shipped = True
        return parcels

    def report(self, *, cart_connection_id: int | None = None) -> dict[str, Any]:
        """What each side holds now: tracking per cart order, orders and shipped tracking per reference,
        the duplicates on both sides (the canary's left out), and the faults injected.

        ``cart_connection_id``: the cart connection the harness wired to this warehouse's customer."""
        fulfillments = {
            order_id: [f["trackingNumber"] for f in self.squarespace.fulfillments_for(order_id)]
            for order_id in list(self.squarespace.orders)
        }
        with self.bergen.lock:
            shipped: dict[str, list[str]] = {}
            for row in self.bergen.tracking:
                shipped.setdefault(row["referenceNum"], []).append(row["trackingNumber"])
        faults = {"squarespace": dict(self.squarespace.faults_injected), "bergen": dict(self.bergen.faults_injected)}
        return {
            "cart_orders": {order_id: order["orderNumber"] for order_id, order in self.squarespace.orders.items()},
            "fulfillments": fulfillments,
            "tracking_duplicates": sum(len(numbers) - len(set(numbers)) for numbers in fulfillments.values()),
            "warehouse_references": {
                ref: len(records)
                for ref, records in self.bergen.orders_by_reference().items()
                if ref != CANARY_REFERENCE
            },
            **self.warehouse_duplicates(cart_connection_id),
            "shipped": shipped,
            "order_sides": order_sides(self.squarespace, self.bergen, set(shipped)),
            "cart_changes": dict(self.changes.made),
            "faults_injected": faults,
            "faults_by_mode": dict(sum((Counter(side) for side in faults.values()), Counter())),
            "requests": {"squarespace": len(self.squarespace.requests), "bergen": len(self.bergen.requests)},
            "handler_errors": [repr(e) for e in self.squarespace.handler_errors + self.bergen.handler_errors],
        }

    def warehouse_duplicates(self, cart_connection_id: int | None) -> dict[str, Any]:
        """The orders the warehouse stored beyond the first per reference (``warehouse_duplicates``) and per
        cart connection and cart order number (``warehouse_duplicate_orders``: an order sent again under
        another reference), counted from its store, the canary's copies left out of both.

        The warehouse sees the cart's order number as ``poNum``; every order of the chaos customer comes
        from ``cart_connection_id`` (an order of another customer would be keyed by that customer).
        ``duplicate_canary_seen``: both counts found the canary (a count that cannot see a duplicate
        proves nothing)."""
        with self.bergen.lock:
            stored = [
                (order["referenceNum"], order["readOnly"]["customerIdentifier"]["name"], order.get("poNum"))
                for order in self.bergen.orders
            ]
        carts = {self.bergen.customer: cart_connection_id}
        by_reference = beyond_first(reference for reference, _, _ in stored)
        by_order = beyond_first((carts.get(customer, f"customer {customer}"), number) for _, customer, number in stored)
        canary_extra = max(self.canary_copies - 1, 0)  # what the canary adds to each count
        canaries = ((by_reference, CANARY_REFERENCE), (by_order, (cart_connection_id, CANARY_ORDER_NUMBER)))
        canary_seen = canary_extra > 0 and all(found.get(key, 0) >= canary_extra for found, key in canaries)
        for found, key in canaries:
            found[key] = found.get(key, 0) - canary_extra
        return {
            "warehouse_duplicates": sum(extra for extra in by_reference.values() if extra > 0),
            "warehouse_duplicate_orders": sum(extra for extra in by_order.values() if extra > 0),
            "warehouse_duplicated_references": sorted(str(key) for key, extra in by_reference.items() if extra > 0),
            "warehouse_duplicated_order_numbers": sorted(
                str(number) for (_, number), extra in by_order.items() if extra > 0
            ),
            "duplicate_canary_seen": canary_seen,
        }


def serve(connection: multiprocessing.connection.Connection, accept_duplicate_references: bool = False) -> None:
    """The sandbox process: start a pair, send its addresses, then answer calls until told to stop
    (or until the harness is gone: its end of the pipe closes)."""
    pair = SandboxPair(accept_duplicate_references=accept_duplicate_references)
    connection.send(("ok", pair.start()))
    try:
        while True:
            try:
                name, kwargs = connection.recv()
            except EOFError:
                return
            if name == "stop":
                connection.send(("ok", None))
                return
            try:
                if name not in CALLS:
                    raise ValueError(f"unknown call {name!r}")
                connection.send(("ok", getattr(pair, name)(**kwargs)))
            except Exception as exc:  # answered, so the harness fails loudly instead of waiting
                connection.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        pair.stop()


class SandboxProcess:
    """A ``SandboxPair`` in a child process of ``context`` (use "spawn"); call it from one thread only."""

    def __init__(self, context: Any, *, accept_duplicate_references: bool = False) -> None:
        self._pipe, child_end = context.Pipe()
        self._child_end = child_end
        self.process = context.Process(
            target=serve, args=(child_end, accept_duplicate_references), name="chaos-sandboxes", daemon=True
        )
        self.addresses: dict[str, Any] = {}

    def start(self, timeout: float = 60) -> dict[str, Any]:
        self.process.start()
        self._child_end.close()
        self.addresses = self._answer(timeout)
        return self.addresses

    def call(self, name: str, timeout: float = 120, **kwargs: Any) -> Any:
        self._pipe.send((name, kwargs))
        return self._answer(timeout)

    def stop(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(OSError, EOFError, RuntimeError):
                self.call("stop", timeout=10)
            self.process.join(timeout=10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self._pipe.close()

    def _answer(self, timeout: float) -> Any:
        if not self._pipe.poll(timeout):
            raise RuntimeError(f"the sandbox process did not answer within {timeout:g} s")
        status, value = self._pipe.recv()
        if status != "ok":
            raise RuntimeError(f"the sandbox process failed: {value}")
        return value
