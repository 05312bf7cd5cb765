"""The fleet benchmark's sandboxes, in a process of their own: M Squarespace sites and M Bergen accounts,
one shopper placing orders, and the counts the figures are taken from.

Started by ``FleetSandboxProcess(spec)``: the child builds one ``SquarespaceAccounts`` and one
``BergenAccounts`` server (``sandbox.bench.accounts``) with an account per merchant, each Squarespace
site at its documented limit, every answer ``latency_ms`` late; sends the base URLs back; then answers
commands over a pipe. ``place`` starts the shopper: ``orders_per_minute`` orders, evenly spaced, for
``minutes``, merchant after merchant in turn; each order's number is unique across the fleet and is the
reference our warehouse connection gives it (digits only, short), so the warehouse's store says when
each placed order arrived. Everything counted here is counted by the sandboxes, not by our database.
"""

from __future__ import annotations

import gc
import statistics
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from typing import Any

from sandbox.bench.accounts import BergenAccounts, SquarespaceAccounts
from sandbox.bench.process import SandboxProcess, cpu_seconds

CUSTOMER = "FLEET"
SKU = "FLEET-SKU-1"
SHIPPING_METHOD = "Standard"
FIRST_ORDER_NUMBER = 1_000_000


@dataclass(frozen=True)
class FleetSpec:
    merchants: int
    latency_ms: int
    squarespace_limit_per_minute: int = 300  # developers.squarespace.com: 300 requests a minute per key


def api_key(index: int) -> str:
    return f"fleet-key-{index:05d}"


def bergen_login(index: int) -> tuple[str, str]:
    return f"fleet-user-{index:05d}", f"fleet-pass-{index:05d}"


class Fleet:
    """The two servers, the accounts and the shopper."""

    def __init__(self, spec: FleetSpec) -> None:
        self.spec = spec
        self.carts, self.warehouses = SquarespaceAccounts(), BergenAccounts()
        self.sites = [
            self.carts.add_account(api_key(i), rate_limit_per_minute=spec.squarespace_limit_per_minute)
            for i in range(spec.merchants)
        ]
        self.stores = []
        for i in range(spec.merchants):
            username, password = bergen_login(i)
            store = self.warehouses.add_account(username, password, customer=CUSTOMER)
            store.add_item(SKU, on_hand=1_000_000, facility="NJ")
            self.stores.append(store)
        for server in (self.carts, self.warehouses):
            server.latency_seconds = spec.latency_ms / 1000
        # (merchant index, order number, wall-clock time placed), appended by the shopper only.
        self.placed: list[tuple[int, str, float]] = []
        self.placing_done = threading.Event()
        self.placing_done.set()

    def start(self) -> dict[str, str]:
        return {"squarespace": self.carts.start(), "bergen": self.warehouses.start()}

    def stop(self) -> None:
        self.placing_done.set()
        self.carts.stop()
        self.warehouses.stop()

    def place(self, orders_per_minute: int, minutes: float) -> None:
        self.placing_done.clear()
        threading.Thread(target=self._shop, args=(orders_per_minute, minutes), name="shopper", daemon=True).start()

    def _shop(self, orders_per_minute: int, minutes: float) -> None:
        start, spacing = time.monotonic(), 60 / orders_per_minute
        for k in range(round(orders_per_minute * minutes)):
            delay = start + k * spacing - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            merchant, number = k % self.spec.merchants, str(FIRST_ORDER_NUMBER + k)
            self.sites[merchant].add_order(
                order_number=number,
                created_on=datetime.now(UTC),
                lines=[{"sku": SKU, "quantity": 1, "price": "10.00", "name": "Fleet item"}],
                shipping_method=SHIPPING_METHOD,
                customer_email=f"buyer{k}@example.com",
            )
            self.placed.append((merchant, number, time.time()))
        self.placing_done.set()

    def arrived(self) -> int:
        return sum(1 for merchant, number, _ in list(self.placed) if number in self.stores[merchant].arrivals)

    def status(self) -> dict[str, Any]:
        return {"placed": len(self.placed), "arrived": self.arrived(), "placing": not self.placing_done.is_set()}

    def figures(self) -> dict[str, Any]:
        """What the sandboxes saw: placed -> stored at the warehouse latencies, losses, duplicates, 429s."""
        latencies, lost = [], 0
        for merchant, number, placed_at in self.placed:
            arrived_at = self.stores[merchant].arrivals.get(number)
            if arrived_at is None:
                lost += 1
            else:
                latencies.append(arrived_at - placed_at)
        stored = sum(len(store.orders) for store in self.stores)
        return {
            "orders_placed": len(self.placed),
            "orders_at_warehouse": len(latencies),
            "latency_p50_s": percentile(latencies, 50),
            "latency_p99_s": percentile(latencies, 99),
            "latency_max_s": round(max(latencies), 2) if latencies else None,
            "rate_limit_violations": self.carts.throttled + self.warehouses.throttled,
            "lost": lost,
            "warehouse_duplicates": sum(store.duplicate_count() for store in self.stores)
            + max(
                0, stored - len({(s, o["referenceNum"]) for s, store in enumerate(self.stores) for o in store.orders})
            ),
            "warehouse_orders_not_placed": stored - len(latencies),
            "sandbox_requests": self.carts.requests_served + self.warehouses.requests_served,
            "sandbox_handler_errors": len(self.carts.handler_errors) + len(self.warehouses.handler_errors),
        }


def percentile(values: list[float], percent: int) -> float | None:
    """The ``percent`` percentile of ``values``, rounded to 10 ms; None when there are none."""
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[percent - 1], 2)


def serve(channel: Connection, spec: FleetSpec) -> None:
    """The child's main: build, start, answer until "stop"."""
    fleet = Fleet(spec)
    gc.freeze()  # the accounts live as long as the process: keep the collector off them
    channel.send(fleet.start())
    try:
        while True:
            message = channel.recv()
            command, *args = (message,) if isinstance(message, str) else message
            if command == "stop":
                break
            if command == "place":
                fleet.place(*args)
                channel.send("placing")
            elif command == "status":
                channel.send(fleet.status())
            elif command == "figures":
                channel.send(fleet.figures())
            elif command == "cpu":
                channel.send(cpu_seconds())
            else:
                channel.send(ValueError(f"unknown command {command!r}"))
    finally:
        fleet.stop()
        channel.send("stopped")


class FleetSandboxProcess(SandboxProcess):
    """The fleet's sandboxes in a child process; use as a context manager."""

    target = staticmethod(serve)

    def place(self, orders_per_minute: int, minutes: float) -> None:
        self.ask(("place", orders_per_minute, minutes))

    def status(self) -> dict[str, Any]:
        return self.ask(("status",))

    def figures(self) -> dict[str, Any]:
        return self.ask(("figures",))
