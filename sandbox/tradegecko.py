"""TradeGecko (QuickBooks Commerce) API sandbox, written from developer.tradegecko.com, independently of
``integrations/connectors`` (nothing is imported from there). The public API was retired, so this sandbox is
the only thing the TradeGecko connector is ever tested against; every guess is written down.

What is emulated, as documented:
- OAuth 2 authorization code at ``/oauth/authorize`` and ``/oauth/token`` with rotating refresh tokens, and a
  privileged access token that never expires (``sandbox.tradegecko_auth``, which also serves ``/oauth/*``).
- ``Authorization: Bearer`` on every API call; JSON root-keyed both ways; ``limit``/``page`` paging with the
  ``X-Pagination`` header; 300 requests per 300 s with ``X-Rate-Limit-Limit/Remaining/Reset`` (epoch) and
  429 until the reset; ``Idempotency-Key`` on POST and PUT; ``X-Request-ID`` on every answer.
- Changes after creation (void, shipping address, lines) and when they are refused: ``tradegecko_orders``.
- Orders, order line items, variants, addresses, companies, locations, fulfillments, fulfillment line items
  and stock adjustments (``sandbox.tradegecko_api``, rules in ``sandbox.tradegecko_store``).
- Webhooks and their signed notifications, retried with backoff (``sandbox.tradegecko_hooks``).

Assumptions here (more in the modules named above):
- 401 is ``{"type": "Unauthorized", "message"}`` with ``WWW-Authenticate: Bearer realm="Doorkeeper",
  error="invalid_token", error_description=...`` (TradeGecko ran Doorkeeper); the message says whether the
  token is unknown, expired or revoked.
- The rate limit is one fixed window per sandbox (the real one is per application and account), opened by
  the first counted request; requests refused with 401 are not counted. No ``Retry-After`` is sent (none is
  documented): clients must wait for ``X-Rate-Limit-Reset``. ``/oauth/*`` is neither limited nor counted
  and carries no rate headers; with ``rate_limit=None`` no rate headers are sent at all.
- Request bodies are read as JSON whatever the ``Content-Type`` (the token endpoint also takes a form).

Long because the sandbox's face (seeding, assertions, rate limit, dispatch) stays in one class;
the resources live in ``tradegecko_api``, OAuth in ``tradegecko_auth``, state in ``tradegecko_store``.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import defaultdict
from datetime import datetime
from decimal import Decimal
from typing import Any

from sandbox import tradegecko_data as data
from sandbox import tradegecko_orders
from sandbox.server import RecordedRequest, Response, Route, SandboxServer, route
from sandbox.tradegecko_api import ResourceApi, error_response
from sandbox.tradegecko_auth import TokenStore
from sandbox.tradegecko_hooks import TradeGeckoHooks
from sandbox.tradegecko_store import Store

DEFAULT_ADDRESS: dict[str, Any] = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "company_name": None,
    "address1": "12 Analytical Row",
    "address2": None,
    "suburb": None,
    "city": "Hoboken",
    "state": "NJ",
    "zip_code": "07030",
    "country": "US",
    "phone_number": "+1 201 555 0100",
    "email": "ada@example.com",
    "label": "Shipping",
}


class TradeGeckoSandbox(TradeGeckoHooks, SandboxServer):
    """One TradeGecko account on loopback; seed with ``add_variant``/``add_order``, ship with ``fulfil``."""

    persisted = ("store", "_default_company")

    def __init__(
        self,
        *,
        client_id: str = "sandbox-client",
        client_secret: str = "sandbox-secret",
        access_token: str | None = None,
        token_ttl: int = 7200,
        rate_limit: int | None = 300,
        rate_window: float = 300,
        port: int = 0,
    ) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.access_token = access_token or "sandbox-privileged-token"
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.store = Store()
        self.tokens = TokenStore(
            client_id=client_id, client_secret=client_secret, privileged_token=self.access_token, token_ttl=token_ttl
        )
        self._api = ResourceApi(self.store)
        self._window_reset: float | None = None
        self._window_count = 0
        self._default_company: int | None = None
        self.hooks_init()
        super().__init__(port=port)

    # -- seeding -----------------------------------------------------------------------------------

    @property
    def primary_location_id(self) -> int:
        """The account's primary stock location, created with the sandbox ("Main Warehouse")."""
        return self.store.primary_location_id

    def add_location(self, name: str) -> int:
        with self.lock:
            return self.store.add_location(name)

    def add_variant(
        self,
        sku: str,
        *,
        name: str | None = None,
        stock: int | Decimal = 0,
        location_id: int | None = None,
        price: str = "10.0",
    ) -> dict[str, Any]:
        """A variant (its own product) with ``stock`` on hand at ``location_id`` (the primary location)."""
        with self.lock:
            variant = self.store.add_variant(sku, name, data.decimal_str(price))
            location = location_id or self.store.primary_location_id
            self.store.on_hand[(variant["id"], location)] = Decimal(stock)
            return self._variant(variant["id"])

    def set_stock(self, sku: str, quantity: int | Decimal, location_id: int | None = None) -> None:
        """Put ``quantity`` on hand, as a stocktake in the TradeGecko app would (no stock adjustment recorded)."""
        with self.lock:
            key = (self._variant_by_sku(sku)["id"], location_id or self.store.primary_location_id)
            self.store.on_hand[key] = Decimal(quantity)

    def add_company(self, name: str = "Sandbox Customer", **fields: Any) -> dict[str, Any]:
        with self.lock:
            return data.public_copy(self.store.create_company({"name": name, "company_type": "consumer", **fields}))

    def add_address(self, company_id: int | None = None, **fields: Any) -> dict[str, Any]:
        """An address of ``company_id`` (default: the sandbox's default customer); unset fields are Ada's."""
        with self.lock:
            owner = company_id or self._customer()
            return data.public_copy(self.store.create_address(owner, {**DEFAULT_ADDRESS, **fields}))

    def add_order(
        self,
        order_number: str | None = None,
        *,
        reference_number: str | None = None,
        lines: list[dict[str, Any]] | None = None,
        shipping_method: str | None = "Standard",
        shipping_price: str = "5.0",
        shipping_address: dict[str, Any] | None = None,
        billing_address: dict[str, Any] | None = None,
        company_id: int | None = None,
        email: str | None = "ada@example.com",
        status: str = "active",
        fulfillment_status: str = "unshipped",
        stock_location_id: int | None = None,
        issued_at: datetime | None = None,
        created_at: datetime | None = None,
        updated_at: datetime | None = None,
        **raw_overrides: Any,
    ) -> dict[str, Any]:
        """An order as a merchant or a sales channel would create it; returns it as ``GET /orders/{id}`` would.

        ``lines``: ``{"sku" | "variant_id", "quantity", "price"?, "label"?}`` (an unknown SKU gets a new variant
        with no stock); ``shipping_method`` becomes a ``line_type: "shipping"`` line. ``fulfillment_status``
        ``shipped`` ships everything, ``partial`` one unit of the first line (no tracking). ``raw_overrides``
        replace top-level fields verbatim, after everything else.

        Long because of its keyword arguments, one per field a test may set.
        """
        if fulfillment_status not in data.SHIPPING_STATUSES:
            raise ValueError(f"fulfillment_status must be one of {data.SHIPPING_STATUSES}")
        specs = lines if lines is not None else [{"sku": "SKU-1", "quantity": 2, "price": "10.0"}]
        with self.lock:
            items = [self._line_body(spec) for spec in specs]
            if shipping_method:
                items.append(
                    {
                        "line_type": "shipping",
                        "label": shipping_method,
                        "quantity": 1,
                        "price": shipping_price,
                        "freeform": True,
                    }
                )
            owner = company_id or self._customer()
            body: dict[str, Any] = {
                "order_number": order_number,
                "reference_number": reference_number,
                "company_id": owner,
                "shipping_address": {**DEFAULT_ADDRESS, **(shipping_address or {})},
                "email": email,
                "issued_at": data.day(issued_at or created_at or data.now_utc()),
                "status": "active",
                "stock_location_id": stock_location_id,
                "order_line_items": items,
            }
            if billing_address is not None:
                body["billing_address"] = {**DEFAULT_ADDRESS, "label": "Billing", **billing_address}
            order = self.store.create_order(body, created_at)
            if fulfillment_status != "unshipped":
                self._seed_shipment(order, fulfillment_status)
            order["status"] = status
            order.update(raw_overrides)
            order["updated_at"] = data.timestamp(updated_at or created_at or data.now_utc())
            self.hooks_scan()
            return data.public_copy(order)

    def update_order(self, order_id: int, **fields: Any) -> dict[str, Any]:
        """Change fields verbatim, as a merchant editing in the app; ``updated_at`` moves to now unless given."""
        with self.lock:
            order = self.store.orders[order_id]
            moment = fields.pop("updated_at", None) or data.now_utc()
            order.update(fields)
            order["updated_at"] = data.timestamp(moment) if isinstance(moment, datetime) else moment
            self.hooks_scan()
            return data.public_copy(order)

    def advance(self, order_reference_or_id: int | str, stage: str) -> dict[str, Any]:
        """Move an order on at the warehouse: "picking" packs what is left (``tradegecko_orders``)."""
        with self.lock:
            order = self._order(order_reference_or_id)
            tradegecko_orders.advance(self.store, order, stage)
            return data.public_copy(order)

    def fulfil(
        self,
        order_reference_or_id: int | str,
        packages: list[dict[str, Any]] | None = None,
        shipped_at: datetime | None = None,
    ) -> list[dict[str, Any]]:
        """Ship as the warehouse does: one ``fulfilled`` fulfillment per package ``{"tracking_number",
        "tracking_company", "tracking_url"?, "service", "lines": [{"sku", "quantity"}]}``; without packages,
        everything left in one fulfillment without tracking. Returns the fulfillments."""
        with self.lock:
            order = self._order(order_reference_or_id)
            if packages is None:
                left = self.store.remaining(order)
                packages = [{"items": [{"order_line_item_id": i, "quantity": str(q)} for i, q in left.items() if q]}]
            created = []
            for package in packages:
                items = package.get("items") or self._items_for(order, package.get("lines") or [])
                body = {
                    "order_id": order["id"],
                    "status": "fulfilled",
                    "fulfillment_line_items": items,
                    **{name: package.get(name) for name in data.TRACKING_FIELDS if name in package},
                }
                fulfillment, _ = self.store.create_fulfillment(body, shipped_at)
                created.append(data.public_copy(fulfillment))
            return created

    # -- assertions --------------------------------------------------------------------------------

    @property
    def orders(self) -> list[dict[str, Any]]:
        with self.lock:
            return data.public_copy(sorted(self.store.orders.values(), key=lambda order: order["id"]))

    def order(self, order_reference_or_id: int | str) -> dict[str, Any]:
        with self.lock:
            return data.public_copy(self._order(order_reference_or_id))

    def order_lines(self, order_reference_or_id: int | str) -> list[dict[str, Any]]:
        """The order's line items, each with the variant's ``sku`` added (``None`` for freeform lines)."""
        with self.lock:
            order = self._order(order_reference_or_id)
            lines = [data.public_copy(self.store.lines[i]) for i in order["order_line_item_ids"]]
            for line in lines:
                line["sku"] = self.store.variants[line["variant_id"]]["sku"] if line["variant_id"] else None
            return lines

    def orders_by_reference(self) -> dict[str, list[dict[str, Any]]]:
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for order in self.orders:
            if order["reference_number"]:
                grouped[order["reference_number"]].append(order)
        return dict(grouped)

    def duplicate_count(self) -> int:
        """``reference_number``s stored more than once (across companies too): the number that must stay 0."""
        return sum(1 for orders in self.orders_by_reference().values() if len(orders) > 1)

    @property
    def fulfillments(self) -> list[dict[str, Any]]:
        with self.lock:
            return data.public_copy(sorted(self.store.fulfillments.values(), key=lambda record: record["id"]))

    @property
    def stock_adjustments(self) -> list[dict[str, Any]]:
        """Adjustments as created, each with its ``stock_adjustment_line_items`` embedded (for assertions)."""
        with self.lock:
            adjustments = data.public_copy(sorted(self.store.adjustments.values(), key=lambda record: record["id"]))
            for adjustment in adjustments:
                ids = adjustment["stock_adjustment_line_item_ids"]
                adjustment["stock_adjustment_line_items"] = [self.store.adjustment_lines[i] for i in ids]
            adjustments = data.public_copy(adjustments)
            return adjustments

    def variant_stock(self, sku: str, location_id: int | None = None) -> Decimal:
        """Stock on hand of the one variant with ``sku``, at ``location_id`` or across every location."""
        with self.lock:
            variant_id = self._variant_by_sku(sku)["id"]
            return sum(
                (
                    quantity
                    for (vid, loc), quantity in self.store.on_hand.items()
                    if vid == variant_id and location_id in (None, loc)
                ),
                start=Decimal(0),
            )

    @property
    def issued_tokens(self) -> list[dict[str, Any]]:
        with self.lock:
            return data.public_copy(self.tokens.issued)

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.expire_all()

    def revoke_all(self) -> None:
        with self.lock:
            self.tokens.revoke_all()

    def reset(self) -> None:
        """Also forget the rate-limit window and idempotency keys; seeded data and tokens stay."""
        with self.lock:
            super().reset()
            self._window_reset, self._window_count = None, 0
            self._api.forget_keys()

    # -- platform behaviour ------------------------------------------------------------------------

    def error_response(self, status: int, message: str, *, code: str | None = None) -> Response:
        return error_response(status, message, code)

    def truncated_body(self) -> bytes:
        return b'{"orders": [{"id": 1001, "order_number": "SO0001", "reference_number": "SQ-10'

    def routes(self) -> list[Route]:
        return [
            route("GET", r"/oauth/authorize/?", self.tokens.authorize_endpoint),
            route("POST", r"/oauth/token/?", self.tokens.token_endpoint),
            *self.hook_routes(),
            *self._api.routes(),
        ]

    def before_dispatch(self, request: RecordedRequest) -> Response | None:
        if request.path.startswith("/oauth/"):
            return None
        scheme, _, token = (request.header("Authorization") or "").partition(" ")
        problem = "No access token was given"
        if scheme.lower() == "bearer" and token.strip():
            problem = self.tokens.check(token.strip()) or ""
        if problem:
            response = error_response(401, problem)
            response.headers["WWW-Authenticate"] = (
                f'Bearer realm="Doorkeeper", error="invalid_token", error_description="{problem}"'
            )
            return response
        return self._rate_limited()

    def _dispatch(self, request: RecordedRequest) -> Response:
        response = super()._dispatch(request)
        with self.lock:
            self.hooks_scan()  # a write may have made or finalized an order: webhooks notified
            response.headers["X-Request-ID"] = str(uuid.uuid4())
            if not request.path.startswith("/oauth/"):
                response.headers.update(self._rate_headers())
        return response

    def _fault_response(self, fault: Any) -> Response:
        response = super()._fault_response(fault)
        response.headers.setdefault("X-Request-ID", str(uuid.uuid4()))
        return response

    def _rate_limited(self) -> Response | None:
        if self.rate_limit is None:
            return None
        now = time.time()
        if self._window_reset is None or now >= self._window_reset:
            self._window_reset, self._window_count = now + self.rate_window, 0
        if self._window_count >= self.rate_limit:
            return error_response(429, "Rate limit exceeded; retry after the time in X-Rate-Limit-Reset.")
        self._window_count += 1
        return None

    def _rate_headers(self) -> dict[str, str]:
        if self.rate_limit is None:
            return {}
        now = time.time()
        reset, used = self._window_reset, self._window_count
        if reset is None or now >= reset:
            reset, used = now + self.rate_window, 0
        return {
            "X-Rate-Limit-Limit": str(self.rate_limit),
            "X-Rate-Limit-Remaining": str(max(0, self.rate_limit - used)),
            "X-Rate-Limit-Reset": str(math.ceil(reset)),
        }

    # -- internals ---------------------------------------------------------------------------------

    def _customer(self) -> int:
        if self._default_company is None:
            self._default_company = self.store.create_company({"name": "Sandbox Customer", "company_type": "consumer"})[
                "id"
            ]
        return self._default_company

    def _variant(self, variant_id: int) -> dict[str, Any]:
        return next(view for view in self.store.variant_views() if view["id"] == variant_id)

    def _variant_by_sku(self, sku: str) -> dict[str, Any]:
        matches = [variant for variant in self.store.variants.values() if variant["sku"] == sku]
        if len(matches) != 1:
            raise ValueError(f"{len(matches)} variants have SKU {sku!r}; use variant ids")
        return matches[0]

    def _line_body(self, spec: dict[str, Any]) -> dict[str, Any]:
        variant_id = spec.get("variant_id")
        if variant_id is None:
            known = [v for v in self.store.variants.values() if v["sku"] == spec["sku"]]
            variant_id = known[0]["id"] if len(known) == 1 else None
            if not known:
                variant_id = self.store.add_variant(spec["sku"], spec.get("label"), "10.0")["id"]
            if variant_id is None:
                raise ValueError(f"SKU {spec['sku']!r} is not unique; give variant_id")
        return {
            "variant_id": variant_id,
            "quantity": spec.get("quantity", 1),
            "price": spec.get("price", "10.0"),
            "label": spec.get("label") or self.store.variants[variant_id]["name"],
        }

    def _order(self, reference_or_id: int | str) -> dict[str, Any]:
        if isinstance(reference_or_id, int):
            return self.store.orders[reference_or_id]
        for field in ("reference_number", "order_number"):
            for order in self.store.orders.values():
                if order[field] == reference_or_id:
                    return order
        raise KeyError(reference_or_id)

    def _items_for(self, order: dict[str, Any], lines: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Spread ``[{"sku", "quantity"}]`` over the order's lines of that SKU that still have quantity left."""
        left = self.store.remaining(order)
        items = []
        for wanted in lines:
            need = Decimal(wanted["quantity"])
            for line_id, quantity in left.items():
                line = self.store.lines[line_id]
                if need <= 0 or quantity <= 0 or self.store.variants[line["variant_id"]]["sku"] != wanted["sku"]:
                    continue
                take = min(need, quantity)
                items.append({"order_line_item_id": line_id, "quantity": str(take)})
                left[line_id] -= take
                need -= take
            if need > 0:
                raise ValueError(f"order {order['order_number']} has not {wanted['quantity']} of {wanted['sku']} left")
        return items

    def _seed_shipment(self, order: dict[str, Any], fulfillment_status: str) -> None:
        left = [(i, q) for i, q in self.store.remaining(order).items() if q > 0]
        if fulfillment_status == "partial":
            if not left or sum(q for _, q in left) <= 1:
                raise ValueError("a partial order needs more than one unit")
            left = [(left[0][0], Decimal(1))]
        items = [{"order_line_item_id": i, "quantity": str(q)} for i, q in left]
        self.store.create_fulfillment({"order_id": order["id"], "status": "fulfilled", "fulfillment_line_items": items})
