"""Squarespace Commerce as a cart: orders in, tracking and stock levels out, over its HTTP API.

Wire contract (developers.squarespace.com/commerce-apis): `Authorization: Bearer <API key or OAuth
access token>` (the grant and its refresh: `oauth`; webhook subscriptions need the grant), a
mandatory `User-Agent`, 300 requests a minute with a one-minute cooldown after a 429 (no
Retry-After). `GET /1.0/commerce/orders` takes a date range (both ends together) and optionally
`fulfillmentStatus`; later pages are asked for with `cursor` alone, because the API refuses a
cursor combined with any other filter. The payloads are read and written by the pure functions in
`wire`; this module holds the paths, the session and what each answer means.

Tracking is not resent by the HTTP client (a fulfillment POST has no idempotency key): the pipeline
asks `existing_tracking_numbers` before any push. Stock levels are sent with the caller's
idempotency key, so the client does resend them. When Squarespace refuses a stock batch because
of some of its items (it applies all or nothing), those items are reported as refused and the rest
is sent once more, under a key derived from the batch's, so that one bad item does not hold back
fifty. The levels a call set count only once read back (`GET /inventory/{variantIds}`): the call
itself answers 204 without them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import requests

from integrations.connectors.answers import summary
from integrations.connectors.base import CartConnector, ConfigField, account_identity_of, secret_digest, url_host
from integrations.connectors.canonical import (
    CartInventoryItem,
    CartShipment,
    InventoryPushResult,
    InventoryUpdate,
    OrderPage,
)
from integrations.connectors.errors import AuthenticationError, BadPayloadError, PermanentError, TemporaryError
from integrations.connectors.limits import RateLimit
from integrations.connectors.parsing import format_datetime
from integrations.connectors.permissions import INVENTORY_SYNC_HINT, permissions_missing, writes_unchecked
from integrations.connectors.squarespace import hooks
from integrations.connectors.squarespace.oauth import OAUTH_CREDENTIAL_FIELDS, SquarespaceOAuth
from integrations.connectors.squarespace.subscriptions import SquarespaceWebhooks
from integrations.connectors.squarespace.wire import (
    format_adjustments,
    format_fulfillment,
    idempotency_header,
    levels_shown,
    named_variants,
    parse_inventory_page,
    parse_page,
    retry_idempotency_key,
    tracking_numbers_of,
)
from integrations.http import ApiClient, answer_detail, parse_json

ORDERS_PATH = "/1.0/commerce/orders"
INVENTORY_PATH = "/1.0/commerce/inventory"
ADJUSTMENTS_PATH = "/1.0/commerce/inventory/adjustments"
KEYS_PAGE = (
    "Squarespace: Settings → Advanced → Developer API Keys (a key's permissions are chosen when it is made: "
    "make a new key and paste it here)."
)
GRANT_PAGE = (
    "On this connection's page, use “Grant us API access” again and allow every access Orderbridge asks for "
    "(website.orders, website.inventory)."
)


@contextmanager
def _permission(needed: str, *, granted: bool) -> Iterator[None]:
    """Turn a 403 (the credential works but lacks a permission) into what to change: the key's
    permissions, or the grant's scopes."""
    try:
        yield
    except AuthenticationError as exc:
        if exc.status != 403:
            raise
        if granted:
            message = f"403: the Squarespace access grant is valid but lacks a scope: it needs {needed}. {GRANT_PAGE}"
        else:
            message = (
                f"403: the Squarespace API key is valid but lacks a permission: it needs {needed}. In Squarespace: "
                "Settings → Advanced → Developer API Keys (generate a new key if it cannot be edited)."
            )
        raise AuthenticationError(f"{message} ({exc})", status=403) from exc


def _refusal(response: requests.Response, secrets: list[str]) -> str:
    """Squarespace's error as one line: status, subtype and a summary of its message."""
    try:
        body = response.json()
    except ValueError:
        body = None
    subtype = summary(body.get("subtype"), 40, secrets=secrets) if isinstance(body, dict) else ""
    detail = answer_detail(response, secrets)
    return f"{response.status_code}{' ' + subtype if subtype else ''}: {detail}"


class SquarespaceCart(SquarespaceOAuth, SquarespaceWebhooks, CartConnector):
    """Reads orders from a Squarespace site with a Developer API key (polling only) or an OAuth grant
    (polling and webhooks)."""

    key = "squarespace"
    label = "Squarespace Commerce"
    rate_limit = RateLimit(requests=300, seconds=60, source="doc: 300 a minute; over it 429 and a one-minute cooldown")
    default_base_url = "https://api.squarespace.com"
    base_url_help = "Leave as is for Squarespace; point it at a sandbox to test."
    credential_fields = (
        ConfigField(
            name="api_key",
            label="API key",
            help_text=(
                "Squarespace: Settings → Advanced → Developer API Keys → Generate key. Give Orders and Inventory "
                "the “Read and Write” permission (writing is needed to send tracking and stock levels). "
                "The key is shown once. Or leave it empty and use “Grant us API access” instead (needed for "
                "webhooks: Squarespace does not give them to API keys)."
            ),
            secret=True,
            required=False,
        ),
        *OAUTH_CREDENTIAL_FIELDS,
    )
    webhook_topics = hooks.ORDER_TOPICS
    signature_header = hooks.SIGNATURE_HEADER

    def account_identity(self) -> str:
        """The API host and a digest of the key: a key belongs to one website (Squarespace's
        `GET /1.0/authorization/website` names it, but only by a request, which a rate limit may
        forbid), so the key stands for its site, and only the digest is kept."""
        api_key = str(self.credentials.get("api_key") or "")
        if not api_key:
            return ""  # a grant: only the platform can tell which site (not asked: see above)
        return account_identity_of("squarespace", url_host(self.base_url), "key-" + secret_digest(api_key))

    def api(self) -> ApiClient:
        """The HTTP session, a new one for each listing or write (a granted token refreshed when due)."""
        bearer = self.bearer()
        return self.make_client(
            headers={"Authorization": f"Bearer {bearer}", "Accept": "application/json"},
            secrets=[*self.secrets(), bearer],
            credential_name="the access grant" if self.granted else "the API key",
            default_cooldown=60,  # a 429 means a one-minute cooldown, with no Retry-After
        )

    def iter_order_pages(
        self, *, modified_after: datetime, modified_before: datetime, open_only: bool
    ) -> Iterator[OrderPage]:
        client = self.api()
        params: dict[str, str] = {
            "modifiedAfter": format_datetime(modified_after),
            "modifiedBefore": format_datetime(modified_before, round_up=True),
        }
        if open_only:
            params["fulfillmentStatus"] = "PENDING"
        seen: set[str] = set()
        while True:
            page, cursor = parse_page(client.get_json(ORDERS_PATH, params=params))
            yield page
            if cursor is None:
                return
            if cursor in seen:
                raise BadPayloadError("Squarespace returned the same page cursor twice: stopping the listing")
            seen.add(cursor)
            params = {"cursor": cursor}  # a cursor cannot be combined with the date range

    # --- tracking back ---

    accepts_multiple_shipments = True  # shipments can be added later, even to a FULFILLED order
    shipment_lines_supported = False  # a Squarespace shipment names no lines
    default_carrier_names = {
        "UPS": "UPS",
        "FDX": "FedEx",
        "FEDEX": "FedEx",
        "FXG": "FedEx",
        "USPS": "USPS",
        "DHL": "DHL",
        "DHLEXPRESS": "DHL",
        "DHL EXPRESS": "DHL",
        "DHLECOMMERCE": "DHL eCommerce",
        "ONTRAC": "OnTrac",
        "CANADAPOST": "Canada Post",
        "CANADA POST": "Canada Post",
        "PUROLATOR": "Purolator",
        "ROYALMAIL": "Royal Mail",
        "ROYAL MAIL": "Royal Mail",
        "AUSTRALIAPOST": "Australia Post",
        "AUSPOST": "Australia Post",
        "LASERSHIP": "LaserShip",
        "AMAZON": "Amazon Shipping",
    }

    def _order_path(self, cart_order_id: str) -> str:
        order_id = (cart_order_id or "").strip()
        if not order_id:
            raise ValueError("a Squarespace order id is required")
        return f"{ORDERS_PATH}/{quote(order_id, safe='')}"

    def existing_tracking_numbers(self, cart_order_id: str, *, ordered_at: datetime | None = None) -> set[str]:
        try:
            order = self.api().get_json(self._order_path(cart_order_id))
        except PermanentError as exc:
            if exc.status == 404:
                raise PermanentError(f"Squarespace has no order {cart_order_id} (404)", status=404) from exc
            raise
        return tracking_numbers_of(order)

    def push_shipment(self, cart_order_id: str, shipment: CartShipment, *, notify_customer: bool) -> None:
        body = format_fulfillment(shipment, notify_customer=notify_customer, now=datetime.now(UTC))
        if body is None:
            return
        with _permission("Orders “Read and Write” to send tracking", granted=self.granted):
            response = self.api().request(
                "POST",
                f"{self._order_path(cart_order_id)}/fulfillments",
                json_body=body,
                ok_statuses=(400, 404, 409),
            )
        status = response.status_code
        if status not in (400, 404, 409):
            return
        refusal = _refusal(response, self.secrets())
        if status == 409:
            # Another fulfillment of this order is in progress (perhaps an earlier attempt of ours):
            # later, the pipeline asks which tracking the order has before sending again.
            raise TemporaryError(
                f"Squarespace is busy with another fulfillment of order {cart_order_id} ({refusal})",
                status=409,
                maybe_delivered=True,
            )
        if status == 404:
            raise PermanentError(f"Squarespace has no order {cart_order_id} ({refusal})", status=404)
        raise PermanentError(f"Squarespace refused the tracking for order {cart_order_id} ({refusal})", status=400)

    # --- inventory back ---

    def iter_inventory(self) -> Iterator[list[CartInventoryItem]]:
        client = self.api()
        params: dict[str, str] = {}
        seen: set[str] = set()
        while True:
            with _permission("Inventory “Read” (or “Read and Write”) to read stock", granted=self.granted):
                body = client.get_json(INVENTORY_PATH, params=params)
            items, cursor = parse_inventory_page(body)
            yield items
            if cursor is None:
                return
            if cursor in seen:
                raise BadPayloadError("Squarespace returned the same inventory cursor twice: stopping the listing")
            seen.add(cursor)
            params = {"cursor": cursor}

    def set_inventory(self, updates: list[InventoryUpdate], *, idempotency_key: str) -> InventoryPushResult:
        """Set absolute levels; items Squarespace refuses by name are reported, the rest sent once
        more without them (see the module docstring)."""
        body = format_adjustments(updates, limit=self.inventory_batch_size)
        if not updates:
            return InventoryPushResult()
        client = self.api()
        key = idempotency_header(idempotency_key)
        keys = [u.key for u in updates]
        refused = self._adjust(client, body, key, keys)
        if not refused:
            return self._read_back(client, updates, InventoryPushResult(accepted=keys))
        rest = [u for u in updates if u.key not in refused]
        if not rest:
            return InventoryPushResult(refused=refused)
        rest_keys = [u.key for u in rest]
        again = self._adjust(
            client,
            format_adjustments(rest, limit=self.inventory_batch_size),
            retry_idempotency_key(key, list(refused)),
            rest_keys,
        )
        if not again:
            return self._read_back(client, rest, InventoryPushResult(accepted=rest_keys, refused=refused))
        reason = "not applied: Squarespace also refused the batch sent again without the refused items"
        for variant_id in rest_keys:
            refused[variant_id] = again.get(variant_id) or f"{reason} ({next(iter(again.values()))})"
        return InventoryPushResult(refused=refused)

    def _read_back(
        self, client: ApiClient, updates: list[InventoryUpdate], result: InventoryPushResult
    ) -> InventoryPushResult:
        """The levels just set, as Squarespace shows them (`GET /inventory/{variantIds}`): the
        adjustments call answers without them. A read that fails leaves them unverified (the
        pipeline sends them again); a refused key or a throttled read stops the run as any call does."""
        ids = ",".join(quote(u.key, safe="") for u in updates)
        try:
            with _permission("Inventory “Read” (or “Read and Write”) to read stock", granted=self.granted):
                response = client.request("GET", f"{INVENTORY_PATH}/{ids}", ok_statuses=(400, 404))
            if response.status_code in (400, 404):
                raise PermanentError(_refusal(response, client.secrets), status=response.status_code)
            result.verified, result.unverified = levels_shown(updates, parse_json(response, self.label, client.secrets))
        except (TemporaryError, PermanentError, BadPayloadError) as error:
            reason = f"sent, but Squarespace could not be asked what it shows ({error})"
            result.unverified = dict.fromkeys((u.key for u in updates), reason)
        return result

    def _adjust(self, client: ApiClient, body: dict[str, Any], key: str, keys: list[str]) -> dict[str, str]:
        """One adjustments call: {} when applied, else the refused variant ids with the reason.

        Squarespace applies a call in full or not at all. A refusal that names no item of the batch
        refuses every item with the reason; a concurrent modification is temporary.
        """
        with _permission("Inventory “Read and Write” to set stock levels", granted=self.granted):
            response = client.request(
                "POST", ADJUSTMENTS_PATH, json_body=body, headers={"Idempotency-Key": key}, ok_statuses=(400, 409)
            )
        if response.status_code not in (400, 409):
            return {}
        reason = f"Squarespace refused it ({_refusal(response, client.secrets)})"
        if "CONCURRENT_MODIFICATION" in response.text:
            raise TemporaryError(
                f"Squarespace was changing the same stock at the same time ({_refusal(response, client.secrets)})",
                status=response.status_code,
            )
        named = named_variants(response.text, keys) or keys
        return dict.fromkeys(named, reason)

    def test_connection(self) -> str:
        """Reads that prove the key's read permissions (Orders; Inventory while the connection's
        inventory sync is on): each one missing is named. Its write levels cannot be asked (see
        `integrations.connectors.permissions`)."""
        now = datetime.now(UTC)
        window = {
            "modifiedAfter": format_datetime(now - timedelta(minutes=5)),
            "modifiedBefore": format_datetime(now, round_up=True),
        }
        granted = self.granted
        if granted:
            orders = "This access grant cannot read orders: it needs the website.orders scope."
            stock = (
                "This access grant cannot read stock levels: it needs the website.inventory scope (the inventory "
                "sync sets them; or turn the inventory sync off on this connection)."
            )
        else:
            orders = "This API key cannot read orders: in Squarespace, make a key with Orders: Read and write."
            stock = (
                "This API key cannot read stock levels: in Squarespace, make a key with Inventory: Read and "
                "write (the inventory sync sets them; or turn the inventory sync off on this connection)."
            )
        checks = [(ORDERS_PATH, window, orders)]
        if self.settings.get(INVENTORY_SYNC_HINT, True):
            checks.append((INVENTORY_PATH, {}, stock))
        missing = []
        for path, params, refusal in checks:
            try:
                self.api().get_json(path, params=params)
            except AuthenticationError as exc:
                if exc.status != 403:
                    raise
                missing.append(f"{refusal} (Squarespace answered {exc})")
        if missing:
            raise permissions_missing(missing, where=GRANT_PAGE if granted else KEYS_PAGE)
        reads = "orders and stock levels" if len(checks) > 1 else "orders"
        if granted:
            return f"credentials accepted: the access grant can read {reads} (with the scopes that also write them)."
        needs = "sending tracking needs Orders: Read and write"
        if len(checks) > 1:
            needs += ", setting stock levels needs Inventory: Read and write"
        return f"credentials accepted: the API key can read {reads}." + writes_unchecked("Squarespace", needs)
