"""Bergen Logistics as a warehouse: the HTTP session (token, paging) and the connector.

Bergen publishes no API specification. What is known: each client has an Account Web Address (e.g.
https://www.yourcompany.atworkweb.com), an API username and password, and a warehouse (NJ, NJ2,
WEST, EU). **The wire format is modelled on the Extensiv 3PL Warehouse Manager REST API** reached at
that address: a token from `/AuthServer/api/Token`, HAL+JSON, `POST /orders`, `GET /orders?rql=…`,
`GET /orders/shipmentstrackinginfo`, `GET /inventory/stocksummaries`; the wire details live here
(paths, auth, paging), in `wire` and `writes` (payloads, pure), and for changes after delivery in
`changes` and `lifecycle`, so that Bergen's real specification changes these files only.

Tracking back: one canonical parcel per row of the tracking feed (one row per package), filtered on
the ship date; see `wire.parse_tracking_row` for what an incomplete row becomes.

Stock back: stock summary rows carry a numeric `facilityId`, while the connection names its
warehouse ("NJ"). The id is looked up in Extensiv's facility list (`GET /properties/facilities`)
and, when this login may not read it, in an order's `readOnly.facilityIdentifier` (which gives name
and id). When neither tells (no access and no order yet) the rows of **every** facility are added
up, which is right for a merchant stocked at one Bergen warehouse and overstates stock for one
stocked at several: setting the warehouse as its numeric id removes the guess.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import requests

from integrations.connectors.answers import summary
from integrations.connectors.base import ConfigField, WarehouseConnector, account_identity_of, url_host
from integrations.connectors.bergen.changes import BergenOrderChanges
from integrations.connectors.bergen.limits import SHIP_TO_LIMITS
from integrations.connectors.bergen.tokens import KeptToken, token_keep
from integrations.connectors.bergen.wire import (
    FACILITY_REL,
    ORDER_REL,
    TRACKING_REL,
    embedded_list,
    error_text,
    facility_id_named,
    parse_tracking_row,
    pick,
    read_stock_row,
    record_customer,
    rql_value,
    same_text,
    shipped_window_rql,
    sum_stock,
    total_results,
)
from integrations.connectors.bergen.writes import classify_rejection, format_order, found_order
from integrations.connectors.canonical import Shipment, StockLevel, WarehouseOrder, WarehouseOrderRef
from integrations.connectors.errors import (
    AuthenticationError,
    BadPayloadError,
    ConnectorError,
    PermanentError,
    TemporaryError,
)
from integrations.connectors.permissions import writes_unchecked
from integrations.http import ApiClient, parse_json

TOKEN_PATH = "/AuthServer/api/Token"
ORDERS_PATH = "/orders"
TRACKING_PATH = "/orders/shipmentstrackinginfo"
STOCK_PATH = "/inventory/stocksummaries"
FACILITIES_PATH = "/properties/facilities"
HAL_JSON = "application/hal+json"
STOCK_PAGE_SIZE = 500  # the documented maximum for stock summaries
ORDER_PAGE_SIZE = 100
TRACKING_PAGE_SIZE = 1000  # Extensiv takes up to 4000 here; 1000 is what its other lists take
MAX_PAGES = 10_000  # a safety stop should a server keep answering full pages forever
TOKEN_MARGIN_SECONDS = 60  # renew a token this long before it expires


# --- HTTP ----------------------------------------------------------------------------------------


class BergenWarehouse(KeptToken, BergenOrderChanges, WarehouseConnector):
    """Sends orders to Bergen Logistics and reads back what it holds (wire format: see module doc)."""

    key = "bergen"
    label = "Bergen Logistics"
    default_base_url = ""  # no global address: each client has its own Account Web Address
    base_url_help = "Leave empty to use the Account Web Address; set it only to point at a sandbox."
    credential_fields = (
        ConfigField(name="username", label="API Username", help_text="Given by Bergen with the API access."),
        ConfigField(name="password", label="API Password", secret=True),
    )
    setting_fields = (
        ConfigField(
            name="account_web_address",
            label="Account Web Address",
            help_text="The per-client address Bergen gives you, e.g. https://www.yourcompany.atworkweb.com",
            address=True,
        ),
        ConfigField(
            name="customer_name",
            label="Bergen customer name",
            help_text="Your account's customer name at Bergen (sent as the order's customer).",
        ),
        ConfigField(
            name="facility",
            label="Warehouse",
            help_text="NJ, NJ2, WEST or EU (or, if Bergen gave you one, the warehouse's numeric id).",
            default="NJ",
        ),
        ConfigField(
            name="user_login",
            label="User login",
            help_text="Only if Bergen gave you one: the user the warehouse records as creating orders.",
            required=False,
        ),
    )
    cust_ref_max_length = 20
    cust_ref_charset = "A-Za-z0-9-"
    field_limits = SHIP_TO_LIMITS  # assumed: Bergen publishes none (see `limits`)

    @classmethod
    def missing_configuration(
        cls, credentials: dict[str, Any], settings: dict[str, Any], base_url: str = ""
    ) -> list[ConfigField]:
        """An API base URL (a sandbox) stands in for the Account Web Address."""
        missing = super().missing_configuration(credentials, settings, base_url)
        return [f for f in missing if not (base_url and f.name == "account_web_address")]

    def _other_customers(self, record: dict[str, Any]) -> bool:
        """Whether a record names another customer than this connection's (not in the documented
        shapes, which carry none on tracking and stock rows: the login's own data is all it sees)."""
        customer = str(self.settings.get("customer_name") or "")
        owner = record_customer(record)
        return owner is not None and bool(customer) and not same_text(owner, customer)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._api: ApiClient | None = None
        self._facility_id: int | None = None
        self._facility_looked_up = False

    # --- configuration and auth ---

    def api_base(self) -> str:
        address = self.base_url or str(self.settings.get("account_web_address") or "").strip()
        if not address:
            raise PermanentError("Bergen Logistics: no Account Web Address is set on this connection")
        if "://" not in address:
            address = "https://" + address
        return address.rstrip("/")

    def account_identity(self) -> str:
        """The address's host and the customer name: Extensiv keeps `referenceNum` unique per customer
        (`customerIdentifier`) of a warehouse system, so connections with the same host and customer
        share one set of references."""
        try:
            host = url_host(self.api_base())
        except PermanentError:
            return ""
        customer = str(self.settings.get("customer_name") or "").strip()
        return account_identity_of("bergen", host, customer) if host and customer else ""

    def format_order(self, order: WarehouseOrder) -> dict[str, Any]:
        return format_order(
            order,
            customer_name=str(self.settings.get("customer_name") or ""),
            facility=str(self.settings.get("facility") or ""),
        )

    def fetch_token(self) -> str:
        """A new access token (client credentials over HTTP Basic); kept until shortly before expiry, on this
        connector and for the others of this process (`bergen.tokens`)."""
        client = self.make_client(
            self.api_base(),
            auth=(str(self.credentials.get("username") or ""), str(self.credentials.get("password") or "")),
            headers={"Accept": "application/json"},
            credential_name="the API username or password",
        )
        body: dict[str, Any] = {"grant_type": "client_credentials"}
        if self.settings.get("user_login"):
            body["user_login"] = str(self.settings["user_login"])
        response = client.request(
            "POST",
            TOKEN_PATH,
            json_body=body,
            headers={"Content-Type": "application/json; charset=utf-8"},
            ok_statuses=(400,),
            idempotent=True,  # asking for a token changes nothing: safe to repeat
        )
        data = parse_json(response, self.label, client.secrets)
        if response.status_code == 400:
            # OAuth servers answer bad client credentials with 400 invalid_client.
            detail = error_text(data)
            if "invalid_client" in detail or "unauthorized" in detail.lower():
                raise AuthenticationError("401: the API username or password was refused", status=400)
            said = summary(detail, secrets=client.secrets) or "Bad Request"
            raise PermanentError(f"Bergen Logistics refused the token request (400): {said}", status=400)
        token = pick(data, "access_token", "accessToken")
        if not isinstance(token, str) or not token:
            raise BadPayloadError("Bergen Logistics answered the token request without an access_token")
        try:
            lifetime = float(pick(data, "expires_in", "expiresIn") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        renew_at = time.monotonic() + max(lifetime - TOKEN_MARGIN_SECONDS, lifetime / 2)
        token_keep(self.token_key(), token, renew_at)
        return self.token_use(token, renew_at)

    def api(self) -> ApiClient:
        """The HTTP session, kept for the connector's life: it carries the current token."""
        if self._api is None:
            self._api = self.make_client(self.api_base(), headers={"Accept": HAL_JSON}, credential_name="the API login")
        return self._api

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One API call with a valid token; a 401 gets one new token and one retry."""
        if not self.token_current():
            self.fetch_token()
        if kwargs.get("json_body") is not None:
            kwargs["headers"] = {"Content-Type": f"{HAL_JSON}; charset=utf-8", **(kwargs.get("headers") or {})}
        try:
            return self.api().request(method, path, **kwargs)
        except AuthenticationError as exc:
            if exc.status != 401:
                raise
        self.token_refused()
        self.fetch_token()
        return self.api().request(method, path, **kwargs)

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return parse_json(self.call("GET", path, **kwargs), self.label, self.api().secrets)

    def _pages(
        self, path: str, params: dict[str, Any], page_size: int, rel: str = ORDER_REL
    ) -> Iterator[list[dict[str, Any]]]:
        """Every page of a paged list (`pgsiz`, `pgnum` from 1) until `totalResults` or a short page."""
        seen = 0
        for number in range(1, MAX_PAGES + 1):
            body = self.get_json(path, params={**params, "pgsiz": page_size, "pgnum": number})
            records = embedded_list(body, rel)
            seen += len(records)
            total = total_results(body)
            if not records and total is not None and seen < total:
                raise BadPayloadError(
                    f"Bergen Logistics said {path} has {total} records but page {number} held none we could read"
                )
            yield records
            if not records or (total is not None and seen >= total) or (total is None and len(records) < page_size):
                return
        raise BadPayloadError(f"Bergen Logistics kept answering full pages of {path} past page {MAX_PAGES}")

    # --- the interface ---

    def submit_order(self, order: WarehouseOrder) -> WarehouseOrderRef:
        payload = self.format_order(order)
        response = self.call("POST", ORDERS_PATH, json_body=payload, ok_statuses=(400, 409, 422))
        if response.status_code in (400, 409, 422):
            try:
                body = response.json()
            except ValueError:
                body = None
            raise classify_rejection(response.status_code, body, response.text, [line.sku for line in order.items])
        try:
            # The 201 answer is the order as stored: read back with its poNum, shipTo and orderItems,
            # so the pipeline verifies it without asking again.
            ref = found_order(response.json())
        except (ValueError, AttributeError):
            ref = None
        if ref is None:
            # Created, but the answer did not say as what: the Location header or a lookup will.
            match = re.search(r"/orders/(\d+)", response.headers.get("Location", ""))
            ref = WarehouseOrderRef(match.group(1), order.cust_ref) if match else self._find_created(order.cust_ref)
        if ref is None:
            raise BadPayloadError(
                f"Bergen Logistics accepted order {order.cust_ref} ({response.status_code}) without giving its id"
            )
        ref.cust_ref = ref.cust_ref or order.cust_ref
        return ref

    def _find_created(self, cust_ref: str) -> WarehouseOrderRef | None:
        """The order the warehouse just said it created, looked up by reference. A lookup that fails says
        nothing about the send: it was delivered, so the error says so (`maybe_delivered`) and the next
        attempt asks the warehouse instead of sending it again."""
        try:
            return self.find_order(cust_ref)
        except ConnectorError as exc:
            raise TemporaryError(
                f"Bergen Logistics accepted order {cust_ref} without giving its id, and looking it up failed: {exc}",
                status=exc.status,
                maybe_delivered=True,
            ) from exc

    def find_orders(self, cust_ref: str) -> list[WarehouseOrderRef]:
        """This customer's orders under the reference, with their lines (`detail=All`)."""
        params = {"rql": f"referenceNum=={rql_value(cust_ref)}", "detail": "All"}
        found = []
        for records in self._pages(ORDERS_PATH, params, ORDER_PAGE_SIZE):
            for record in records:
                if not same_text(pick(record, "referenceNum", "ReferenceNum"), cust_ref):
                    continue
                if self._other_customers(record):
                    continue  # another customer's order with the same reference
                ref = found_order(record)
                if ref is not None:
                    found.append(ref)
        return found

    def list_skus(self) -> set[str]:
        """SKUs in the stock summaries, every facility: an item stocked at another of Bergen's
        warehouses is known, so an order for it must not be held as an unknown SKU.

        Bergen's API logins are per client, so what the login sees is the merchant's stock; a
        summary that names another customer (not in the documented shape) is still left out.
        """
        skus: set[str] = set()
        for records in self._pages(STOCK_PATH, {}, STOCK_PAGE_SIZE):
            for record in records:
                if self._other_customers(record):
                    continue
                sku = pick(pick(record, "itemIdentifier", "ItemIdentifier"), "sku", "Sku") or pick(record, "sku")
                if sku not in (None, ""):
                    skus.add(str(sku).strip())
        return skus

    def iter_shipments(self, *, shipped_after: datetime, shipped_before: datetime) -> Iterator[list[Shipment]]:
        """Every package shipped in [shipped_after, shipped_before) from the tracking feed, a page
        at a time; rows are returned as read (`parse_tracking_row`) and the pipeline validates them.
        The window is written, and ship dates read, in the connection's time zone (see `wire`)."""
        params = {"rql": shipped_window_rql(shipped_after, shipped_before, self.time_zone)}
        for records in self._pages(TRACKING_PATH, params, TRACKING_PAGE_SIZE, TRACKING_REL):
            parcels = [
                parse_tracking_row(record, self.time_zone) for record in records if not self._other_customers(record)
            ]
            if parcels:
                yield parcels

    def iter_stock_levels(self) -> Iterator[list[StockLevel]]:
        """Stock per SKU at this connection's warehouse (see the module docstring for how the
        warehouse is told apart), yielded in chunks once the whole listing is read: an SKU's rows
        (one per qualifier) may straddle pages, and a partial sum must never reach the pipeline."""
        facility_id = self.facility_id()
        params = {"rql": f"facilityId=={facility_id}"} if facility_id is not None else {}
        rows = []
        for records in self._pages(STOCK_PATH, params, STOCK_PAGE_SIZE):
            records = [record for record in records if not self._other_customers(record)]
            readable = [row for row in map(read_stock_row, records) if row is not None]
            if records and not readable:
                raise BadPayloadError(
                    f"Bergen Logistics answered a page of {STOCK_PATH} in which no row names an SKU and its "
                    "available quantity: the format may have changed"
                )
            rows.extend(readable)
        levels = sum_stock(rows, facility_id=facility_id)
        for start in range(0, len(levels), STOCK_PAGE_SIZE):
            yield levels[start : start + STOCK_PAGE_SIZE]

    def facility_id(self) -> int | None:
        """The numeric id of this connection's warehouse, or None when nothing tells it.

        A numeric setting is the id. Otherwise Extensiv's facility list is asked; a login without
        access to it (403), or a server without it (404), leaves the first page of orders, whose
        `readOnly.facilityIdentifier` gives each order's facility by name and id. Asked once.
        """
        if self._facility_looked_up:
            return self._facility_id
        name = str(self.settings.get("facility") or "").strip()
        if name.isdigit():
            found: int | None = int(name)
        elif not name:
            found = None
        else:
            found = self._facility_in(FACILITIES_PATH, FACILITY_REL, name)
            if found is None:
                found = self._facility_in(ORDERS_PATH, ORDER_REL, name)
        self._facility_id, self._facility_looked_up = found, True
        return found

    def _facility_in(self, path: str, rel: str, name: str) -> int | None:
        try:
            body = self.get_json(path, params={"pgsiz": ORDER_PAGE_SIZE, "pgnum": 1})
        except AuthenticationError as exc:
            if exc.status != 403:
                raise
            return None
        except PermanentError as exc:
            if exc.status not in (400, 404, 405):
                raise
            return None
        return facility_id_named(embedded_list(body, rel), name)

    def test_connection(self) -> str:
        self.fetch_token()
        self.get_json(ORDERS_PATH, params={"pgsiz": 1, "pgnum": 1})
        customer = self.settings.get("customer_name") or "(no customer name set)"
        needs = f"sending orders needs the API user to be allowed to create orders for customer {customer}"
        answer = f"credentials accepted: token issued by {self.api_base()}, customer {customer}."
        return answer + writes_unchecked("Bergen Logistics", needs)
