"""Bergen Logistics sandbox, speaking the Extensiv (3PL Central) 3PL Warehouse Manager REST API.

Bergen publishes no API; our Bergen connector speaks Extensiv's documented contract at the client's
account web address (see /work/shared/platforms.md), so this sandbox emulates that contract, written from
Extensiv's docs and integrators' code, independently of ``integrations/connectors``:
- ``POST /AuthServer/api/Token``: HTTP Basic ``username:password``, JSON ``{"grant_type":
  "client_credentials", "user_login"?}`` → ``{"access_token", "token_type": "Bearer", "expires_in"}``.
  Tokens expire after ``token_ttl`` seconds; then every call is 401.
- ``POST /orders`` (201, ``Location`` and ``ETag``), ``GET /orders`` (``rql``, ``pgsiz`` ≤ 1000, ``pgnum``
  from 1, ``detail``, HAL), ``GET /orders/{id}`` (``detail``, ``ETag``), ``GET /orders/shipmentstrackinginfo``,
  ``GET /inventory/stocksummaries`` (``pgsiz`` ≤ 500).
- 4xx errors are JSON ``{"ErrorCode", "Hint", "Properties", "ErrorInfo"}``; a 500 is plain text.

Assumptions where the public material is silent (the connector must not rely on more than this):
- ErrorCode values are guesses: ``Duplicate`` (a second order with the same ``referenceNum`` for the same
  customer, whatever the first one's status; the Hint says "Duplicate referenceNum ..." and does not give
  the existing order's id; ``accept_duplicate_references`` turns the check off, as some warehouses
  store a second order under a reference they already have), ``ItemNotFound`` (Hint and
  ``Properties.sku`` name the SKU), ``InvalidCustomer``, ``InvalidFacility``, ``MissingRequiredField``,
  ``InvalidValue``, ``InvalidRql``, ``Unauthorized``, ``NotFound``, ``UnsupportedMediaType``,
  ``NotAcceptable``.
- Required on an order: ``customerIdentifier`` and ``facilityIdentifier`` (``id`` or ``name``),
  ``referenceNum`` (≤ 255 chars), ``shipTo.name/address1/city/zip/country`` (country a 2-letter code),
  ``orderItems`` (≥ 1) with ``itemIdentifier.sku`` known for the customer and ``qty`` > 0.
- Bodies must be ``application/json`` or ``application/hal+json`` (else 415); an ``Accept`` that allows
  neither is 406. Answers are camelCase HAL whatever the ``Accept``; paths are case-insensitive (IIS).
- Timestamps have no offset, in warehouse time (``time_zone``, UTC unless told); ``rql`` compares them as
  written. Stock summaries are one row per item and facility, without a customer field; ``customerid``
  and ``facilityid`` query parameters and ``rql`` narrow them (integrators pass those parameters).
- Creating an order allocates what is available in its facility; shipping it (``ship_order``) takes the
  shipped quantities off hand and closes the order.

Long because the emulated contract (auth, orders, tracking, stock) reads in one class; what
needs no state (record shapes, views, payload checks) lives in ``bergen_data``.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import math
import secrets
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from sandbox import bergen_data as data
from sandbox.rql import RqlError, compile_rql
from sandbox.server import RecordedRequest, Response, Route, SandboxServer, json_response, route, text_response

_HAL = "application/hal+json; charset=utf-8"
_TOKEN_PATH = "/authserver/api/token"


class BergenSandbox(SandboxServer):
    """Bergen's warehouse API on loopback; seed stock with ``add_item``, ship with ``ship_order``."""
    persisted = ("customers", "stock", "orders", "tracking", "_item_ids", "_versions", "_next_order_item_id")

    def __init__(
        self,
        username: str = "sandbox-user",
        password: str = "sandbox-pass",
        *,
        customer: str = "DEMO",
        facilities: tuple[str, ...] = ("NJ", "NJ2", "WEST", "EU"),
        token_ttl: float = 3600,
        accept_duplicate_references: bool = False,
        time_zone: str = "UTC",
        port: int = 0,
    ) -> None:
        super().__init__(port=port)
        self.accept_duplicate_references, self.zone = accept_duplicate_references, data.zone_named(time_zone)
        self.username = username
        self.password = password
        self.customer = customer
        self.token_ttl = token_ttl
        self.customers: dict[str, int] = {}
        self.facilities: dict[str, int] = {name: index for index, name in enumerate(facilities, start=1)}
        self.stock: list[data.StockLevel] = []
        self.orders: list[dict[str, Any]] = []
        self.tracking: list[dict[str, Any]] = []
        self.tokens_issued = 0
        self._tokens: dict[str, float] = {}
        self._item_ids: dict[tuple[int, str], int] = {}
        self._versions: dict[int, int] = {}
        self._next_order_item_id = 1
        self.add_customer(customer)

    # -- seeding and assertions --------------------------------------------------------------------

    def add_customer(self, name: str) -> int:
        """Another customer of the warehouse (referenceNums are unique per customer only)."""
        with self.lock:
            return self.customers.setdefault(name, len(self.customers) + 1)

    def add_item(
        self,
        sku: str,
        on_hand: int = 100,
        available: int | None = None,
        facility: str = "NJ",
        *,
        customer: str | None = None,
    ) -> dict[str, Any]:
        """Stock of ``sku`` in ``facility``; an ``available`` below ``on_hand`` puts the rest on hold."""
        with self.lock:
            customer_id = self.customers[customer or self.customer]
            item_id = self._item_ids.setdefault((customer_id, sku), 1000 + len(self._item_ids) + 1)
            level = data.StockLevel(
                customer_id,
                self.facilities[facility],
                item_id,
                sku,
                on_hand,
                on_hold=0 if available is None else max(0, on_hand - available),
                total_received=on_hand,
            )
            self._stock_put(level)
            self._stock_changed()
            return level.summary()

    def _stock_put(self, level: data.StockLevel) -> None:
        """Store ``level`` last, in place of the line of the same customer, facility and SKU if there is one."""
        key = (level.customer_id, level.facility_id, level.sku)
        self.stock = [s for s in self.stock if (s.customer_id, s.facility_id, s.sku) != key]
        self.stock.append(level)

    def orders_by_reference(self) -> dict[str, list[dict[str, Any]]]:
        with self.lock:
            grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for order in self.orders:
                grouped[order["referenceNum"]].append(order)
            return dict(grouped)

    def duplicate_count(self) -> int:
        """referenceNums stored more than once, across customers too: the number that must stay 0."""
        return sum(1 for orders in self.orders_by_reference().values() if len(orders) > 1)

    def store_order(self, body: dict[str, Any]) -> dict[str, Any]:
        """Store ``body`` as ``POST /orders`` would, without a request and whatever references are already
        stored (a deliberate duplicate, for a test or the chaos harness). Returns the stored order;
        raises ``ValueError`` with the API's Hint when the order itself is invalid."""
        with self.lock:
            response = self._accept_order(body, refuse_duplicates=False)
        if response.status != 201:
            raise ValueError(json.loads(response.body)["Hint"])
        return self.orders[-1]

    def order(self, reference_num: str, customer: str | None = None) -> dict[str, Any]:
        with self.lock:
            customer_id = self.customers[customer or self.customer]
            for order in self.orders:
                if (
                    order["referenceNum"] == reference_num
                    and order["readOnly"]["customerIdentifier"]["id"] == customer_id
                ):
                    return order
        raise KeyError(reference_num)

    def ship_order(
        self,
        reference_num: str,
        packages: list[dict[str, Any]],
        ship_date: datetime | None = None,
        *,
        customer: str | None = None,
    ) -> list[dict[str, Any]]:
        """Ship an order in packages ``{"carrier", "service", "tracking_number", "tracking_url"?, "lines":
        [{"sku", "qty"}]}``: tracking rows appear, stock leaves the shelf and the order closes."""
        with self.lock:
            order = self.order(reference_num, customer)
            when = data.wms_time(ship_date, self.zone)
            facility_id = order["readOnly"]["facilityIdentifier"]["id"]
            customer_id = order["readOnly"]["customerIdentifier"]["id"]
            rows = []
            for package in packages:
                row = data.tracking_row(order, len(self.tracking) + 1, package, when)
                self.tracking.append(row)
                rows.append(row)
                for line in package.get("lines") or []:
                    level = self._level(customer_id, facility_id, line["sku"])
                    if level is not None:
                        level.on_hand = max(0, level.on_hand - line["qty"])
                        level.allocated = max(0, level.allocated - line["qty"])
            self._stock_changed()
            read_only = order["readOnly"]
            read_only.update(status=data.STATUS_COMPLETE, isClosed=True, processDate=when, lastModifiedDate=when)
            if packages:
                order["routingInfo"]["trackingNumber"] = packages[0].get("tracking_number")
            self._versions[read_only["orderId"]] += 1
            return rows

    def cancel_order(self, reference_num: str, *, customer: str | None = None) -> None:
        with self.lock:
            order = self.order(reference_num, customer)
            now = data.wms_time(zone=self.zone)
            order["readOnly"].update(status=data.STATUS_CANCELED, isClosed=True, lastModifiedDate=now)
            self._versions[order["readOnly"]["orderId"]] += 1

    def expire_tokens(self) -> None:
        """Make every issued token expired now, as if ``token_ttl`` had passed."""
        with self.lock:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    # -- platform behaviour ------------------------------------------------------------------------

    def error_response(self, status: int, message: str, *, code: str | None = None, **properties: Any) -> Response:
        if status >= 500:
            return text_response(status, message)
        error_code = code or data.DEFAULT_ERROR_CODES.get(status, "Error")
        payload = {"ErrorCode": error_code, "Hint": message, "Properties": properties, "ErrorInfo": None}
        return json_response(status, payload)

    def truncated_body(self) -> bytes:
        return b'{"totalResults": 1, "_embedded": {"http://api.3plCentral.com/rels/orders/order": [{"readOnly'

    def routes(self) -> list[Route]:
        return [
            route("POST", r"(?i)/AuthServer/api/Token", self._token),
            route("GET", r"(?i)/orders/shipmentstrackinginfo", self._tracking_info),
            route("GET", r"(?i)/orders", self._list_orders),
            route("POST", r"(?i)/orders", self._create_order),
            route("GET", r"(?i)/orders/(?P<order_id>\d+)", self._get_order),
            route("GET", r"(?i)/inventory/stocksummaries", self._stock_summaries),
        ]

    def before_dispatch(self, request: RecordedRequest) -> Response | None:
        if request.method in ("POST", "PUT", "PATCH"):
            content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
            if content_type not in ("application/json", "application/hal+json"):
                return self.error_response(
                    415, "Send application/json or application/hal+json.", code="UnsupportedMediaType"
                )
        if request.path.lower() == _TOKEN_PATH:
            return None
        accept = request.header("Accept")
        if accept and not any(
            part.split(";")[0].strip().lower() in ("application/hal+json", "application/json", "application/*", "*/*")
            for part in accept.split(",")
        ):
            return self.error_response(
                406, "This API answers application/hal+json or application/json.", code="NotAcceptable"
            )
        authorization = request.header("Authorization") or ""
        scheme, _, token = authorization.partition(" ")
        expires_at = self._tokens.get(token) if scheme.lower() == "bearer" else None
        if expires_at is None:
            return self.error_response(401, "A valid bearer token is required.", code="Unauthorized")
        if time.monotonic() >= expires_at:
            response = self.error_response(401, "The access token has expired.", code="Unauthorized")
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token", error_description="expired"'
            return response
        return None

    def _token(self, request: RecordedRequest, match: Any) -> Response:
        scheme, _, encoded = (request.header("Authorization") or "").partition(" ")
        try:
            username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            username = password = None
        if scheme.lower() != "basic" or (username, password) != (self.username, self.password):
            response = self.error_response(401, "Invalid client credentials.", code="Unauthorized")
            response.headers["WWW-Authenticate"] = 'Basic realm="AuthServer"'
            return response
        body = request.json
        if not isinstance(body, dict) or body.get("grant_type") != "client_credentials":
            return self.error_response(400, "grant_type must be client_credentials.", code="UnsupportedGrantType")
        token = secrets.token_urlsafe(32)
        self._tokens[token] = time.monotonic() + self.token_ttl
        self.tokens_issued += 1
        payload = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": math.ceil(self.token_ttl),
            "refresh_token": None,
            "scope": None,
        }
        return json_response(200, payload)

    # -- orders ------------------------------------------------------------------------------------

    def _create_order(self, request: RecordedRequest, match: Any) -> Response:
        body = request.json
        if not isinstance(body, dict):
            return self.error_response(400, "The body must be a JSON order object.", code="InvalidValue")
        return self._accept_order(body, refuse_duplicates=not self.accept_duplicate_references)

    def _accept_order(self, body: dict[str, Any], *, refuse_duplicates: bool) -> Response:
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
        if refuse_duplicates and self._reference_taken(customer["id"], reference):
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
        item_ids = {sku: self._item_ids[(customer["id"], sku)] for sku, _ in items}
        record = data.build_order_record(
            body,
            order_id=order_id,
            customer=customer,
            facility=facility,
            item_ids=item_ids,
            first_item_id=self._next_order_item_id,
            fully_allocated=fully_allocated,
            zone=self.zone,
        )
        self._next_order_item_id += len(items)
        self.orders.append(record)
        self._versions[order_id] = 1
        headers = {"Location": f"/orders/{order_id}", "ETag": self._etag(order_id)}
        return json_response(201, record, content_type=_HAL, headers=headers)

    def _reference_taken(self, customer_id: int, reference: str) -> bool:
        """Whether the customer already has an order stored under ``reference``."""
        return any(
            order["referenceNum"] == reference and order["readOnly"]["customerIdentifier"]["id"] == customer_id
            for order in self.orders
        )

    def _identify(self, body: dict, field: str, known: dict[str, int], code: str) -> tuple[dict, Response | None]:
        ident = body.get(field)
        if not isinstance(ident, dict) or (ident.get("id") is None and not ident.get("name")):
            return {}, self._missing(f"{field} (id or name)")
        by_id = {number: name for name, number in known.items()}
        if ident.get("id") is not None:
            name = by_id.get(ident["id"]) if isinstance(ident["id"], int) else None
            if name is None or (ident.get("name") and ident["name"] != name):
                return {}, self.error_response(400, f"Unknown {field} {ident!r}.", code=code)
            return {"id": ident["id"], "name": name}, None
        if ident["name"] not in known:
            return {}, self.error_response(400, f"Unknown {field} name {ident['name']!r}.", code=code)
        return {"id": known[ident["name"]], "name": ident["name"]}, None

    def _missing(self, field: str) -> Response:
        return self.error_response(400, f"{field} is required.", code="MissingRequiredField", field=field)

    def _check_ship_to(self, ship_to: Any) -> Response | None:
        problem = data.ship_to_problem(ship_to)
        if problem is None:
            return None
        message, code, field = problem
        return self.error_response(400, message, code=code, field=field)

    def _check_items(self, lines: Any, customer_id: int) -> tuple[list[tuple[str, float]], Response | None]:
        if not isinstance(lines, list) or not lines:
            return [], self._missing("orderItems")
        items = []
        for index, line in enumerate(lines):
            ident = line.get("itemIdentifier") if isinstance(line, dict) else None
            sku = ident.get("sku") if isinstance(ident, dict) else None
            if not isinstance(sku, str) or not sku:
                return [], self._missing(f"orderItems[{index}].itemIdentifier.sku")
            if (customer_id, sku) not in self._item_ids:
                return [], self.error_response(
                    400, f"Item SKU '{sku}' does not exist for this customer.", code="ItemNotFound", sku=sku
                )
            qty = line.get("qty")
            if isinstance(qty, bool) or not isinstance(qty, int | float) or qty <= 0:
                return [], self.error_response(
                    400, f"orderItems[{index}].qty must be greater than 0.", code="InvalidValue", sku=sku
                )
            items.append((sku, qty))
        return items, None

    def _level(self, customer_id: int, facility_id: int, sku: str) -> data.StockLevel | None:
        for level in self.stock:
            if (level.customer_id, level.facility_id, level.sku) == (customer_id, facility_id, sku):
                return level
        return None

    def _allocate(self, customer_id: int, facility_id: int, items: list[tuple[str, float]]) -> bool:
        fully = True
        for sku, qty in items:
            level = self._level(customer_id, facility_id, sku)
            take = min(level.available, int(qty)) if level is not None else 0
            if level is not None:
                level.allocated += take
            fully = fully and take >= qty
        self._stock_changed()
        return fully

    def _stock_changed(self) -> None:
        """Called (under the lock) whenever a stock line is added or its quantities change; a subclass
        that keeps stock summaries between requests drops them here."""

    def _etag(self, order_id: int) -> str:
        return f'"{order_id}-{self._versions[order_id]}"'

    def _paging(self, request: RecordedRequest, max_size: int) -> tuple[int, int, Response | None]:
        values = []
        for name, default, upper in (("pgsiz", 100, max_size), ("pgnum", 1, None)):
            raw = request.param(name)
            value = default if raw is None else (int(raw) if raw.isdigit() else 0)
            if value < 1 or (upper is not None and value > upper):
                limit = f"between 1 and {upper}" if upper else "1 or more"
                return 0, 0, self.error_response(400, f"{name} must be {limit}.", code="InvalidValue", field=name)
            values.append(value)
        return values[0], values[1], None

    def _filtered_page(
        self,
        request: RecordedRequest,
        rows: list[dict] | Callable[[str | None, Callable[[dict], bool]], list[dict]],
        fields: tuple[str, ...],
        max_size: int,
        path: str,
        rel: str | None,
        view: Callable[[dict], dict] = copy.deepcopy,
    ) -> Response:
        """Filter with ``rql``, page with ``pgsiz``/``pgnum`` (each row shown through ``view``, a copy);
        HAL-embedded under ``rel``, else ``summaries``. ``rows`` may instead select them itself, given the
        ``rql`` and its predicate."""
        pgsiz, pgnum, error = self._paging(request, max_size)
        if error is not None:
            return error
        rql = request.param("rql")
        try:
            predicate = compile_rql(rql, fields)
        except RqlError as exc:
            return self.error_response(400, f"Invalid rql: {exc}", code="InvalidRql")
        selected = rows(rql, predicate) if callable(rows) else [row for row in rows if predicate(row)]
        page = [view(row) for row in selected[(pgnum - 1) * pgsiz : pgnum * pgsiz]]
        query = {"rql": rql} if rql else {}
        body = data.hal_page(path, query, len(selected), pgsiz, pgnum, rel or "", page if rel else [])
        if rel is None:
            body["summaries"] = page
        return json_response(200, body, content_type=_HAL)

    def _list_orders(self, request: RecordedRequest, match: Any) -> Response:
        detail = request.param("detail")
        return self._filtered_page(
            request,
            self.orders,
            data.ORDER_FILTER_FIELDS,
            1000,
            "/orders",
            data.REL_ORDER,
            view=lambda order: data.order_view(order, detail),
        )

    def _get_order(self, request: RecordedRequest, match: Any) -> Response:
        order_id = int(match["order_id"])
        if not 1 <= order_id <= len(self.orders):
            return self.error_response(404, f"Order {order_id} was not found.", code="NotFound")
        order = data.order_view(self.orders[order_id - 1], request.param("detail"))
        return json_response(200, order, content_type=_HAL, headers={"ETag": self._etag(order_id)})

    def _tracking_info(self, request: RecordedRequest, match: Any) -> Response:
        return self._filtered_page(
            request,
            self.tracking,
            data.TRACKING_FILTER_FIELDS,
            1000,
            "/orders/shipmentstrackinginfo",
            data.REL_TRACKING,
        )

    def _stock_summaries(self, request: RecordedRequest, match: Any) -> Response:
        narrowed: dict[str, int] = {}
        for param, attribute in (("customerid", "customer_id"), ("facilityid", "facility_id")):
            raw = request.param(param)
            if raw is not None:
                if not raw.isdigit():
                    return self.error_response(400, f"{param} must be an integer.", code="InvalidValue", field=param)
                narrowed[attribute] = int(raw)
        rows = partial(self._stock_selected, narrowed)
        return self._filtered_page(request, rows, data.STOCK_FILTER_FIELDS, 500, "/inventory/stocksummaries", None)

    def _stock_selected(
        self, narrowed: dict[str, int], rql: str | None, predicate: Callable[[dict], bool]
    ) -> list[dict[str, Any]]:
        """The summaries of the stock lines whose attributes equal ``narrowed`` and that ``rql`` selects
        (``predicate``), built afresh on each request; a subclass serving many lines keeps them until
        ``_stock_changed``."""
        levels = [level for level in self.stock if all(getattr(level, a) == v for a, v in narrowed.items())]
        return [row for row in (level.summary() for level in levels) if predicate(row)]
