"""Overstock Supplier Oasis sandbox: sales orders, ship confirmations and (guessed) inventory, in XML.

Overstock publishes no API documentation; this emulator follows what integrators' code shows (ShipWorks,
a Java client, a PHP script; see /work/shared/platforms.md), independently of ``integrations/connectors``:
- HTTP Basic with the API username and password on every call; otherwise 401 with
  ``WWW-Authenticate: Basic realm="api.supplieroasis.com"`` and an empty body.
- ``GET /salesorders?startTime=…&endTime=…``: the orders whose ``sofsCreatedDate`` lies in the window,
  both ends inclusive, oldest first, no paging (ShipWorks adds a second to each window start, which only
  makes sense with inclusive ends). An empty window (start = end) is fine: ShipWorks tests credentials so.
- ``POST /shipments`` with a ``supplierShipmentMessage`` of ``supplierShipment`` elements, one per order
  line. Shapes and namespaces of everything written: ``sandbox/overstock_xml.py``.
- A literal body ``null`` with status 200 happens ("Overstock sometimes returns null", ShipWorks);
  ``null_body_next()`` injects it.

Assumptions where integrators' code is silent (the connector must not rely on more than this):
- The window may span at most ``max_window`` (1 hour: ShipWorks walks one-hour windows); a longer or reversed
  window (``INVALID_TIME_RANGE``), a missing (``MISSING_PARAMETER``) or unparsable time (``INVALID_TIME``)
  is 400. Changes after creation (a cancelled line, a shipment) do not bring
  an order into a later window: only re-reading its creation window shows them. Unknown query parameters
  are ignored (no integrator filters by order number).
- Request bodies must be ``application/xml`` (415 otherwise; one integrator sends ``text/xml``, unconfirmed
  whether that works). A shipment message is all-or-nothing: any invalid ``supplierShipment`` makes the
  whole message 400 with one ``error`` per problem (codes ``INVALID_ORDER``, ``INVALID_LINE``,
  ``INVALID_SALES_CHANNEL``, ``INVALID_WAREHOUSE``, ``INVALID_QUANTITY``, ``QUANTITY_EXCEEDS_REMAINING``,
  ``LINE_CANCELLED``, ``INVALID_CARRIER``, ``MISSING_TRACKING_NUMBER``, ``INVALID_SHIP_DATE``,
  ``INVALID_SERVICE_LEVEL``, ``MISSING_FIELD``, ``MALFORMED_XML``). ``salesChannelName`` and
  ``warehouse/code`` must equal the order's; codes are case-sensitive; ``shipDate`` (default: now) and
  ``serviceLevel`` are optional. A resent confirmation for a fully shipped line is
  ``QUANTITY_EXCEEDS_REMAINING``: there is no idempotency key. Success answers ``shipment_ack_status``
  (200; ShipWorks accepts 200, 201, 202 and 204) with an acknowledgement per line.
- Inventory: no endpoint was found anywhere. ``POST {inventory_path}`` (``/inventory``) takes
  ``inventoryUpdateMessage`` of ``inventoryUpdate {salesChannelSKU, warehouse/code, quantity}``, keyed on
  the OptionSku as CartRover does; it answers 200 with one result per item, an unknown OptionSku or
  warehouse or a bad quantity being an ``ERROR`` for that item only. Known OptionSkus: those of seeded
  orders and of ``add_product``.
- Errors are XML (``errorResponse``); a 5xx is an HTML page, as a Java servlet container writes one.

Long because the emulated contract (orders, acknowledgements, shipments, inventory) reads in
one class; XML parsing and writing live in ``overstock_xml``, record shapes in ``overstock_data``.
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from xml.etree.ElementTree import Element

from sandbox import overstock_data as data
from sandbox import overstock_xml as xml
from sandbox.server import RecordedRequest, Response, Route, SandboxServer, route

XML_CONTENT_TYPE = "application/xml"
REALM = "api.supplieroasis.com"
_DEFAULT_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    415: "UNSUPPORTED_MEDIA_TYPE",
    429: "TOO_MANY_REQUESTS",
}


_COUNT = re.compile(r"[0-9]{1,9}")


def _count(text: str | None) -> int | None:
    """A whole number written in ASCII digits (``str.isdigit`` also takes "²", which ``int`` refuses)."""
    return int(text) if text is not None and _COUNT.fullmatch(text) else None


def _xml(status: int, body: bytes) -> Response:
    return Response(status, body, {"Content-Type": XML_CONTENT_TYPE})


class OverstockSandbox(SandboxServer):
    """Supplier Oasis on loopback; seed with ``add_order``, assert with ``shipments_for`` and ``inventory_updates``."""

    persisted = ("orders", "catalog", "inventory", "inventory_updates", "_next_line_id", "_next_shipment")

    def __init__(
        self,
        username: str = "sandbox-user",
        password: str = "sandbox-pass",
        *,
        warehouses: tuple[str, ...] = ("Main Warehouse",),
        sales_channel: str = "OSTK",
        list_wrapper: bool = False,
        inventory_path: str = "/inventory",
        max_window: timedelta = timedelta(hours=1),
        shipment_ack_status: int = 200,
        port: int = 0,
    ) -> None:
        self.username = username
        self.password = password
        self.warehouses = tuple(warehouses)
        self.sales_channel = sales_channel
        self.list_wrapper = list_wrapper
        self.inventory_path = inventory_path
        self.max_window = max_window
        self.shipment_ack_status = shipment_ack_status
        self.orders: dict[str, data.Order] = {}
        # OptionSku -> partner SKU: what the inventory endpoint knows.
        self.catalog: dict[str, str] = {}
        self.inventory: dict[tuple[str, str], int] = {}
        self.inventory_updates: list[dict[str, Any]] = []
        self._next_line_id = 5001
        self._next_shipment = 1
        super().__init__(port=port)

    # -- seeding and assertions --------------------------------------------------------------------

    def add_order(
        self,
        order_number: str = "OS-1001",
        order_date: datetime | None = None,
        lines: list[dict[str, Any]] | None = None,
        ship_to: dict[str, Any] | None = None,
        carrier: str = "UPS",
        service_level: str = "GROUND",
        warehouse: str | None = None,
        created: datetime | None = None,
        *,
        sales_channel: str | None = None,
    ) -> data.Order:
        """An order as Supplier Oasis would list it; naive datetimes are UTC, ``created`` defaults to now and
        ``order_date`` to ``created``. ``lines`` items: ``{"partner_sku", "option_sku", "quantity",
        "item_name", "unit_cost", "status": "OPEN"|"CANCELLED"}``; ``ship_to`` takes API field names."""
        warehouse = warehouse or self.warehouses[0]
        if warehouse not in self.warehouses:
            raise ValueError(f"unknown warehouse {warehouse!r}; this sandbox has {self.warehouses}")
        created_at = data.aware(created) if created else data.now()
        with self.lock:
            if order_number in self.orders:
                raise ValueError(f"order {order_number!r} already exists")
            specs = lines if lines is not None else [{}]
            order = data.Order(
                number=order_number,
                order_id=len(self.orders) + 70001,
                sales_channel=sales_channel or self.sales_channel,
                order_date=data.aware(order_date) if order_date else created_at,
                created=created_at,
                warehouse=warehouse,
                ship_to=data.build_ship_to(ship_to),
                carrier=carrier,
                service_level=service_level,
                lines=data.build_lines(specs, self._next_line_id),
            )
            self._next_line_id += len(order.lines)
            for line in order.lines:
                self.catalog.setdefault(line.option_sku, line.partner_sku)
            self.orders[order_number] = order
            return order

    def add_product(self, option_sku: str, partner_sku: str | None = None) -> None:
        """An OptionSku the inventory endpoint accepts without any order for it."""
        with self.lock:
            self.catalog[option_sku] = partner_sku or option_sku

    def cancel_line(self, order_number: str, line_number: int) -> data.Line:
        """Cancel a line on Overstock's side: it reads ``CANCELLED`` and can no longer be confirmed."""
        with self.lock:
            line = self.orders[order_number].line(line_number)
            if line is None:
                raise KeyError(f"order {order_number!r} has no line {line_number}")
            line.cancelled = True
            return line

    def shipments_for(self, order_number: str) -> list[dict[str, Any]]:
        """Every accepted confirmation of the order, in the order received."""
        with self.lock:
            order = self.orders[order_number]
            found = sorted((c for line in order.lines for c in line.confirmations), key=lambda c: c.shipment_id)
            return [confirmation.as_dict() for confirmation in found]

    def tracking_duplicate_count(self) -> int:
        """Tracking numbers confirmed more than once for the same line: the number that must stay 0."""
        with self.lock:
            keys = Counter(
                (order.number, line.number, confirmation.tracking_number)
                for order in self.orders.values()
                for line in order.lines
                for confirmation in line.confirmations
            )
            return sum(1 for count in keys.values() if count > 1)

    def null_body_next(
        self, count: int = 1, *, path_contains: str = "", method: str | None = None, status: int = 200
    ) -> None:
        """Answer the next ``count`` matching requests with the literal body ``null`` (not processed)."""
        self.fail_next(count, status=status, path_contains=path_contains, method=method, body=b"null")

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        path_contains: str = "",
        method: str | None = None,
        body: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        mode: str = "status",
        delay: float = 5.0,
    ) -> None:
        """As the base class; an injected or truncated body is labelled ``application/xml`` unless ``headers``
        say otherwise (this API answers XML, not JSON)."""
        if body is not None or mode == "truncated":
            headers = {"Content-Type": XML_CONTENT_TYPE, **(headers or {})}
        super().fail_next(
            count,
            status=status,
            path_contains=path_contains,
            method=method,
            body=body,
            headers=headers,
            mode=mode,
            delay=delay,
        )

    # -- platform behaviour ------------------------------------------------------------------------

    def error_response(
        self, status: int, message: str, *, code: str | None = None, **context: str | int | None
    ) -> Response:
        if status >= 500:
            page = (
                f"<html><head><title>Error</title></head><body><h1>HTTP Status {status}</h1>"
                f"<p>{html.escape(message)}</p></body></html>"
            )
            return Response(status, page.encode(), {"Content-Type": "text/html;charset=utf-8"})
        return _xml(status, xml.errors_document([(code or _DEFAULT_CODES.get(status, "ERROR"), message, context)]))

    def truncated_body(self) -> bytes:
        return (
            b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><ns2:processedSalesOrderMessage '
            b'xmlns:ns2="api.supplieroasis.com"><processedSalesOrder><ns2:salesChannelName>Overs'
        )

    def routes(self) -> list[Route]:
        return [
            route("GET", r"/salesorders", self._sales_orders),
            route("POST", r"/shipments", self._shipments),
            route("POST", re.escape(self.inventory_path), self._inventory),
        ]

    def before_dispatch(self, request: RecordedRequest) -> Response | None:
        if not self._authenticated(request):
            return Response(401, b"", {"WWW-Authenticate": f'Basic realm="{REALM}"'})
        if request.body:
            content_type = (request.header("Content-Type") or "").split(";")[0].strip().lower()
            if content_type != XML_CONTENT_TYPE:
                return self.error_response(415, f"Send {XML_CONTENT_TYPE}, not {content_type or 'nothing'}.")
        return None

    def _authenticated(self, request: RecordedRequest) -> bool:
        scheme, _, encoded = (request.header("Authorization") or "").partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            username, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return (username, password) == (self.username, self.password)

    # -- orders ------------------------------------------------------------------------------------

    def _sales_orders(self, request: RecordedRequest, match: Any) -> Response:
        bounds = []
        for name in ("startTime", "endTime"):
            raw = request.param(name)
            if not raw:
                return self.error_response(400, f"{name} is required.", code="MISSING_PARAMETER", field=name)
            try:
                bounds.append(data.parse_oasis_time(raw))
            except ValueError:
                return self.error_response(
                    400, f"{name} {raw!r} is not an ISO 8601 time.", code="INVALID_TIME", field=name
                )
        start, end = bounds
        if end < start:
            return self.error_response(400, "endTime is before startTime.", code="INVALID_TIME_RANGE")
        if end - start > self.max_window:
            return self.error_response(
                400, f"The time range may span at most {self.max_window}.", code="INVALID_TIME_RANGE"
            )
        selected = sorted(
            (order for order in self.orders.values() if start <= order.created <= end),
            key=lambda order: (order.created, order.order_id),
        )
        return _xml(200, xml.orders_document(selected, list_wrapper=self.list_wrapper))

    # -- shipments ---------------------------------------------------------------------------------

    def _message_items(self, request: RecordedRequest, root_name: str, item_name: str) -> list[Element] | Response:
        try:
            root = xml.parse(request.body)
        except xml.XmlError as exc:
            return self.error_response(400, str(exc), code="MALFORMED_XML")
        if xml.local_name(root) != root_name:
            return self.error_response(
                400, f"The root element must be {root_name}, not {xml.local_name(root)}.", code="MALFORMED_XML"
            )
        items = xml.children(root, item_name)
        if not items:
            return self.error_response(400, f"{root_name} holds no {item_name}.", code="MISSING_FIELD")
        return items

    def _shipments(self, request: RecordedRequest, match: Any) -> Response:
        items = self._message_items(request, "supplierShipmentMessage", "supplierShipment")
        if isinstance(items, Response):
            return items
        received_at = data.now()
        pending: dict[tuple[str, int], int] = defaultdict(int)
        accepted: list[tuple[data.Line, data.Confirmation]] = []
        errors: list[xml.ErrorDetail] = []
        for index, item in enumerate(items, start=1):
            checked, problems = self._check_shipment(item, index, pending, received_at)
            errors.extend(problems)
            if checked is not None:
                accepted.append(checked)
        if errors:
            return _xml(400, xml.errors_document(errors))
        for line, confirmation in accepted:
            confirmation.shipment_id = f"SHP-{self._next_shipment:06d}"
            self._next_shipment += 1
            line.confirmations.append(confirmation)
        if self.shipment_ack_status == 204:
            return Response(204)
        return _xml(self.shipment_ack_status, xml.shipment_acknowledgement([c for _, c in accepted]))

    def _check_shipment(
        self, item: Element, index: int, pending: dict[tuple[str, int], int], received_at: datetime
    ) -> tuple[tuple[data.Line, data.Confirmation] | None, list[xml.ErrorDetail]]:
        """One ``supplierShipment``: the line and its confirmation, or every problem found with it."""
        number = xml.text(item, "salesChannelOrderNumber")
        line_raw = xml.text(item, "salesChannelLineNumber")
        context: dict[str, str | int | None] = {
            "index": index,
            "salesChannelOrderNumber": number,
            "salesChannelLineNumber": line_raw,
        }

        def problem(code: str, message: str) -> xml.ErrorDetail:
            return code, message, context

        order = self.orders.get(number or "")
        if order is None:
            return None, [problem("INVALID_ORDER", f"Unknown salesChannelOrderNumber {number!r}.")]
        line_number = _count(line_raw)
        line = order.line(line_number) if line_number is not None else None
        if line is None:
            return None, [problem("INVALID_LINE", f"Order {number} has no salesChannelLineNumber {line_raw!r}.")]
        problems = []
        channel = xml.text(item, "salesChannelName")
        if channel != order.sales_channel:
            problems.append(
                problem(
                    "INVALID_SALES_CHANNEL", f"salesChannelName {channel!r} is not the order's ({order.sales_channel})."
                )
            )
        warehouse = xml.text(item, "warehouse", "code")
        if warehouse != order.warehouse:
            problems.append(
                problem("INVALID_WAREHOUSE", f"warehouse code {warehouse!r} is not the order's ({order.warehouse}).")
            )
        confirmation = xml.child(item, "supplierShipConfirmation")
        if confirmation is None:
            return None, [*problems, problem("MISSING_FIELD", "supplierShipConfirmation is required.")]
        key = (order.number, line.number)
        confirmed = self._confirmation(
            confirmation,
            order.number,
            line,
            line.remaining - pending[key],
            received_at,
            lambda code, message: problems.append(problem(code, message)),
        )
        if problems:
            return None, problems
        pending[key] += confirmed.quantity
        return (line, confirmed), []

    def _confirmation(
        self,
        confirmation: Element,
        order_number: str,
        line: data.Line,
        left: int,
        received_at: datetime,
        report: Callable[[str, str], None],
    ) -> data.Confirmation:
        """A ``supplierShipConfirmation`` of ``line`` (``left``: what it has still to ship, this message's
        earlier shipments counted), each problem with it reported with its code and message."""
        quantity_raw = xml.text(confirmation, "quantity")
        quantity = _count(quantity_raw) or 0
        if quantity < 1:
            report("INVALID_QUANTITY", f"quantity {quantity_raw!r} is not a positive integer.")
        elif line.cancelled:
            report("LINE_CANCELLED", f"Line {line.number} of order {order_number} is cancelled.")
        elif quantity > left:
            message = f"quantity {quantity} exceeds the {left} left to ship on line {line.number}."
            report("QUANTITY_EXCEEDS_REMAINING", message)
        carrier = xml.text(confirmation, "carrier", "code")
        if carrier not in data.CARRIER_CODES:
            report("INVALID_CARRIER", f"Unknown carrier code {carrier!r}.")
        tracking = xml.text(confirmation, "trackingNumber")
        if tracking is None:
            report("MISSING_TRACKING_NUMBER", "trackingNumber is required.")
        ship_date = received_at
        ship_date_raw = xml.text(confirmation, "shipDate")
        if ship_date_raw is not None:
            try:
                ship_date = data.parse_oasis_time(ship_date_raw)
            except ValueError:
                report("INVALID_SHIP_DATE", f"shipDate {ship_date_raw!r} is not ISO 8601.")
        service_level = xml.text(confirmation, "serviceLevel", "code")
        if service_level is not None and service_level not in data.SERVICE_LEVELS:
            report("INVALID_SERVICE_LEVEL", f"Unknown service level code {service_level!r}.")
        return data.Confirmation(
            order_number=order_number,
            line_number=line.number,
            quantity=quantity,
            carrier=str(carrier),
            tracking_number=str(tracking),
            ship_date=ship_date,
            service_level=service_level,
            shipment_id="",
            confirmed_at=received_at,
        )

    # -- inventory (endpoint and shapes guessed) ---------------------------------------------------

    def _inventory(self, request: RecordedRequest, match: Any) -> Response:
        items = self._message_items(request, "inventoryUpdateMessage", "inventoryUpdate")
        if isinstance(items, Response):
            return items
        received_at = data.now()
        results = []
        for item in items:
            sku = xml.text(item, "salesChannelSKU")
            warehouse = xml.text(item, "warehouse", "code")
            quantity_raw = xml.text(item, "quantity")
            quantity = _count(quantity_raw)
            code, message = None, None
            if sku is None:
                code, message = "MISSING_FIELD", "salesChannelSKU (the OptionSku) is required."
            elif sku not in self.catalog:
                code, message = "UNKNOWN_SKU", f"Unknown OptionSku {sku!r}."
            elif warehouse not in self.warehouses:
                code, message = "INVALID_WAREHOUSE", f"Unknown warehouse code {warehouse!r}."
            elif quantity is None:
                code, message = "INVALID_QUANTITY", f"quantity {quantity_raw!r} is not an integer of 0 or more."
            else:
                self.inventory[(sku, str(warehouse))] = quantity
                self.inventory_updates.append(
                    {"option_sku": sku, "warehouse": warehouse, "quantity": quantity, "received_at": received_at}
                )
            results.append(
                {"sku": sku, "warehouse": warehouse, "quantity": quantity_raw, "code": code, "message": message}
            )
        return _xml(200, xml.inventory_results(results))
