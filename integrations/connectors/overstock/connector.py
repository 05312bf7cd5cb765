"""Overstock Supplier Oasis as a cart (a marketplace): orders in, tracking and stock levels out.

Overstock publishes no API documentation; this follows what independent integrators agree on
(ShipWorks and others, see ../shared/platforms.md). XML over HTTP Basic with the API username and
password, `Accept`/`Content-Type: application/xml`, at https://api.supplieroasis.com (Overstock's
test host is https://api.test.supplieroasis.com). Bodies are read and written by the pure
functions in `xml` (safe, namespace-tolerant parsing), `wire` (orders) and `writes` (ship
confirmations, stock); this module holds the paths, the session and what each answer means.

Orders: `GET /salesorders?startTime=…&endTime=…` (ISO 8601, UTC). No paging has been seen, so the
range is walked in consecutive windows of the connection's "window hours" (one hour by default, as
integrators do), one request and one page per window. Overstock cannot be asked for open orders
only: `open_only` is not sent, and the pipeline skips what was shipped before it first saw it.
Orders for another of the supplier's warehouses come back skipped, with the reason. Windows seem to
select orders by when Overstock created them, so a change made at Overstock after an order's window
was read (a line cancelled later) is not seen by the next runs: the pipeline reads the windows of
its orders not yet shipped again once a day (`lists_by_creation`).

Tracking: `POST /shipments`, one confirmation per order line shipped. The POST is never resent by
the HTTP client; the pipeline asks `existing_tracking_numbers` first (and again to read a push
back). Overstock has no documented way to read one order, so the order is found again in the
confirmed listing of the hours around its order date, whose lines carry their ship confirmations;
an order whose date is not known is said to be unreadable rather than guessed at. A lookup by
number (`GET /salesorders?salesChannelOrderNumber=…`) is unconfirmed: it is asked first only when a
person turned it on for the connection (`ORDER_LOOKUP`). When the order is found, its sales channel
name and warehouse code are what the confirmations repeat; otherwise the connection's settings are
(Sales channel name, default OSTK as in integrators' payloads; Warehouse code, else Warehouse Name).

Inventory is keyed on Overstock's OptionSku (`salesChannelSKU` on order lines). Overstock has no
documented listing (`inventory_listing = False`: the pipeline builds the items from the order lines
it has seen) and no documented or published update endpoint: the upload (`INVENTORY_UPLOAD`) is off
until a person turns it on for the connection; then levels go to the connection's Inventory Path
[UNCONFIRMED, default /inventory], in the message `writes` describes. While it is off an inventory
run sends nothing and ends as not supported, with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from xml.etree.ElementTree import Element  # noqa: S405 - the type only; parsing goes through defusedxml

import requests

from integrations.connectors.answers import status_phrase
from integrations.connectors.base import (
    CartConnector,
    account_identity_of,
    url_host,
)
from integrations.connectors.canonical import (
    CartInventoryItem,
    CartShipment,
    InventoryPushResult,
    InventoryUpdate,
    OrderPage,
)
from integrations.connectors.errors import BadPayloadError, PermanentError, TemporaryError
from integrations.connectors.limits import RateLimit
from integrations.connectors.overstock.config import (
    CREDENTIAL_FIELDS,
    DEFAULT_INVENTORY_PATH,
    DEFAULT_SALES_CHANNEL,
    INVENTORY_UPLOAD,
    ORDER_LOOKUP,
    SETTING_FIELDS,
    UNCONFIRMED_CALLS,
)
from integrations.connectors.overstock.wire import (
    WarehouseFilter,
    order_elements,
    parse_orders,
    sales_channel_name,
    tracking_numbers,
    warehouse_values,
)
from integrations.connectors.overstock.writes import (
    CARRIER_CODES,
    ShipmentContext,
    format_inventory_message,
    format_shipment_message,
    item_refusals,
)
from integrations.connectors.overstock.xml import error_summary, read_xml, text, windows
from integrations.connectors.parsing import format_datetime, whole_seconds
from integrations.connectors.permissions import writes_unchecked
from integrations.http import ApiClient

ORDERS_PATH = "/salesorders"
SHIPMENTS_PATH = "/shipments"
XML = "application/xml"


def error_detail(response: requests.Response) -> str:
    """What a message says of a refused request: the XML answer's error summary, else the status's
    standard phrase (a body that is not an XML error is never quoted)."""
    try:
        root = read_xml(response.content or b"", what="an error")
    except BadPayloadError:
        return status_phrase(response.status_code)
    return error_summary(root) or status_phrase(response.status_code)


class OverstockCart(CartConnector):
    """Reads a supplier's Overstock orders with the Supplier Oasis API username and password."""

    key = "overstock"
    label = "Overstock Supplier Oasis"
    rate_limit = RateLimit(requests=120, seconds=60, source="guess: Overstock documents no limit")
    default_base_url = "https://api.supplieroasis.com"
    base_url_help = (
        "Leave as is for Overstock. Overstock's test host is https://api.test.supplieroasis.com; "
        "a sandbox's address also works."
    )
    credential_fields = CREDENTIAL_FIELDS
    setting_fields = SETTING_FIELDS
    unconfirmed_calls = UNCONFIRMED_CALLS
    lists_by_creation = True  # the windows are of `sofsCreatedDate` (module docstring)

    def account_identity(self) -> str:
        """The API host and the API username (a Supplier Oasis login is one supplier account)."""
        username = str(self.credentials.get("username") or "").strip()
        return account_identity_of("overstock", url_host(self.base_url), username) if username else ""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # Order number -> what its confirmations repeat, learnt when the order was last read.
        self._shipment_contexts: dict[str, ShipmentContext] = {}

    def api(self) -> ApiClient:
        """The HTTP session, a new one for each listing or write (HTTP Basic: no token to keep)."""
        return self.make_client(
            auth=(str(self.credentials.get("username") or ""), str(self.credentials.get("password") or "")),
            headers={"Accept": XML},
            credential_name="the API username or password",
        )

    # --- settings ---

    def warehouse_filter(self) -> WarehouseFilter:
        return WarehouseFilter(
            name=str(self.settings.get("warehouse_name") or "").strip(),
            code=str(self.settings.get("warehouse_code") or "").strip(),
        )

    def window_hours(self) -> float:
        value = self.settings.get("window_hours")
        try:
            hours = float(str(value).strip())
        except ValueError:
            hours = 0.0
        if not 0 < hours <= 24 * 7:
            raise PermanentError(
                f"The connection's Window hours {value!r} is not a number of hours between 0 and 168: fix it in "
                "the connection settings"
            )
        return hours

    def _warehouse_code(self) -> str:
        return self.warehouse_filter().code or self.warehouse_filter().name

    # --- orders in ---

    def _window(self, client: ApiClient, start: datetime, end: datetime) -> OrderPage:
        params = {"startTime": format_datetime(start), "endTime": format_datetime(end)}
        what = f"the orders window {params['startTime']} – {params['endTime']}"
        response = client.request("GET", ORDERS_PATH, params=params, ok_statuses=(400,))
        if response.status_code == 400:
            raise PermanentError(
                f"Overstock refused {what} (400: {error_detail(response)}); if it says the range is too long, "
                "lower the connection's Window hours",
                status=400,
            )
        root = read_xml(response.content, what=what)
        try:
            return parse_orders(root, warehouse=self.warehouse_filter())
        except BadPayloadError as exc:
            raise BadPayloadError(f"{exc} ({what})", status=response.status_code) from None

    def iter_order_pages(
        self, *, modified_after: datetime, modified_before: datetime, open_only: bool
    ) -> Iterator[OrderPage]:
        hours = self.window_hours()
        client = self.api()
        # Whole seconds first, so that no window sent is longer than `hours`; the ends are taken as
        # inclusive, so an order on a boundary is read twice and stored once.
        start, end = whole_seconds(modified_after), whole_seconds(modified_before, round_up=True)
        for window_start, window_end in windows(start, end, hours):
            yield self._window(client, window_start, window_end)

    def test_connection(self) -> str:
        now = datetime.now(UTC)
        page = self._window(self.api(), now - timedelta(minutes=5), now)
        seen = len(page.orders) + len(page.rejected)
        return (
            "credentials accepted: the API username and password can read orders "
            f"({seen} in the last 5 minutes; warehouse {self.warehouse_filter().name or 'not set'})."
        ) + writes_unchecked(
            "Overstock",
            "sending tracking needs the API user to be allowed to confirm shipments for this Warehouse Name "
            "(your Overstock rep sets up the Supplier Oasis API user)",
        )

    # --- tracking back ---

    accepts_multiple_shipments = True  # each parcel confirms the lines it holds
    shipment_lines_supported = True  # Overstock confirms lines, not orders
    default_carrier_names = CARRIER_CODES

    def existing_tracking_numbers(self, cart_order_id: str, *, ordered_at: datetime | None = None) -> set[str]:
        """Tracking Overstock holds for the order, from the confirmed order listing: the windows
        around `ordered_at` (it selects orders by creation time), with each line's ship confirmations
        (see the module docstring). The unconfirmed lookup by number is asked first only when it is
        turned on for the connection. Raises `PermanentError` when `ordered_at` is not known: the
        listing cannot be searched without it, and "no tracking" would be a guess."""
        number = self._order_number(cart_order_id)
        client = self.api()
        if self.call_enabled(ORDER_LOOKUP):
            found = self._lookup(client, number)
            if found is not None:
                return found
        if ordered_at is None:
            raise PermanentError(
                f"Overstock order {number} has no known order date, and Overstock shows an order's tracking only "
                "in the listing of the hours it was placed in: what Overstock holds for it cannot be read. Check "
                "the order in Supplier Oasis"
            )
        start = whole_seconds(ordered_at - timedelta(hours=1))
        end = whole_seconds(ordered_at + timedelta(hours=2), round_up=True)
        for window_start, window_end in windows(start, end, min(self.window_hours(), 1.0)):
            params = {"startTime": format_datetime(window_start), "endTime": format_datetime(window_end)}
            answer = client.request("GET", ORDERS_PATH, params=params, ok_statuses=(400,))
            if answer.status_code >= 400:
                continue
            found = self._scan(read_xml(answer.content, what=f"the orders around order {number}"), number)
            if found is not None:
                return found
        return set()

    def _lookup(self, client: ApiClient, number: str) -> set[str] | None:
        """The order's tracking by the unconfirmed lookup by number; None when Overstock does not
        answer it (refused, or not filtered by it) and the listing must be read instead."""
        try:
            response = client.request(
                "GET", ORDERS_PATH, params={"salesChannelOrderNumber": number}, ok_statuses=(400, 404, 405, 501)
            )
        except TemporaryError as exc:
            if exc.status is None:
                raise  # Overstock cannot be reached: the push would fail too
            return None
        if response.status_code >= 400:
            return None
        return self._scan(read_xml(response.content, what=f"a request for order {number}"), number)

    def _scan(self, root: Element, number: str) -> set[str] | None:
        """The tracking numbers of order `number` in a listing, or None when it is not there."""
        numbers: set[str] | None = None
        for order in order_elements(root):
            if text(order, "salesChannelOrderNumber") == number:
                numbers = (numbers or set()) | tracking_numbers(order)
                self._remember(number, order)
        return numbers

    def _remember(self, number: str, order: Element) -> None:
        theirs = warehouse_values(order)
        self._shipment_contexts[number] = ShipmentContext(
            order_number=number,
            sales_channel_name=sales_channel_name(order) or self._sales_channel(),
            warehouse_code=self.warehouse_filter().code or (theirs[0] if theirs else self._warehouse_code()),
        )

    def _sales_channel(self) -> str:
        return str(self.settings.get("sales_channel_name") or DEFAULT_SALES_CHANNEL).strip()

    def _order_number(self, cart_order_id: str) -> str:
        number = (cart_order_id or "").strip()
        if not number:
            raise ValueError("an Overstock order number is required")
        return number

    def shipment_context(self, cart_order_id: str) -> ShipmentContext:
        """What the confirmations repeat: the order's own values when it was read, else the settings."""
        number = self._order_number(cart_order_id)
        return self._shipment_contexts.get(number) or ShipmentContext(
            order_number=number, sales_channel_name=self._sales_channel(), warehouse_code=self._warehouse_code()
        )

    def push_shipment(self, cart_order_id: str, shipment: CartShipment, *, notify_customer: bool) -> None:
        """Confirm the shipped lines. Overstock tells the customer itself: `notify_customer` has no
        switch to turn at Overstock."""
        body = format_shipment_message(shipment, self.shipment_context(cart_order_id), now=datetime.now(UTC))
        response = self.api().request(
            "POST",
            SHIPMENTS_PATH,
            data=body,
            headers={"Content-Type": XML},
            ok_statuses=(400, 404, 409, 422),
        )
        if response.status_code >= 400:
            raise PermanentError(
                f"Overstock refused the tracking for order {cart_order_id} "
                f"({response.status_code}: {error_detail(response)})",
                status=response.status_code,
            )

    # --- inventory back ---

    inventory_listing = False  # no documented listing: items come from the OptionSkus on order lines
    inventory_call = INVENTORY_UPLOAD

    def iter_inventory(self) -> Iterator[list[CartInventoryItem]]:
        """Overstock has no documented inventory listing: nothing to list (see `inventory_listing`)."""
        yield from ()

    def inventory_path(self) -> str:
        """A path on the connection's Overstock host, never another host (the request carries the
        API password)."""
        path = str(self.settings.get("inventory_path") or DEFAULT_INVENTORY_PATH).strip()
        if "://" in path or path.startswith("//"):
            raise PermanentError(
                f"The connection's Inventory path {path!r} must be a path on the Overstock host, such as /inventory"
            )
        return path if path.startswith("/") else f"/{path}"

    def set_inventory(self, updates: list[InventoryUpdate], *, idempotency_key: str) -> InventoryPushResult:
        """Set absolute levels per OptionSku at the UNCONFIRMED inventory path, only when the upload
        is turned on (else `CallTurnedOffError`, nothing sent). Setting a level twice changes
        nothing, so the request is safe to resend and no idempotency key is needed."""
        self.call_required(INVENTORY_UPLOAD, step="Inventory")
        if not updates:
            return InventoryPushResult()
        body = format_inventory_message(updates, warehouse_code=self._warehouse_code(), limit=self.inventory_batch_size)
        path = self.inventory_path()
        response = self.api().request(
            "POST",
            path,
            data=body,
            headers={"Content-Type": XML},
            ok_statuses=(400, 404, 405, 422),
            idempotent=True,
        )
        status = response.status_code
        if status in (404, 405):
            raise PermanentError(
                f"Overstock has no inventory endpoint at {path} ({status}): the path is unconfirmed, ask your "
                "Overstock rep for the right one and set it as the connection's Inventory path",
                status=status,
            )
        keys = [u.key for u in updates]
        if status >= 400:
            reason = f"Overstock refused the stock levels ({status}: {error_detail(response)})"
            return InventoryPushResult(refused=dict.fromkeys(keys, reason))
        refused = {}
        if (response.content or b"").strip():
            try:
                refused = item_refusals(read_xml(response.content, what="the stock levels"), keys)
            except BadPayloadError:
                refused = {}  # applied (2xx); an answer we cannot read names no refusal
        return InventoryPushResult(
            accepted=[k for k in keys if k not in refused],
            refused={k: f"Overstock refused it ({reason})" for k, reason in refused.items()},
        )
