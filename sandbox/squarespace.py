"""Squarespace Commerce API sandbox: Orders and Inventory, as documented at developers.squarespace.com.

Written from the docs, independently of ``integrations/connectors`` (nothing is imported from there), so a
misreading of the docs on either side shows up as a failing test instead of passing silently.

What is emulated, and as strictly as documented:
- ``Authorization: Bearer <key>`` (401 ``AUTHORIZATION_ERROR`` otherwise) and a mandatory ``User-Agent``;
  ``Content-Type: application/json`` on requests with a body.
- ``GET /1.0/commerce/orders``: ``modifiedAfter``/``modifiedBefore`` only together, ``modifiedBefore`` later
  than ``modifiedAfter``, ``fulfillmentStatus`` among PENDING/FULFILLED/CANCELED, ``cursor`` alone (the
  current reference says it "cannot be used with other parameters"). Pages of ``page_size`` (50) ordered
  by ``modifiedOn``, body ``{"result", "pagination": {"hasNextPage", "nextPageCursor", "nextPageUrl"}}``.
- ``GET /1.0/commerce/orders/{id}``; ``POST /1.0/commerce/orders/{id}/fulfillments`` (204).
- The OAuth grant, webhook subscriptions and signed notifications of new and changed orders
  (``squarespace_hooks``); an OAuth access token is accepted wherever the API key is.
- ``GET /1.0/commerce/inventory`` (cursor pages, body key ``inventory``), ``GET /1.0/commerce/inventory/{ids}``
  and ``POST /1.0/commerce/inventory/adjustments`` (204, ``Idempotency-Key`` required).
- Each API's permission level, chosen when the key is made (none, Read Only, Read and Write): 403
  ``AUTHORIZATION_ERROR`` on every endpoint of an API the key has no level for, and on its writes with Read Only.
- Errors ``{"type", "subtype", "message", "details": null, "contextId"}``; over the rate limit 429 for a
  cooldown, without ``Retry-After`` (none is documented).

Assumptions where the docs are silent (each could be wrong; the connector must not rely on more):
- A missing or empty ``User-Agent`` is answered 400 ``INVALID_REQUEST_ERROR``/``MISSING_ARGUMENT`` (docs:
  "rejected", no status given). Note that urllib3 fills in ``python-urllib3/x`` when a client sets none;
  the docs accept such defaults (with stricter rate limiting), so only a truly absent header is refused.
- The limit defaults to 300 requests a minute (current docs; older pages said 120) and a 60 s cooldown.
- The date range is exclusive at both ends: ``modifiedAfter < modifiedOn < modifiedBefore`` ("modified
  after" / "modified before"). A poller must overlap its windows (or reuse the previous end) and dedupe.
- Timestamps must be UTC (``Z`` or ``+00:00``); other offsets and naive times are refused with 400.
- ``customerId`` and ``paymentStates`` are accepted but do not filter (every seeded order is paid).
- ``nextPageUrl`` is absolute. Cursors are signed keyset positions; a cursor from another listing is 400.
- The rate limit counts every request (also refused ones) in a rolling window; the limit is per sandbox.
- Fulfilling a CANCELED order is refused with 400; ``shipments`` may be omitted or empty (the docs call
  shipment information optional); a ``trackingUrl`` must be an absolute http(s) URL.
- A repeated ``Idempotency-Key`` with the same body answers 204 without applying; with another body 400
  (as documented for order creation). Quantities must be integers ≥ 0.

Long because the emulated contract (orders, fulfillments, inventory) reads in one class;
what needs no state (record shapes, cursors, adjustment plans) lives in ``squarespace_data``.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import secrets
import string
import time
from collections import deque
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sandbox import squarespace_data as data
from sandbox.server import RecordedRequest, Response, Route, SandboxServer, json_response, route
from sandbox.squarespace_hooks import SquarespaceHooks

_ERROR_TYPES = {
    400: "INVALID_REQUEST_ERROR",
    401: "AUTHORIZATION_ERROR",
    402: "WEBSITE_EXPIRED",
    403: "AUTHORIZATION_ERROR",
    404: "INVALID_REQUEST_ERROR",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    429: "TOO_MANY_REQUESTS",
    503: "SERVICE_UNAVAILABLE",
}
_OBJECT_ID = re.compile(r"[0-9a-f]{24}")
_IDEMPOTENCY_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")
_P = "/1.0/commerce"


class SquarespaceSandbox(SquarespaceHooks, SandboxServer):
    """A Squarespace site's Commerce API on loopback; seed it with ``add_order`` and ``add_inventory``."""

    persisted = ("orders", "inventory", "fulfillment_calls", "adjustments", "ignored_adjustments", "_idempotency")

    def __init__(
        self,
        api_key: str = "sandbox-squarespace-key",
        *,
        page_size: int = 50,
        rate_limit_per_minute: int | None = 300,
        cooldown_seconds: float = 60,
        rate_window_seconds: float = 60,
        port: int = 0,
        orders_read_only: bool = False,
        inventory_permission: bool = True,
        orders_permission: bool = True,
        inventory_read_only: bool = False,
        cursor_secret: bytes | None = None,
    ) -> None:
        self.api_key = api_key
        self.page_size = page_size
        self.rate_limit_per_minute = rate_limit_per_minute
        self.cooldown_seconds = cooldown_seconds
        self.rate_window_seconds = rate_window_seconds
        # Each API's permission level is chosen when a key is made (docs: "Authentication and
        # permissions"): none, Read Only or Read and Write. Without a level a key gets 403 on that API's
        # every endpoint; with Read Only, 403 on its writes (fulfilling; stock adjustments).
        self.orders_read_only = orders_read_only
        self.inventory_permission = inventory_permission
        self.orders_permission = orders_permission
        self.inventory_read_only = inventory_read_only
        self.orders: dict[str, dict[str, Any]] = {}
        self.inventory: dict[str, dict[str, Any]] = {}
        self.fulfillment_calls: list[dict[str, Any]] = []
        self.adjustments: list[dict[str, Any]] = []
        # Variant ids whose adjustments are answered 204 but not applied: a site that drops a write
        # it accepted, so that only a read-back shows it (tests of our verification).
        self.ignored_adjustments: set[str] = set()
        self._idempotency: dict[str, str] = {}
        self._hits: deque[float] = deque()
        self._cooldown_until = 0.0
        self._cursors = data.CursorCodec(cursor_secret)
        self.hooks_init()
        super().__init__(port=port)

    # -- seeding and assertions --------------------------------------------------------------------

    def add_order(
        self,
        order_number: str = "1001",
        created_on: datetime | None = None,
        modified_on: datetime | None = None,
        fulfillment_status: str = "PENDING",
        lines: list[dict[str, Any]] | None = None,
        shipping_method: str | None = "Standard",
        shipping_address: dict[str, Any] | None = None,
        testmode: bool = False,
        *,
        billing_address: dict[str, Any] | None = None,
        customer_email: str | None = "ada@example.com",
        shipping_amount: str = "5.00",
        currency: str = "USD",
        **raw_overrides: Any,
    ) -> dict[str, Any]:
        """Create an order in the real Order shape; ``raw_overrides`` replace top-level API fields verbatim.

        ``lines`` items are ``{"sku", "quantity", "price", "name"}`` (plus optional ``variant_id``,
        ``options``); a line whose SKU was seeded with ``add_inventory`` gets that variant's id.
        """
        if fulfillment_status not in data.FULFILLMENT_STATUSES:
            raise ValueError(f"fulfillment_status must be one of {data.FULFILLMENT_STATUSES}")
        created = created_on or data.now_utc()
        specs = lines if lines is not None else [{"sku": "SKU-1", "quantity": 2, "price": "10.00", "name": "Widget"}]
        with self.lock:
            variants = {item["sku"]: item["variantId"] for item in self.inventory.values()}
            line_items = [data.build_line_item(spec, currency, variants.get(spec.get("sku"))) for spec in specs]
            order = data.build_order(
                order_number=order_number,
                created_on=created,
                modified_on=modified_on or created,
                fulfillment_status=fulfillment_status,
                line_items=line_items,
                shipping_method=shipping_method,
                shipping_amount=shipping_amount,
                shipping_address=data.build_address(shipping_address),
                billing_address=data.build_address(billing_address or shipping_address),
                customer_email=customer_email,
                testmode=testmode,
                currency=currency,
            )
            order.update(raw_overrides)
            self.orders[order["id"]] = order
            self._orders_changed()
            self.notify("order.create", order["id"])
            return data.public_copy(order)

    def update_order(self, order_id: str, **fields: Any) -> dict[str, Any]:
        """Change top-level fields as a merchant would; ``modifiedOn`` moves to now unless given."""
        with self.lock:
            order = self.orders[order_id]
            modified = fields.pop("modifiedOn", None) or data.now_utc()
            order.update(fields)
            order["modifiedOn"] = data.iso(modified) if isinstance(modified, datetime) else modified
            self._orders_changed()
            # Squarespace notifies status changes only (not address or line edits).
            update = {"FULFILLED": "FULFILLED", "CANCELED": "CANCELED", "PENDING": "MARKED_PENDING"}.get(
                str(fields.get("fulfillmentStatus"))
            )
            if update:
                self.notify("order.update", order_id, update)
            return data.public_copy(order)

    def add_inventory(
        self, variant_id: str, sku: str, quantity: int, descriptor: str = "", is_unlimited: bool = False
    ) -> dict[str, Any]:
        with self.lock:
            item = data.build_inventory_item(variant_id, sku, quantity, descriptor, is_unlimited)
            self.inventory[variant_id] = item
            self._inventory_changed()
            return data.public_copy(item)

    def fulfillments_for(self, order_id: str) -> list[dict[str, Any]]:
        with self.lock:
            return data.public_copy(self.orders[order_id]["fulfillments"] or [])

    def reset(self) -> None:
        """Also forget the rate-limit window and any cooldown."""
        with self.lock:
            super().reset()
            self._hits.clear()
            self._cooldown_until = 0.0

    # -- platform behaviour ------------------------------------------------------------------------

    def error_response(self, status: int, message: str, *, code: str | None = None) -> Response:
        error_type = _ERROR_TYPES.get(status, "SERVER_ERROR" if status >= 500 else "INVALID_REQUEST_ERROR")
        context_id = "".join(secrets.choice(string.ascii_uppercase) for _ in range(10))
        payload = {"type": error_type, "subtype": code, "message": message, "details": None, "contextId": context_id}
        return json_response(status, payload)

    def truncated_body(self) -> bytes:
        return b'{"result": [{"id": "5f3e1a2b3c4d5e6f7a8b9c0d", "orderNumber": "10'

    def routes(self) -> list[Route]:
        return [
            route("GET", rf"{_P}/orders", self._list_orders),
            route("GET", rf"{_P}/orders/(?P<order_id>[^/]+)", self._get_order),
            route("POST", rf"{_P}/orders/(?P<order_id>[^/]+)/fulfillments", self._fulfill),
            route("GET", rf"{_P}/inventory", self._list_inventory),
            route("POST", rf"{_P}/inventory/adjustments", self._adjust_inventory),
            route("GET", rf"{_P}/inventory/(?P<ids>[^/]+)", self._get_inventory_items),
            *self.hook_routes(),
        ]

    def before_dispatch(self, request: RecordedRequest) -> Response | None:
        limited = self._rate_limited()
        if limited is not None:
            return limited
        if self.is_oauth_path(request.path):
            return None  # the OAuth provider authenticates the client itself
        bearer = request.header("Authorization") or ""
        if bearer != f"Bearer {self.api_key}" and not self.oauth_token_valid(bearer.removeprefix("Bearer ")):
            return self.error_response(401, "Missing or invalid Authorization header.")
        if not (request.header("User-Agent") or "").strip():
            return self.error_response(400, "A User-Agent header is required.", code="MISSING_ARGUMENT")
        if request.method in ("POST", "PUT", "PATCH"):
            content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
            if content_type != "application/json":
                return self.error_response(400, "Content-Type must be application/json.", code="INVALID_CONTENT_TYPE")
            if request.json is None:
                return self.error_response(400, "The request body is not valid JSON.", code="INVALID_ARGUMENT")
        return None

    def _rate_limited(self) -> Response | None:
        if self.rate_limit_per_minute is None:
            return None
        now = time.monotonic()
        if now < self._cooldown_until:
            return self.error_response(429, "Rate limit exceeded; cooling down.")
        while self._hits and self._hits[0] <= now - self.rate_window_seconds:
            self._hits.popleft()
        if len(self._hits) >= self.rate_limit_per_minute:
            self._hits.clear()
            self._cooldown_until = now + self.cooldown_seconds
            return self.error_response(429, "Rate limit exceeded; cooling down.")
        self._hits.append(now)
        return None

    def _bad(self, message: str, code: str = "INVALID_ARGUMENT") -> Response:
        return self.error_response(400, message, code=code)

    def _page(self, key: str, items: list[dict], state: dict[str, Any], path: str, last_key: Any) -> Response:
        has_next = len(items) > self.page_size
        page = items[: self.page_size]
        cursor = url = None
        if has_next:
            cursor = self._cursors.encode({**state, "k": last_key(page[-1])})
            url = f"{self.base_url}{path}?{urlencode({'cursor': cursor})}"
        pagination = {"hasNextPage": has_next, "nextPageCursor": cursor, "nextPageUrl": url}
        return json_response(200, {key: data.public_copy(page), "pagination": pagination})

    # -- orders ------------------------------------------------------------------------------------

    def _orders_refused(self, *, write: bool = False) -> Response | None:
        if not self.orders_permission:
            return self.error_response(403, "This API key has no Orders permission.", code="MISSING_SCOPE")
        if write and self.orders_read_only:
            return self.error_response(403, "This API key cannot write orders.", code="MISSING_SCOPE")
        return None

    def _list_orders(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        refused = self._orders_refused()
        if refused is not None:
            return refused
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
        after_at = data.parse_iso_utc(after) if after is not None else None
        before_at = data.parse_iso_utc(before) if before is not None else None
        keys, modified, rows = self._orders_listing()
        selected: list[dict[str, Any]] = []
        # The keyset position: the first order listed after the cursor's last key.
        for index in range(bisect.bisect_right(keys, tuple(last)) if last is not None else 0, len(rows)):
            if after_at is not None and not (after_at < modified[index] < before_at):
                continue
            if status is not None and rows[index]["fulfillmentStatus"] != status:
                continue
            selected.append(rows[index])
            if len(selected) > self.page_size:  # one more than a page tells that a next page exists
                break
        return self._page("result", selected, state, f"{_P}/orders", lambda o: list(data.order_sort_key(o)))

    def _orders_listing(self) -> tuple[list[tuple[str, str]], list[datetime | None], list[dict[str, Any]]]:
        """Every order in listing order, with its sort key and its ``modifiedOn`` parsed, built afresh on
        each request; a subclass serving many orders keeps it until ``_orders_changed``."""
        rows = sorted(self.orders.values(), key=data.order_sort_key)
        return [data.order_sort_key(o) for o in rows], [data.parse_iso_utc(o["modifiedOn"]) for o in rows], rows

    def _orders_changed(self) -> None:
        """Called (under the lock) whenever an order is added or changes where it is listed."""

    def _orders_filter(self, request: RecordedRequest) -> tuple[dict[str, Any], Response | None]:
        after_raw, before_raw = request.param("modifiedAfter"), request.param("modifiedBefore")
        state: dict[str, Any] = {"kind": "orders", "a": None, "b": None, "s": None, "k": None}
        if (after_raw is None) != (before_raw is None):
            missing = "modifiedBefore" if before_raw is None else "modifiedAfter"
            return state, self._bad(
                f"modifiedAfter and modifiedBefore must be used together; {missing} is missing.", "MISSING_ARGUMENT"
            )
        if after_raw is not None:
            after, before = data.parse_iso_utc(after_raw), data.parse_iso_utc(before_raw or "")
            if after is None or before is None:
                return state, self._bad("modifiedAfter and modifiedBefore must be ISO 8601 UTC date-times.")
            if before <= after:
                return state, self._bad("modifiedBefore must be later than modifiedAfter.")
            state["a"], state["b"] = after_raw, before_raw
        status = request.param("fulfillmentStatus")
        if status is not None:
            if status not in data.FULFILLMENT_STATUSES:
                return state, self._bad(f"fulfillmentStatus must be one of {', '.join(data.FULFILLMENT_STATUSES)}.")
            state["s"] = status
        return state, None

    def _find_order(self, order_id: str) -> tuple[dict[str, Any] | None, Response | None]:
        if not _OBJECT_ID.fullmatch(order_id):
            return None, self._bad("The id is not in the expected format.")
        order = self.orders.get(order_id)
        if order is None:
            return None, self.error_response(404, f"Order {order_id} was not found.")
        return order, None

    def _get_order(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        refused = self._orders_refused()
        if refused is not None:
            return refused
        order, error = self._find_order(match["order_id"])
        return error if order is None else json_response(200, data.public_copy(order))

    def _fulfill(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        refused = self._orders_refused(write=True)
        if refused is not None:
            return refused
        order, error = self._find_order(match["order_id"])
        if order is None:
            return error
        body = request.json
        if not isinstance(body, dict):
            return self._bad("The request body must be a JSON object.")
        if not isinstance(body.get("shouldSendNotification"), bool):
            return self._bad("shouldSendNotification is required and must be a boolean.", "MISSING_ARGUMENT")
        shipments = body.get("shipments") or []
        if not isinstance(shipments, list):
            return self._bad("shipments must be an array.")
        cleaned = []
        for index, shipment in enumerate(shipments):
            problem = data.shipment_problem(shipment)
            if problem:
                return self._bad(f"shipments[{index}]: {problem}", "MISSING_ARGUMENT")
            cleaned.append(
                {
                    "shipDate": shipment["shipDate"],
                    "carrierName": shipment["carrierName"],
                    "service": shipment["service"],
                    "trackingNumber": shipment["trackingNumber"],
                    "trackingUrl": shipment.get("trackingUrl"),
                }
            )
        if order["fulfillmentStatus"] == "CANCELED":
            return self._bad("A canceled order cannot be fulfilled.")
        now = data.iso(data.now_utc())
        order["fulfillments"] = (order["fulfillments"] or []) + cleaned
        order["fulfillmentStatus"] = "FULFILLED"
        order["fulfilledOn"] = order["fulfilledOn"] or now
        order["modifiedOn"] = now
        self._orders_changed()
        self.fulfillment_calls.append({"orderId": order["id"], **data.public_copy(body)})
        return Response(204)

    # -- inventory ---------------------------------------------------------------------------------

    def _inventory_refused(self, *, write: bool = False) -> Response | None:
        if not self.inventory_permission:
            return self.error_response(403, "This API key has no Inventory permission.", code="MISSING_SCOPE")
        if write and self.inventory_read_only:
            return self.error_response(403, "This API key cannot write inventory.", code="MISSING_SCOPE")
        return None

    def _list_inventory(self, request: RecordedRequest, match: re.Match[str]) -> Response:
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
        ids, position = self._inventory_listing()
        # After the cursor's last variant; past the end when that variant is gone.
        start = 0 if state["k"] is None else position.get(state["k"], len(ids) - 1) + 1
        items = [self.inventory[i] for i in ids[start : start + self.page_size + 1]]
        return self._page("inventory", items, state, f"{_P}/inventory", lambda item: item["variantId"])

    def _inventory_listing(self) -> tuple[list[str], dict[str, int]]:
        """The variant ids in listing order and each one's position, built afresh on each request; a
        subclass serving many items keeps them until ``_inventory_changed``."""
        ids = list(self.inventory)
        return ids, {variant_id: index for index, variant_id in enumerate(ids)}

    def _inventory_changed(self) -> None:
        """Called (under the lock) whenever an item is added to the inventory."""

    def _get_inventory_items(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        refused = self._inventory_refused()
        if refused is not None:
            return refused
        ids = [i for i in match["ids"].split(",") if i]
        if len(ids) > 50:
            return self._bad("At most 50 InventoryItems can be requested at once.")
        missing = [i for i in ids if i not in self.inventory]
        if missing or not ids:
            return self.error_response(404, f"InventoryItems not found: {', '.join(missing)}", code="INVALID_ARGUMENT")
        return json_response(200, {"inventory": [data.public_copy(self.inventory[i]) for i in ids]})

    def _adjust_inventory(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        refused = self._inventory_refused(write=True)
        if refused is not None:
            return refused
        key = request.header("Idempotency-Key")
        if not key:
            return self._bad("The Idempotency-Key header is required.", "MISSING_ARGUMENT")
        if not _IDEMPOTENCY_KEY.fullmatch(key):
            return self._bad("The Idempotency-Key header must be 1-64 letters, digits, '-' or '_'.")
        fingerprint = hashlib.sha256(request.body).hexdigest()
        if key in self._idempotency:
            if self._idempotency[key] != fingerprint:
                return self._bad("This Idempotency-Key was already used with a different request body.")
            return Response(204)
        try:
            plan = data.plan_adjustments(request.json, self.inventory)
        except data.RequestRefused as refused:
            return self.error_response(refused.status, str(refused), code=refused.subtype)
        data.apply_adjustments({k: v for k, v in plan.items() if k not in self.ignored_adjustments}, self.inventory)
        self._idempotency[key] = fingerprint
        self.adjustments.append({"idempotencyKey": key, **data.public_copy(request.json)})
        return Response(204)
