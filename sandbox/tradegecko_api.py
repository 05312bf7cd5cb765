"""TradeGecko's REST resources over the sandbox's store: root-keyed JSON in and out, index filters and paging.

As documented: lists are ``{"orders": [...]}`` with the ``X-Pagination`` header, one record is
``{"order": {...}}``, writes send ``{"order": {...}}``, updates (PUT) answer 204, validation errors are 422
``{"errors": {field: [...]}}``, and ``Idempotency-Key`` is accepted on POST and PUT.

Assumptions where the docs are silent:
- Other errors are ``{"type": "NotFound", "message": "..."}`` (type from the status); a body that is not a
  JSON object with the resource's root key is 400, as Rails' ``params.require`` answers.
- Creating answers 201 with the record root-keyed; ``POST /fulfillments`` and ``POST /stock_adjustments``
  side-load their line items (``fulfillment_line_items``, ``stock_adjustment_line_items``) as the docs'
  examples do (the stock adjustment example's root ``stock_adjustments`` looks like a typo; we answer
  ``stock_adjustment``). ``GET /fulfillments/{id}`` side-loads its line items too.
- ``POST /orders/{id}/actions/fulfil`` ships packed fulfillments and everything not yet in one, and
  answers 200 ``{"order": {...}}``. Its fields are named in the docs but not its envelope: it reads them
  flat only, and a body that wraps them (``{"fulfillment": {...}}``) ships without tracking, as a platform
  reading them elsewhere would (so a client relying on a guessed envelope shows up in the store).
  Tracking is stored only from a fulfillment's documented fields (``POST``/``PUT /fulfillments``).
- An ``Idempotency-Key`` seen in the last 24 h with the same method, path and body replays the first 2xx
  answer (marked ``Idempotent-Replayed: true``) without applying the request again; with another request it
  is 422 ``{"errors": {"idempotency_key": [...]}}``. Refused requests (4xx) do not use up a key.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from typing import Any

from sandbox import tradegecko_data as data
from sandbox.server import RecordedRequest, Response, Route, json_response, route
from sandbox.tradegecko_data import BadRequest, Invalid
from sandbox.tradegecko_orders import LineApi, check_order_change
from sandbox.tradegecko_store import Store

IDEMPOTENCY_TTL = 24 * 3600

_ERROR_TYPES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    422: "UnprocessableEntity",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
}
_TIMES = {
    "updated_at_min": ("updated_at", "min"),
    "updated_at_max": ("updated_at", "max"),
    "created_at_min": ("created_at", "min"),
    "created_at_max": ("created_at", "max"),
}
_FILTERS: dict[str, dict[str, tuple[str, str]]] = {
    "orders": {
        "status": ("status", "in"),
        "fulfillment_status": ("fulfillment_status", "in"),
        "packed_status": ("packed_status", "in"),
        "payment_status": ("payment_status", "in"),
        "invoice_status": ("invoice_status", "in"),
        "company_id": ("company_id", "eq"),
        "stock_location_id": ("stock_location_id", "eq"),
        "reference_number": ("reference_number", "eq"),
        "order_number": ("order_number", "eq"),
        **_TIMES,
    },
    "order_line_items": {
        "order_id": ("order_id", "eq"),
        "variant_id": ("variant_id", "eq"),
        "line_type": ("line_type", "in"),
        **_TIMES,
    },
    "variants": {"sku": ("sku", "eq"), "product_id": ("product_id", "eq"), "status": ("status", "in"), **_TIMES},
    "addresses": {"company_id": ("company_id", "eq"), **_TIMES},
    "companies": {
        "company_type": ("company_type", "in"),
        "status": ("status", "in"),
        "email": ("email", "eq"),
        **_TIMES,
    },
    "locations": {"status": ("status", "in")},
    "fulfillments": {
        "order_id": ("order_id", "eq"),
        "status": ("status", "in"),
        "stock_location_id": ("stock_location_id", "eq"),
        "shipped_at_min": ("shipped_at", "min"),
        "shipped_at_max": ("shipped_at", "max"),
        **_TIMES,
    },
    "fulfillment_line_items": {
        "fulfillment_id": ("fulfillment_id", "eq"),
        "order_line_item_id": ("order_line_item_id", "eq"),
    },
    "stock_adjustments": {
        "stock_location_id": ("stock_location_id", "eq"),
        "adjustment_number": ("adjustment_number", "eq"),
        **_TIMES,
    },
}
_ROOTS = {
    "orders": "order",
    "order_line_items": "order_line_item",
    "variants": "variant",
    "addresses": "address",
    "companies": "company",
    "locations": "location",
    "fulfillments": "fulfillment",
    "fulfillment_line_items": "fulfillment_line_item",
    "stock_adjustments": "stock_adjustment",
}

Handler = Callable[[RecordedRequest, "re.Match[str]"], Response]


class NotFound(Exception):
    """No record with that id: 404."""


def error_response(status: int, message: str, code: str | None = None) -> Response:
    return json_response(status, {"type": code or _ERROR_TYPES.get(status, "Error"), "message": message})


def _root(request: RecordedRequest, key: str) -> dict[str, Any]:
    body = request.json
    if not isinstance(body, dict) or not isinstance(body.get(key), dict):
        raise BadRequest(f"param is missing or the value is empty: {key}")
    return body[key]


class ResourceApi:
    """The handlers of every REST resource; ``routes()`` is the sandbox's table minus OAuth."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._keys: dict[str, tuple[float, str, Response]] = {}

    def routes(self) -> list[Route]:
        table = [
            route("GET", r"/accounts/current/?", self._current("account")),
            route("GET", r"/users/current/?", self._current("user")),
            route("POST", r"/orders/?", self._idempotent(self._create_order)),
            route("PUT", r"/orders/(?P<id>\d+)/?", self._idempotent(self._update_order)),
            route("POST", r"/orders/(?P<id>\d+)/actions/fulfil/?", self._idempotent(self._fulfil)),
            route("POST", r"/fulfillments/?", self._idempotent(self._create_fulfillment)),
            route("PUT", r"/fulfillments/(?P<id>\d+)/?", self._idempotent(self._update_fulfillment)),
            route("POST", r"/stock_adjustments/?", self._idempotent(self._adjust_stock)),
            route("POST", r"/companies/?", self._idempotent(self._create_company)),
            route("POST", r"/addresses/?", self._idempotent(self._create_address)),
            *LineApi(self.store, NotFound).routes(self._idempotent),
        ]
        for plural in _ROOTS:
            table.append(route("GET", rf"/{plural}/?", self._lister(plural)))
            table.append(route("GET", rf"/{plural}/(?P<id>\d+)/?", self._getter(plural)))
        return table

    def forget_keys(self) -> None:
        self._keys.clear()

    # -- reads ---------------------------------------------------------------------------------------

    def _records(self, plural: str) -> list[dict[str, Any]]:
        store = self.store
        if plural == "variants":
            return store.variant_views()
        source = {
            "orders": store.orders,
            "order_line_items": store.lines,
            "addresses": store.addresses,
            "companies": store.companies,
            "locations": store.locations,
            "fulfillments": store.fulfillments,
            "fulfillment_line_items": store.fulfillment_lines,
            "stock_adjustments": store.adjustments,
        }[plural]
        return list(source.values())

    def _sideload(self, plural: str, records: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        if plural == "fulfillments":
            ids = [i for record in records for i in record["fulfillment_line_item_ids"]]
            return {"fulfillment_line_items": [self.store.fulfillment_lines[i] for i in ids]}
        if plural == "stock_adjustments":
            ids = [i for record in records for i in record["stock_adjustment_line_item_ids"]]
            return {"stock_adjustment_line_items": [self.store.adjustment_lines[i] for i in ids]}
        return {}

    def _lister(self, plural: str) -> Handler:
        def handler(request: RecordedRequest, match: re.Match[str]) -> Response:
            limit, page = data.paging(request.query)
            selected = data.filter_records(self._records(plural), request.query, _FILTERS[plural])
            records, pagination = data.page_of(selected, limit, page)
            body: dict[str, Any] = {plural: records}
            if plural == "stock_adjustments":
                body.update(self._sideload(plural, records))
            headers = {"X-Pagination": json.dumps(pagination)}
            return json_response(200, data.public_copy(body), headers=headers)

        return self._guarded(handler)

    def _getter(self, plural: str) -> Handler:
        def handler(request: RecordedRequest, match: re.Match[str]) -> Response:
            record = self._find(plural, match)
            body = {_ROOTS[plural]: record, **self._sideload(plural, [record])}
            return json_response(200, data.public_copy(body))

        return self._guarded(handler)

    def _find(self, plural: str, match: re.Match[str]) -> dict[str, Any]:
        wanted = int(match["id"])
        for record in self._records(plural):
            if record["id"] == wanted:
                return record
        raise NotFound(f"Couldn't find {_ROOTS[plural].replace('_', ' ').title().replace(' ', '')} with 'id'={wanted}")

    def _current(self, kind: str) -> Handler:
        def handler(request: RecordedRequest, match: re.Match[str]) -> Response:
            return json_response(200, {kind: data.public_copy(getattr(self.store, kind))})

        return handler

    # -- writes --------------------------------------------------------------------------------------

    def _create_order(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        order = self.store.create_order(_root(request, "order"))
        return json_response(201, {"order": data.public_copy(order)})

    def _update_order(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        order = self._find("orders", match)
        changes = _root(request, "order")
        check_order_change(self.store, order, changes)
        self.store.update_order(order, changes)
        return Response(204)

    def _fulfil(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        order = self._find("orders", match)
        fields = request.json if isinstance(request.json, dict) else {}
        self.store.fulfil_order(
            order, {name: fields[name] for name in (*data.TRACKING_FIELDS, "shipped_at") if name in fields}
        )
        return json_response(200, {"order": data.public_copy(order)})

    def _create_fulfillment(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        fulfillment, items = self.store.create_fulfillment(_root(request, "fulfillment"))
        return json_response(201, data.public_copy({"fulfillment": fulfillment, "fulfillment_line_items": items}))

    def _update_fulfillment(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        fulfillment = self._find("fulfillments", match)
        self.store.update_fulfillment(fulfillment, _root(request, "fulfillment"))
        return Response(204)

    def _adjust_stock(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        adjustment, lines = self.store.adjust_stock(_root(request, "stock_adjustment"))
        body = {"stock_adjustment": adjustment, "stock_adjustment_line_items": lines}
        return json_response(201, data.public_copy(body))

    def _create_company(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        company = self.store.create_company(_root(request, "company"))
        return json_response(201, {"company": data.public_copy(company)})

    def _create_address(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        fields = _root(request, "address")
        company_id = data.as_id(fields.get("company_id"))
        address = self.store.create_address(company_id if company_id is not None else -1, fields)
        return json_response(201, {"address": data.public_copy(address)})

    # -- wrappers ------------------------------------------------------------------------------------

    def _guarded(self, handler: Handler) -> Handler:
        """Turn the store's exceptions into TradeGecko's answers: 400, 404 and 422."""

        def wrapped(request: RecordedRequest, match: re.Match[str]) -> Response:
            try:
                return handler(request, match)
            except BadRequest as exc:
                return error_response(400, str(exc))
            except NotFound as exc:
                return error_response(404, str(exc))
            except Invalid as exc:
                return json_response(422, {"errors": exc.errors})

        return wrapped

    def _idempotent(self, handler: Handler) -> Handler:
        guarded = self._guarded(handler)

        def wrapped(request: RecordedRequest, match: re.Match[str]) -> Response:
            key = request.header("Idempotency-Key")
            if not key:
                return guarded(request, match)
            now = time.monotonic()
            self._keys = {k: entry for k, entry in self._keys.items() if entry[0] > now}
            fingerprint = hashlib.sha256(f"{request.method} {request.path}\n".encode() + request.body).hexdigest()
            seen = self._keys.get(key)
            if seen is not None:
                if seen[1] != fingerprint:
                    errors = {"idempotency_key": ["was already used for a different request"]}
                    return json_response(422, {"errors": errors})
                first = seen[2]
                return Response(first.status, first.body, {**first.headers, "Idempotent-Replayed": "true"})
            response = guarded(request, match)
            if 200 <= response.status < 300:
                stored = Response(response.status, response.body, dict(response.headers))
                self._keys[key] = (now + IDEMPOTENCY_TTL, fingerprint, stored)
            return response

        return wrapped
