"""Bergen Logistics as a warehouse.

Bergen publishes no API specification. What is known: each client has an Account Web Address
(e.g. https://www.yourcompany.atworkweb.com), an API username and an API password, and chooses a
warehouse (NJ, NJ2, WEST, EU). **The wire format below is modelled on the Extensiv 3PL Warehouse
Manager REST API** reached at that address: a client-credentials token from
`/AuthServer/api/Token`, HAL+JSON resources, `POST /orders`, `GET /orders?rql=…`,
`GET /inventory/stocksummaries`. Every wire detail lives in this one module, so that Bergen's real
specification, when it comes, changes one file.

Shipping codes: the pipeline's `ship_code` is "CARRIER:MODE" (e.g. "UPS:Ground",
"FedEx:2Day") and becomes `routingInfo {carrier, mode}`. Without a colon the first word is the
carrier and the rest the mode ("UPS Ground"); a single word is a carrier alone; an empty code sends
no routing (the warehouse applies the customer's default).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import requests

from integrations.connectors.base import ConfigField, WarehouseConnector
from integrations.connectors.canonical import WarehouseOrder, WarehouseOrderRef
from integrations.connectors.errors import (
    AuthenticationError,
    BadPayloadError,
    DuplicateReferenceError,
    OrderRejectedError,
    PermanentError,
)
from integrations.http import ApiClient, parse_json

TOKEN_PATH = "/AuthServer/api/Token"
ORDERS_PATH = "/orders"
STOCK_PATH = "/inventory/stocksummaries"
HAL_JSON = "application/hal+json"
ORDER_REL = "http://api.3plCentral.com/rels/orders/order"
STOCK_PAGE_SIZE = 500  # the documented maximum for stock summaries
ORDER_PAGE_SIZE = 100
MAX_PAGES = 10_000  # a safety stop should a server keep answering full pages forever
TOKEN_MARGIN_SECONDS = 60  # renew a token this long before it expires
ORDER_STATUSES = {0: "open", 1: "complete", 2: "canceled", 3: "closed"}


# --- formatting (pure) ---------------------------------------------------------------------------


def split_ship_code(ship_code: str) -> tuple[str, str]:
    """(carrier, mode) from "CARRIER:MODE", "CARRIER MODE" or "CARRIER" (see the module docstring)."""
    code = (ship_code or "").strip()
    if ":" in code:
        carrier, mode = code.split(":", 1)
    else:
        carrier, _, mode = code.partition(" ")
    return carrier.strip(), mode.strip()


def format_order(order: WarehouseOrder, *, customer_name: str, facility: str) -> dict[str, Any]:
    """The `POST /orders` body. Only documented fields; empty optional ones are left out."""
    address = order.ship_to
    ship_to = {
        # The WMS wants a company name on every ship-to; a consumer's own name stands in for it.
        "companyName": address.company or address.full_name,
        "name": address.full_name,
        "address1": address.address_1,
        "address2": ", ".join(p for p in (address.address_2, address.address_3) if p),
        "city": address.city,
        "state": address.state,
        "zip": address.zip,
        "country": address.country,
        "phoneNumber": address.phone,
        "emailAddress": address.email,
    }
    body: dict[str, Any] = {
        "customerIdentifier": {"name": customer_name},
        "facilityIdentifier": {"name": facility},
        "referenceNum": order.cust_ref,
        "poNum": order.cust_po_no,
        "shipTo": {key: value for key, value in ship_to.items() if value},
        "orderItems": [{"itemIdentifier": {"sku": line.sku}, "qty": int(line.quantity)} for line in order.items],
    }
    carrier, mode = split_ship_code(order.ship_code)
    if carrier:
        body["routingInfo"] = {"carrier": carrier, **({"mode": mode} if mode else {})}
    if order.notes:
        body["notes"] = order.notes
    return body


# --- reading answers (pure) ----------------------------------------------------------------------


def _get(payload: Any, *names: str) -> Any:
    """The first present key among spellings (the API is camelCase; some answers are PascalCase)."""
    if not isinstance(payload, dict):
        return None
    for name in names:
        if payload.get(name) is not None:
            return payload[name]
    return None


def error_text(body: Any, raw: str = "") -> str:
    """Everything an error body says, flattened: ErrorCode, Hint, messages, property names/values."""
    parts: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif value is not None and not isinstance(value, bool):
            parts.append(str(value))

    walk(body)
    text = " ".join(" ".join(parts).split()) if parts else " ".join((raw or "").split())
    return text[:500]


def _error_properties(body: Any) -> list[tuple[str, str]]:
    """(name, value) pairs from `Properties`: a list of {Name, Value} objects, or a plain map."""
    found: list[tuple[str, str]] = []
    props = _get(body, "Properties", "properties")
    if isinstance(props, dict):  # some answers give a plain {name: value} map
        return [(str(k), str(v)) for k, v in props.items() if v is not None and not isinstance(v, (dict, list))]
    for prop in props if isinstance(props, list) else []:
        name, value = _get(prop, "Name", "name", "Key", "key"), _get(prop, "Value", "value")
        if name is not None and value is not None:
            found.append((str(name), str(value)))
    return found


_SKU_WORDS = re.compile(r"\b(sku|item|itemidentifier)\b", re.IGNORECASE)
_MISSING_WORDS = re.compile(r"not\s*exist|doesnotexist|unknown|invalid|not\s*found|no such|undefined", re.IGNORECASE)
_ADDRESS_WORDS = re.compile(r"shipto|ship to|address|\bzip\b|postal|\bcity\b|\bcountry\b|\bstate\b", re.IGNORECASE)


def _names(text: str, word: str) -> bool:
    """Whether `text` contains `word` as a whole token (SKUs may hold dashes)."""
    return re.search(rf"(?<![\w-]){re.escape(word)}(?![\w-])", text) is not None


def classify_rejection(status: int, body: Any, raw: str, order_skus: list[str]) -> Exception:
    """The typed error for a 400/409/422 answer to `POST /orders`.

    Extensiv answers `{"ErrorCode", "Hint", "Properties": [{"Name", "Value"}], ...}`; the exact codes
    are not all published, so the words are read too ("Duplicate", "does not exist", "Sku"...).
    Offending SKUs come from the properties, else from the order's own SKUs named in the message.
    """
    text = error_text(body, raw) or f"HTTP {status}"
    message = f"Bergen Logistics refused the order ({status}): {text}"
    code = str(_get(body, "ErrorCode", "errorCode", "code") or "")
    props = _error_properties(body)
    prop_names = " ".join(name for name, _ in props)
    names_item = bool(_SKU_WORDS.search(f"{text} {prop_names}") or re.search(r"item|sku", code, re.IGNORECASE))
    if re.search(r"duplicate|already exists", f"{code} {text}", re.IGNORECASE) and (
        re.search(r"reference|refnum", f"{text} {prop_names}", re.IGNORECASE) or not names_item
    ):
        return DuplicateReferenceError(message, status=status)
    if names_item and _MISSING_WORDS.search(f"{code} {text}") and not re.search(r"\bqty\b|quantity", text, re.I):
        skus = [value for name, value in props if _SKU_WORDS.search(re.sub(r"[^A-Za-z]", " ", name))]
        lowered = text.lower()
        skus = skus or [sku for sku in dict.fromkeys(order_skus) if sku and _names(lowered, sku.lower())]
        return OrderRejectedError(message, reason_code="unknown_sku", skus=skus, status=status)
    if _ADDRESS_WORDS.search(prop_names) or _ADDRESS_WORDS.search(text):
        return OrderRejectedError(message, reason_code="missing_address", status=status)
    return OrderRejectedError(message, reason_code="warehouse_rejected", status=status)


def embedded_list(body: Any, rel: str = ORDER_REL) -> list[dict[str, Any]]:
    """The records of a HAL list: `_embedded[rel]` (or "item", or the one list in `_embedded`),
    else a plain list under ResourceList / orders / summaries."""
    if isinstance(body, list):
        return [r for r in body if isinstance(r, dict)]
    if not isinstance(body, dict):
        raise BadPayloadError("Bergen Logistics answered a list request with something that is not an object")
    embedded = body.get("_embedded")
    records: Any = None
    if isinstance(embedded, dict):
        lowered = {str(k).lower(): v for k, v in embedded.items()}
        records = lowered.get(rel.lower(), lowered.get("item"))
        if records is None:
            lists = [v for v in embedded.values() if isinstance(v, list)]
            records = lists[0] if len(lists) == 1 else None
    if records is None:
        records = _get(body, "ResourceList", "resourceList", "orders", "Orders", "summaries", "Summaries")
    if records is None:
        return []
    if not isinstance(records, list):
        raise BadPayloadError("Bergen Logistics answered a list whose records are not a list")
    return [r for r in records if isinstance(r, dict)]


def total_results(body: Any) -> int | None:
    value = _get(body, "totalResults", "TotalResults")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def order_ref(record: dict[str, Any]) -> WarehouseOrderRef | None:
    """The reference of one order record (`readOnly.orderId`, `referenceNum`), or None if it has no id."""
    read_only = _get(record, "readOnly", "ReadOnly") or {}
    order_id = _get(read_only, "orderId", "OrderId") or _get(record, "orderId", "OrderId")
    if order_id in (None, ""):
        return None
    status_value = _get(read_only, "status", "Status")
    try:
        status = ORDER_STATUSES.get(int(status_value), str(status_value))
    except (TypeError, ValueError):
        status = "" if status_value is None else str(status_value)
    return WarehouseOrderRef(
        warehouse_order_id=str(order_id),
        cust_ref=str(_get(record, "referenceNum", "ReferenceNum") or ""),
        status=status,
    )


def rql_value(value: str) -> str:
    """A value for an RQL comparison: bare when it is plain, else double-quoted with escapes."""
    if re.fullmatch(r"[A-Za-z0-9_.-]+", value):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _customer_name(record: dict[str, Any]) -> Any:
    """The customer a record belongs to: `readOnly.customerIdentifier` on orders read back,
    `customerIdentifier` on what was posted."""
    read_only = _get(record, "readOnly", "ReadOnly")
    for holder in (read_only, record):
        name = _get(_get(holder, "customerIdentifier", "CustomerIdentifier"), "name", "Name")
        if name is not None:
            return name
    return None


def _same(a: Any, b: str) -> bool:
    return str(a or "").strip().casefold() == b.strip().casefold()


# --- HTTP ----------------------------------------------------------------------------------------


class BergenWarehouse(WarehouseConnector):
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
        ),
        ConfigField(
            name="customer_name",
            label="Bergen customer name",
            help_text="Your account's customer name at Bergen (sent as the order's customer).",
        ),
        ConfigField(name="facility", label="Warehouse", help_text="NJ, NJ2, WEST or EU", default="NJ"),
        ConfigField(
            name="user_login",
            label="User login",
            help_text="Only if Bergen gave you one: the user the warehouse records as creating orders.",
            required=False,
        ),
    )
    cust_ref_max_length = 20
    cust_ref_charset = "A-Za-z0-9-"

    @classmethod
    def missing_configuration(
        cls, credentials: dict[str, Any], settings: dict[str, Any], base_url: str = ""
    ) -> list[ConfigField]:
        """An API base URL (a sandbox) stands in for the Account Web Address."""
        missing = super().missing_configuration(credentials, settings, base_url)
        return [f for f in missing if not (base_url and f.name == "account_web_address")]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._token: str = ""
        self._token_expires = 0.0
        self._api: ApiClient | None = None

    # --- configuration and auth ---

    def api_base(self) -> str:
        address = self.base_url or str(self.settings.get("account_web_address") or "").strip()
        if not address:
            raise PermanentError("Bergen Logistics: no Account Web Address is set on this connection")
        if "://" not in address:
            address = "https://" + address
        return address.rstrip("/")

    def format_order(self, order: WarehouseOrder) -> dict[str, Any]:
        return format_order(
            order,
            customer_name=str(self.settings.get("customer_name") or ""),
            facility=str(self.settings.get("facility") or ""),
        )

    def fetch_token(self) -> str:
        """A new access token (client credentials over HTTP Basic); kept until shortly before expiry."""
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
            detail = error_text(data, response.text)
            if "invalid_client" in detail or "unauthorized" in detail.lower():
                raise AuthenticationError("401: the API username or password was refused", status=400)
            raise PermanentError(f"Bergen Logistics refused the token request (400): {detail}", status=400)
        token = _get(data, "access_token", "accessToken")
        if not isinstance(token, str) or not token:
            raise BadPayloadError("Bergen Logistics answered the token request without an access_token")
        try:
            lifetime = float(_get(data, "expires_in", "expiresIn") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        self._token = token
        self._token_expires = time.monotonic() + max(lifetime - TOKEN_MARGIN_SECONDS, lifetime / 2)
        api = self.api_client()
        api.session.headers["Authorization"] = f"Bearer {token}"
        api.secrets.append(token)
        return token

    def api_client(self) -> ApiClient:
        if self._api is None:
            self._api = self.make_client(self.api_base(), headers={"Accept": HAL_JSON}, credential_name="the API login")
        return self._api

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """One API call with a valid token; a 401 gets one new token and one retry."""
        if not self._token or time.monotonic() >= self._token_expires:
            self.fetch_token()
        if kwargs.get("json_body") is not None:
            kwargs["headers"] = {"Content-Type": f"{HAL_JSON}; charset=utf-8", **(kwargs.get("headers") or {})}
        try:
            return self.api_client().request(method, path, **kwargs)
        except AuthenticationError as exc:
            if exc.status != 401:
                raise
        self.fetch_token()
        return self.api_client().request(method, path, **kwargs)

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return parse_json(self.call("GET", path, **kwargs), self.label, self.api_client().secrets)

    def _pages(self, path: str, params: dict[str, Any], page_size: int) -> Iterator[list[dict[str, Any]]]:
        """Every page of a paged list (`pgsiz`, `pgnum` from 1) until `totalResults` or a short page."""
        seen = 0
        for number in range(1, MAX_PAGES + 1):
            body = self.get_json(path, params={**params, "pgsiz": page_size, "pgnum": number})
            records = embedded_list(body)
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
            ref = order_ref(response.json())
        except (ValueError, AttributeError):
            ref = None
        if ref is None:
            # Created, but the answer did not say as what: the Location header or a lookup will.
            match = re.search(r"/orders/(\d+)", response.headers.get("Location", ""))
            ref = WarehouseOrderRef(match.group(1), order.cust_ref) if match else self.find_order(order.cust_ref)
        if ref is None:
            raise BadPayloadError(
                f"Bergen Logistics accepted order {order.cust_ref} ({response.status_code}) without giving its id"
            )
        ref.cust_ref = ref.cust_ref or order.cust_ref
        return ref

    def find_order(self, cust_ref: str) -> WarehouseOrderRef | None:
        customer = str(self.settings.get("customer_name") or "")
        params = {"rql": f"referenceNum=={rql_value(cust_ref)}"}
        for records in self._pages(ORDERS_PATH, params, ORDER_PAGE_SIZE):
            for record in records:
                if not _same(_get(record, "referenceNum", "ReferenceNum"), cust_ref):
                    continue
                owner = _customer_name(record)
                if owner is not None and customer and not _same(owner, customer):
                    continue  # another customer's order with the same reference
                ref = order_ref(record)
                if ref is not None:
                    return ref
        return None

    def list_skus(self) -> set[str]:
        """SKUs in the stock summaries, every facility: an item stocked at another of Bergen's
        warehouses is known, so an order for it must not be held as an unknown SKU.

        Bergen's API logins are per client, so what the login sees is the merchant's stock; a
        summary that names another customer (not in the documented shape) is still left out.
        """
        customer = str(self.settings.get("customer_name") or "")
        skus: set[str] = set()
        for records in self._pages(STOCK_PATH, {}, STOCK_PAGE_SIZE):
            for record in records:
                owner = _customer_name(record)
                if owner is not None and customer and not _same(owner, customer):
                    continue
                sku = _get(_get(record, "itemIdentifier", "ItemIdentifier"), "sku", "Sku") or _get(record, "sku")
                if sku not in (None, ""):
                    skus.add(str(sku).strip())
        return skus

    def test_connection(self) -> str:
        self.fetch_token()
        self.get_json(ORDERS_PATH, params={"pgsiz": 1, "pgnum": 1})
        customer = self.settings.get("customer_name") or "(no customer name set)"
        return f"credentials accepted: token issued by {self.api_base()}, customer {customer}"
