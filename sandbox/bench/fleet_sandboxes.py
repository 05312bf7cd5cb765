"""The fleet benchmark's sandboxes, in a process of their own: M Squarespace sites and M Bergen accounts,
one shopper placing orders, and the counts the figures are taken from.

Started by ``FleetSandboxProcess(spec)``: the child builds one ``SquarespaceAccounts`` and one
``BergenAccounts`` server (``sandbox.bench.accounts``) with an account per merchant, each Squarespace
site at its documented limit, every answer ``latency_ms`` late; sends the base URLs back; then answers
commands over a pipe. ``place`` starts the shopper: ``orders_per_minute`` orders, evenly spaced, for
``minutes``, merchant after merchant in turn; each order's number is unique across the fleet and is the
reference our warehouse connection gives it (digits only, short), so the warehouse's store says when
each placed order arrived. Everything counted here is counted by the sandboxes, not by our database.

With webhooks, ``grant`` issues each site's OAuth tokens (what the merchant's grant gives), the sites
accept the web process's loopback http address for their subscriptions, and one sender thread (the
platform's delivery workers) posts each site's outbox: the notifications its own subscriptions signed,
retried every second while the endpoint answers anything but a 2xx, up to the site's attempts.
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

SKU = "FLEET-SKU-1"
SHIPPING_METHOD = "Standard"
FIRST_ORDER_NUMBER = 1_000_000


@dataclass(frozen=True)
class FleetSpec:
    merchants: int
    latency_ms: int
    webhooks: bool = False
    squarespace_limit_per_minute: int = 300  # developers.squarespace.com: 300 requests a minute per key


def api_key(index: int) -> str:
    return f"fleet-key-{index:05d}"


def bergen_login(index: int) -> tuple[str, str]:
    return f"fleet-user-{index:05d}", f"fleet-pass-{index:05d}"


def bergen_customer(index: int) -> str:
    """Each merchant is its own customer at the warehouse system, as merchants of a 3PL are: one
    customer for all would make them one account to us (one rate budget, one reference space)."""
    return f"FLEET-{index:05d}"


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
            store = self.warehouses.add_account(username, password, customer=bergen_customer(i))
            store.add_item(SKU, on_hand=1_000_000, facility="NJ")
            self.stores.append(store)
        for server in (self.carts, self.warehouses):
            server.latency_seconds = spec.latency_ms / 1000
        for site in self.sites:
            site.http_endpoints_allowed = spec.webhooks
        self.sender = NotificationSender(self.sites)
        # (merchant index, order number, wall-clock time placed), appended by the shopper only.
        self.placed: list[tuple[int, str, float]] = []
        self.placing_done = threading.Event()
        self.placing_done.set()

    def start(self) -> dict[str, str]:
        urls = {"squarespace": self.carts.start(), "bergen": self.warehouses.start()}
        if self.spec.webhooks:
            self.sender.start()
        return urls

    def grant(self) -> list[dict[str, Any]]:
        """Each site's token answer for an offline grant, in merchant order."""
        return [self.carts.grant(api_key(i)) for i in range(self.spec.merchants)]

    def subscriptions(self) -> int:
        return sum(len(site.subscriptions) for site in self.sites)

    def stop(self) -> None:
        self.sender.stop()
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
            self.sender.pending(merchant)
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
            **self.sender.figures(),
        }


class NotificationSender:
    """The sites' delivery workers: one thread posting each site's waiting notifications (its own
    ``outbox``, signed with its own subscriptions' secrets); a site whose endpoint did not answer 2xx
    is tried again a second later."""

    RETRY_SECONDS = 1.0

    def __init__(self, sites: list[Any]) -> None:
        self.sites = sites
        self._due: dict[int, float] = {}  # site index -> when to send its outbox next (monotonic)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="fleet-notifier", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopped.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def pending(self, index: int) -> None:
        with self._lock:
            self._due.setdefault(index, 0.0)
        self._wake.set()

    def _run(self) -> None:
        while not self._stopped.is_set():
            self._wake.wait(0.5)
            self._wake.clear()
            now = time.monotonic()
            with self._lock:
                due = [index for index, when in self._due.items() if when <= now]
            for index in due:
                site = self.sites[index]
                site.notifications_deliver()
                with site.lock:
                    waiting = any(not o.delivered and o.attempts < site.max_attempts for o in site.outbox)
                with self._lock:
                    if waiting:
                        self._due[index] = time.monotonic() + self.RETRY_SECONDS
                    else:
                        self._due.pop(index, None)

    def figures(self) -> dict[str, int]:
        """What the sites sent: notifications accepted (2xx), failed attempts, and given up."""
        outbox = [o for site in self.sites for o in site.outbox]
        return {
            "notifications_sent": len(outbox),
            "notifications_accepted": sum(o.delivered for o in outbox),
            "notification_attempts_failed": sum(1 for o in outbox for status in o.statuses if not 200 <= status < 300),
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
            elif command == "grant":
                channel.send(fleet.grant())
            elif command == "subscriptions":
                channel.send(fleet.subscriptions())
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

    def grant(self) -> list[dict[str, Any]]:
        return self.ask(("grant",))

    def subscriptions(self) -> int:
        return self.ask(("subscriptions",))
