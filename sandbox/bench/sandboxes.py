"""The Squarespace and Bergen sandboxes tuned for volume: what the benchmark serves its N orders and M SKUs from.

The platform sandboxes are written for correctness at test sizes: several of their handlers scan every
order or every stock line per request (Bergen's duplicate check and allocation, Squarespace's listings),
which at 5,000 orders and 20,000 SKUs would make the emulator, not our sync, the thing measured. These
subclasses answer the same requests with the same bodies from indexes instead, and add what the
benchmark needs:

- every accepted socket has ``TCP_NODELAY`` (keep-alive stays on: HTTP/1.1 with ``Content-Length``);
- every request gets a number from one counter shared by both sandboxes, so the sync's requests can be
  replayed in the order they were made;
- Squarespace's cursors are signed with a fixed secret, so a cursor recorded against one copy of the
  sandbox is valid against a freshly seeded copy.

No rate limits: the benchmark measures our cost, not the platforms' limits.
"""

from __future__ import annotations

import bisect
import copy
import socket
from collections.abc import Iterator
from typing import Any

from sandbox import bergen_data, squarespace_data
from sandbox.bergen import BergenSandbox
from sandbox.rql import RqlError, compile_rql
from sandbox.server import RecordedRequest, Response, json_response
from sandbox.squarespace import SquarespaceSandbox

ORDERS_PATH = "/1.0/commerce/orders"
INVENTORY_PATH = "/1.0/commerce/inventory"
STOCK_PATH = "/inventory/stocksummaries"
HAL = "application/hal+json; charset=utf-8"


class _NoDelayHandler:
    """Mixed into the sandbox's request handler: Nagle off on the accepted socket, keep-alive on."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()  # type: ignore[misc]
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # type: ignore[attr-defined]


class _BenchServing:
    """What both bench sandboxes add to ``SandboxServer``: Nagle off, requests numbered across sandboxes."""

    name = ""
    _sequence: Iterator[int]

    def start(self) -> str:
        url = super().start()  # type: ignore[misc]
        httpd = self._httpd  # type: ignore[attr-defined]
        # Swapped before the port is handed to anyone: no connection is accepted with the old handler.
        if not issubclass(httpd.RequestHandlerClass, _NoDelayHandler):
            httpd.RequestHandlerClass = type("NoDelayHandler", (_NoDelayHandler, httpd.RequestHandlerClass), {})
        return url

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


class _FixedCursorCodec(squarespace_data.CursorCodec):
    def __init__(self, secret: bytes) -> None:
        self._secret = secret


class BenchSquarespace(_BenchServing, SquarespaceSandbox):
    """Squarespace without rate limit, order and inventory listings served from sorted indexes."""

    name = "squarespace"

    def __init__(self, *, sequence: Iterator[int], cursor_secret: bytes = b"orderbridge-bench") -> None:
        super().__init__(rate_limit_per_minute=None)
        self._sequence = sequence
        self._cursors = _FixedCursorCodec(cursor_secret)
        self._order_index: tuple[list[tuple[str, str]], list[Any], list[dict[str, Any]]] | None = None
        self._inventory_index: tuple[list[str], dict[str, int]] | None = None

    # Every change that can move an order in the listing drops the index.
    def add_order(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        with self.lock:
            self._order_index = None
            return super().add_order(*args, **kwargs)

    def update_order(self, order_id: str, **fields: Any) -> dict[str, Any]:
        with self.lock:
            self._order_index = None
            return super().update_order(order_id, **fields)

    def _fulfill(self, request: RecordedRequest, match: Any) -> Response:
        self._order_index = None
        return super()._fulfill(request, match)

    def add_inventory(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        with self.lock:
            self._inventory_index = None
            return super().add_inventory(*args, **kwargs)

    def _orders_sorted(self) -> tuple[list[tuple[str, str]], list[Any], list[dict[str, Any]]]:
        if self._order_index is None:
            rows = sorted(self.orders.values(), key=squarespace_data.order_sort_key)
            keys = [squarespace_data.order_sort_key(o) for o in rows]
            modified = [squarespace_data.parse_iso_utc(o["modifiedOn"]) for o in rows]
            self._order_index = (keys, modified, rows)
        return self._order_index

    def _list_orders(self, request: RecordedRequest, match: Any) -> Response:
        """The sandbox's listing (same filters, same keyset pages), starting at the cursor by bisection."""
        cursor = request.param("cursor")
        if cursor:
            others = sorted(name for name in request.query if name != "cursor")
            if others:
                return self._bad(f"cursor cannot be used with other parameters: {', '.join(others)}.")
            state = self._cursors.decode(cursor, "orders")
            if state is None:
                return self._bad("The cursor parameter contains an invalid value.")
        else:
            state, error = self._orders_filter(request)
            if error is not None:
                return error
        after, before, status, last = state.get("a"), state.get("b"), state.get("s"), state.get("k")
        after_at = squarespace_data.parse_iso_utc(after) if after is not None else None
        before_at = squarespace_data.parse_iso_utc(before) if before is not None else None
        keys, modified, rows = self._orders_sorted()
        selected: list[dict[str, Any]] = []
        for index in range(bisect.bisect_right(keys, tuple(last)) if last is not None else 0, len(rows)):
            if after_at is not None and not (after_at < modified[index] < before_at):
                continue
            if status is not None and rows[index]["fulfillmentStatus"] != status:
                continue
            selected.append(rows[index])
            if len(selected) > self.page_size:
                break
        return self._page("result", selected, state, ORDERS_PATH, lambda o: list(squarespace_data.order_sort_key(o)))

    def _list_inventory(self, request: RecordedRequest, match: Any) -> Response:
        refused = self._inventory_refused()
        if refused is not None:
            return refused
        state: dict[str, Any] = {"kind": "inventory", "k": None}
        cursor = request.param("cursor")
        if cursor:
            decoded = self._cursors.decode(cursor, "inventory")
            if decoded is None:
                return self._bad("The cursor parameter contains an invalid value.")
            state = decoded
        if self._inventory_index is None:
            ids = list(self.inventory)
            self._inventory_index = (ids, {variant_id: index for index, variant_id in enumerate(ids)})
        ids, position = self._inventory_index
        start = 0 if state["k"] is None else position.get(state["k"], len(ids) - 1) + 1
        items = [self.inventory[i] for i in ids[start : start + self.page_size + 1]]
        return self._page("inventory", items, state, INVENTORY_PATH, lambda item: item["variantId"])


class BenchBergen(_BenchServing, BergenSandbox):
    """Bergen with its stock lines and order references indexed, and stock summaries cached until stock changes."""

    name = "bergen"

    def __init__(self, *, sequence: Iterator[int]) -> None:
        super().__init__()
        self._sequence = sequence
        self._levels: dict[tuple[int, int, str], bergen_data.StockLevel] = {}
        self._references: set[tuple[int, str]] = set()
        self._stock_version = 0
        self._summaries: dict[tuple[Any, ...], list[dict[str, Any]]] = {}

    def _stock_changed(self) -> None:
        self._stock_version += 1
        self._summaries = {}

    def add_item(
        self,
        sku: str,
        on_hand: int = 100,
        available: int | None = None,
        facility: str = "NJ",
        *,
        customer: str | None = None,
    ) -> dict[str, Any]:
        with self.lock:
            customer_id = self.customers[customer or self.customer]
            key = (customer_id, self.facilities[facility], sku)
            if key in self._levels:  # restocking a line: the sandbox's own (scanning) path, then re-index
                summary = super().add_item(sku, on_hand, available, facility, customer=customer)
                self._levels = {(s.customer_id, s.facility_id, s.sku): s for s in self.stock}
            else:
                item_id = self._item_ids.setdefault((customer_id, sku), 1000 + len(self._item_ids) + 1)
                level = bergen_data.StockLevel(
                    customer_id,
                    key[1],
                    item_id,
                    sku,
                    on_hand,
                    on_hold=0 if available is None else max(0, on_hand - available),
                    total_received=on_hand,
                )
                self.stock.append(level)
                self._levels[key] = level
                summary = level.summary()
            self._stock_changed()
            return summary

    def _level(self, customer_id: int, facility_id: int, sku: str) -> bergen_data.StockLevel | None:
        return self._levels.get((customer_id, facility_id, sku))

    def _allocate(self, customer_id: int, facility_id: int, items: list[tuple[str, float]]) -> bool:
        self._stock_changed()
        return super()._allocate(customer_id, facility_id, items)

    def ship_order(self, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        with self.lock:
            self._stock_changed()
            return super().ship_order(*args, **kwargs)

    def _create_order(self, request: RecordedRequest, match: Any) -> Response:
        """The sandbox's order creation, checking for a duplicate reference in an index, not a scan."""
        body = request.json
        if not isinstance(body, dict):
            return self.error_response(400, "The body must be a JSON order object.", code="InvalidValue")
        customer, error = self._identify(body, "customerIdentifier", self.customers, "InvalidCustomer")
        if error is not None:
            return error
        facility, error = self._identify(body, "facilityIdentifier", self.facilities, "InvalidFacility")
        if error is not None:
            return error
        reference = body.get("referenceNum")
        if not isinstance(reference, str) or not reference.strip():
            return self._missing("referenceNum")
        if len(reference) > 255:
            return self.error_response(400, "referenceNum is longer than 255 characters.", code="InvalidValue")
        if (customer["id"], reference) in self._references:
            return self.error_response(
                400,
                f"Duplicate referenceNum '{reference}' for customer {customer['name']}.",
                code="Duplicate",
                referenceNum=reference,
            )
        error = self._check_ship_to(body.get("shipTo"))
        if error is not None:
            return error
        items, error = self._check_items(body.get("orderItems"), customer["id"])
        if error is not None:
            return error
        order_id = len(self.orders) + 1
        fully_allocated = self._allocate(customer["id"], facility["id"], items)
        record = bergen_data.build_order_record(
            body,
            order_id=order_id,
            customer=customer,
            facility=facility,
            item_ids={sku: self._item_ids[(customer["id"], sku)] for sku, _ in items},
            first_item_id=self._next_order_item_id,
            fully_allocated=fully_allocated,
        )
        self._next_order_item_id += len(items)
        self.orders.append(record)
        self._references.add((customer["id"], reference))
        self._versions[order_id] = 1
        headers = {"Location": f"/orders/{order_id}", "ETag": self._etag(order_id)}
        return json_response(201, record, content_type=HAL, headers=headers)

    def _stock_summaries(self, request: RecordedRequest, match: Any) -> Response:
        """The sandbox's stock summaries; the filtered rows are kept until the stock next changes."""
        rql = request.param("rql")
        key = (request.param("customerid"), request.param("facilityid"), rql)
        selected = self._summaries.get(key)
        if selected is None:
            levels = self.stock
            for param, attribute in (("customerid", "customer_id"), ("facilityid", "facility_id")):
                raw = request.param(param)
                if raw is not None:
                    if not raw.isdigit():
                        return self.error_response(
                            400, f"{param} must be an integer.", code="InvalidValue", field=param
                        )
                    levels = [level for level in levels if getattr(level, attribute) == int(raw)]
            try:
                predicate = compile_rql(rql, bergen_data.STOCK_FILTER_FIELDS)
            except RqlError as exc:
                return self.error_response(400, f"Invalid rql: {exc}", code="InvalidRql")
            selected = [row for row in (level.summary() for level in levels) if predicate(row)]
            self._summaries[key] = selected
        pgsiz, pgnum, error = self._paging(request, 500)
        if error is not None:
            return error
        page = copy.deepcopy(selected[(pgnum - 1) * pgsiz : pgnum * pgsiz])
        body = bergen_data.hal_page(STOCK_PATH, {"rql": rql} if rql else {}, len(selected), pgsiz, pgnum, "", [])
        body["summaries"] = page
        return json_response(200, body, content_type=HAL)
