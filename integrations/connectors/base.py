"""The two connector interfaces: one for carts (order sources), one for warehouses.

A connector is an adapter between a platform's HTTP API and the canonical dataclasses in
`canonical.py`. It never touches the database: the pipeline in `orders/` and `inventory/` gives it
a connection's base URL, decrypted credentials and settings, and stores what it returns.
Long because the two interfaces and what they share (configuration, the OAuth grant) read in one place.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any, ClassVar
from urllib.parse import urlsplit

from integrations.connectors.canonical import (
    CartInventoryItem,
    CartShipment,
    ChangeResult,
    InventoryPushResult,
    InventoryUpdate,
    OrderPage,
    Shipment,
    StockLevel,
    WarehouseOrder,
    WarehouseOrderLine,
    WarehouseOrderRef,
    WarehouseOrderState,
)
from integrations.connectors.errors import CallTurnedOffError
from integrations.connectors.limits import FieldLimit, RateLimit
from integrations.http import ApiClient, BudgetHook, CooldownHook
from integrations.outbound import OutboundPolicy

CART = "cart"
WAREHOUSE = "warehouse"
ACCOUNT_IDENTITY_MAX = 200  # what `Connection.platform_account` holds


def account_identity_of(family: str, *parts: str) -> str:
    """An account identity: the platform family (one API under several names shares one) and the
    parts that name the account there, compared without case. A long one keeps its head and a digest
    of the whole, so that it fits its column and stays unique."""
    text = ":".join([family, *(str(part).strip().casefold() for part in parts)])
    if len(text) <= ACCOUNT_IDENTITY_MAX:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    return f"{text[: ACCOUNT_IDENTITY_MAX - len(digest) - 1]}~{digest}"


def url_host(url: str) -> str:
    """The host (and a port other than the scheme's) that an address reaches, lower case, without a
    leading "www."; empty when the address names none."""
    try:
        parts = urlsplit(url if "://" in url else f"https://{url}")
        host, port = (parts.hostname or "").removeprefix("www."), parts.port
    except ValueError:
        return ""
    default = {"https": 443, "http": 80}.get(parts.scheme)
    return f"{host}:{port}" if host and port and port != default else host


def secret_digest(value: str) -> str:
    """A short digest of a secret that names it in an identity without revealing it."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ConfigField:
    """One credential or setting a platform needs, as the setup forms show it."""

    name: str
    label: str
    help_text: str = ""
    secret: bool = False
    required: bool = True
    default: Any = ""
    # An address the connector calls: checked where it is typed (https, public: `integrations.outbound`).
    address: bool = False
    switch: bool = False  # a switch (a checkbox: True or False), such as turning on an unconfirmed call


@dataclass(frozen=True)
class UnconfirmedCall:
    """An endpoint that neither the platform's documentation nor integrators' published code confirms: off
    until a person turns it on for the connection. `reason` says why it is unconfirmed, `turn_on_if` when a
    person may turn it on; both are shown where it is switched and in the message of a run it stops."""

    label: str  # what the call does, e.g. "Inventory upload"
    reason: str
    turn_on_if: str

    @property
    def help_text(self) -> str:
        return f"Unconfirmed: {self.reason}. Turn on only if {self.turn_on_if}."


def call_switch_name(call: str) -> str:
    """The connection setting that turns the unconfirmed call `call` on."""
    return f"enable_{call}"


def call_switches(calls: dict[str, UnconfirmedCall]) -> tuple[ConfigField, ...]:
    """One setting per unconfirmed call, off by default: put them in the connector's `setting_fields`."""
    return tuple(
        ConfigField(
            name=call_switch_name(name),
            label=f"Turn on: {call.label} (unconfirmed)",
            help_text=call.help_text,
            required=False,
            default=False,
            switch=True,
        )
        for name, call in calls.items()
    )


class Connector:
    """What every connector has: identity, configuration fields, an HTTP client, a test."""

    key: ClassVar[str]
    label: ClassVar[str]
    role: ClassVar[str]
    default_base_url: ClassVar[str]
    base_url_help: ClassVar[str] = ""
    credential_fields: ClassVar[tuple[ConfigField, ...]] = ()
    setting_fields: ClassVar[tuple[ConfigField, ...]] = ()
    # Calls this connector makes only when a person turned them on for the connection (name ->
    # why they are unconfirmed); each has its switch among `setting_fields` (`call_switches`).
    unconfirmed_calls: ClassVar[dict[str, UnconfirmedCall]] = {}
    rate_limit: ClassVar[RateLimit] = RateLimit(requests=120, seconds=60, source="guess: no limit documented")

    def __init__(
        self,
        *,
        base_url: str = "",
        credentials: dict[str, Any] | None = None,
        settings: dict[str, Any] | None = None,
        rate_key: str = "",
        on_credentials_changed: Callable[[dict[str, Any]], None] | None = None,
        outbound: OutboundPolicy | None = None,
        cooldown: CooldownHook | None = None,
        budget: BudgetHook | None = None,
    ) -> None:
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.outbound = outbound  # where its requests may go; None: public https addresses only
        self.credentials = dict(credentials or {})
        self.settings = self.settings_with_defaults(settings or {})
        self.rate_key = rate_key or f"{self.key}:{self.base_url}"
        self.on_credentials_changed = on_credentials_changed
        # The platform account's rate-limit cooldown and rate budget (kept by the caller): every client keeps to them.
        self.cooldown, self.budget = cooldown, budget

    @classmethod
    def settings_with_defaults(cls, settings: dict[str, Any]) -> dict[str, Any]:
        """Stored settings over the declared defaults; a blank stored value keeps the default."""
        given = {k: v for k, v in settings.items() if v not in (None, "")}
        return {f.name: f.default for f in cls.setting_fields} | given

    @classmethod
    def missing_configuration(
        cls, credentials: dict[str, Any], settings: dict[str, Any], base_url: str = ""
    ) -> list[ConfigField]:
        """The required credentials and settings that are empty (defaults count as set)."""
        settings = cls.settings_with_defaults(settings)
        missing = [f for f in cls.credential_fields if f.required and not credentials.get(f.name)]
        missing += [f for f in cls.setting_fields if f.required and not settings.get(f.name)]
        return missing

    def call_enabled(self, name: str) -> bool:
        """Whether the connector may make call `name`: always for a confirmed call; for an
        unconfirmed one only when its switch is on in the connection's settings."""
        if name not in self.unconfirmed_calls:
            return True
        value = self.settings.get(call_switch_name(name))
        return value is True or str(value).strip().lower() in ("true", "1", "on", "yes")

    def call_required(self, name: str, *, step: str) -> None:
        """Raise `CallTurnedOffError` (before anything is sent) when call `name` is off; `step`
        names what it stops for the run's message ("Inventory")."""
        if self.call_enabled(name):
            return
        call = self.unconfirmed_calls[name]
        raise CallTurnedOffError(
            f"{step}: not supported for this platform ({call.reason}; turn it on in the connection "
            f"if {call.turn_on_if})"
        )

    def secrets(self) -> list[str]:
        return [str(self.credentials.get(f.name) or "") for f in self.credential_fields if f.secret]

    def make_client(self, base_url: str | None = None, **kwargs: Any) -> ApiClient:
        """A client for this connection's address (or `base_url`) under its outbound policy; a URL
        the operator configured in the settings passes `outbound=outbound.OPERATOR_CONFIGURED`."""
        kwargs.setdefault("secrets", self.secrets())
        kwargs.setdefault("outbound", self.outbound)
        client = ApiClient(base_url or self.base_url, platform=self.label, rate_key=self.rate_key, **kwargs)
        client.cooldown, client.budget = self.cooldown, self.budget
        return client

    def test_connection(self) -> str:
        """Call the platform with the stored credentials; return what was checked, or raise."""
        raise NotImplementedError

    def account_identity(self) -> str:
        """The platform account behind this connection, from its configuration alone (no request):
        connections with the same identity reach the same account, so they share its order
        references and its rate limits. Empty when only the platform can tell (see
        `learn_account_identity`) or the configuration is incomplete."""
        return ""

    def learn_account_identity(self) -> str:
        """The account identity, asking the platform where the configuration cannot tell (may send
        a request; raises the connector's typed errors)."""
        return self.account_identity()

    @classmethod
    def credentials_after_edit(cls, stored: dict[str, Any], typed: dict[str, Any]) -> dict[str, Any]:
        """What to store when a person edits the credentials: a blank keeps the stored value."""
        return stored | {k: v for k, v in typed.items() if v not in (None, "")}

    def credentials_changed(self) -> None:
        """Tell the caller to store `self.credentials` again (e.g. after an OAuth token refresh)."""
        if self.on_credentials_changed is not None:
            self.on_credentials_changed(dict(self.credentials))


class OAuthConnector(Connector):
    """A platform that grants access through the OAuth2 authorization-code flow.

    The app's client id and secret come from Django settings (`<KEY>_OAUTH_CLIENT_ID`,
    `<KEY>_OAUTH_CLIENT_SECRET`); the tokens the grant gives live in the connection's credentials.
    The authorize page and the token endpoint are the platform's own fixed URLs, never derived from
    the connection's API address (which a person types): our client secret goes to the token URL
    only. The caller may pass other ones from settings (`_oauth_authorize_url`, `_oauth_token_url`,
    from `<KEY>_OAUTH_AUTHORIZE_URL` / `<KEY>_OAUTH_TOKEN_URL`: a sandbox), and nothing else may.
    """

    oauth_authorize_url: ClassVar[str]
    oauth_token_url: ClassVar[str]

    @property
    def authorize_endpoint(self) -> str:
        return str(self.settings.get("_oauth_authorize_url") or self.oauth_authorize_url)

    @property
    def token_endpoint(self) -> str:
        return str(self.settings.get("_oauth_token_url") or self.oauth_token_url)

    @classmethod
    def credentials_after_edit(cls, stored: dict[str, Any], typed: dict[str, Any]) -> dict[str, Any]:
        """A pasted access token replaces the grant: the old refresh token and expiry go with it
        (else a refresh could swap the pasted token for another account's)."""
        if typed.get("access_token") and not typed.get("refresh_token"):
            stored = {k: v for k, v in stored.items() if k not in ("refresh_token", "expires_at")}
        return super().credentials_after_edit(stored, typed)

    @classmethod
    def needs_grant(cls, credentials: dict[str, Any]) -> bool:
        return not credentials.get("access_token")  # (a platform that also takes a key says otherwise)

    def authorization_url(self, *, client_id: str, redirect_uri: str, state: str) -> str:
        """Where to send the merchant to grant us access."""
        raise NotImplementedError

    def exchange_code(self, *, client_id: str, client_secret: str, code: str, redirect_uri: str) -> dict[str, Any]:
        """Trade the callback's code for tokens; returns the credentials to store."""
        raise NotImplementedError


class CartConnector(Connector):
    """An order source: Squarespace, TradeGecko, Overstock..."""

    role = CART

    def iter_order_pages(
        self, *, modified_after: datetime, modified_before: datetime, open_only: bool
    ) -> Iterator[OrderPage]:
        """Yield every page of orders modified in [modified_after, modified_before) (UTC).

        `open_only` asks the platform for unfulfilled orders only (the first import). A page that
        cannot be read to the end raises: a run must fail loudly rather than look complete.
        """
        raise NotImplementedError

    # True: orders are listed by creation time only: their later changes are read again (`intake.reread`).
    lists_by_creation: ClassVar[bool] = False

    # --- tracking back --------------------------------------------------------------------
    # Whether the cart takes several shipments for one order (else they are combined into one).
    accepts_multiple_shipments: ClassVar[bool] = True
    # Whether a shipment can name the lines it covers (else it covers the order).
    shipment_lines_supported: ClassVar[bool] = False
    # Warehouse carrier code (upper case) -> the carrier name this cart expects.
    default_carrier_names: ClassVar[dict[str, str]] = {}

    def existing_tracking_numbers(self, cart_order_id: str, *, ordered_at: datetime | None = None) -> set[str]:
        """Tracking numbers the cart already has for the order (so a re-push adds nothing twice).

        `ordered_at` helps carts that can only list orders by creation time find it again."""
        raise NotImplementedError

    def push_shipment(self, cart_order_id: str, shipment: CartShipment, *, notify_customer: bool) -> None:
        """Tell the cart the order (or part of it) shipped with this tracking."""
        raise NotImplementedError

    # --- inventory back -------------------------------------------------------------------
    inventory_batch_size: ClassVar[int] = 50
    # False: the cart cannot list its items; the pipeline builds them from the order lines seen.
    inventory_listing: ClassVar[bool] = True
    # The call `set_inventory` makes when it is one of `unconfirmed_calls` (else ""): while it is
    # off, an inventory run reads and sends nothing and ends as not supported.
    inventory_call: ClassVar[str] = ""

    def inventory_check(self) -> None:
        """Raise `CallTurnedOffError` when the inventory upload is an unconfirmed call that is off
        for this connection (asked before any level is computed or sent)."""
        if self.inventory_call:
            self.call_required(self.inventory_call, step="Inventory")

    def iter_inventory(self) -> Iterator[list[CartInventoryItem]]:
        """Every stock-keeping item the cart has, a page at a time."""
        raise NotImplementedError

    def set_inventory(self, updates: list[InventoryUpdate], *, idempotency_key: str) -> InventoryPushResult:
        """Set absolute levels (at most `inventory_batch_size` per call)."""
        raise NotImplementedError


class WarehouseConnector(Connector):
    """A warehouse (WMS / 3PL): Bergen Logistics, TradeGecko as the stock side..."""

    role = WAREHOUSE
    # Limits on the reference (`cust_ref`) the warehouse accepts; editable per connection.
    cust_ref_max_length: ClassVar[int] = 20
    cust_ref_charset: ClassVar[str] = "A-Za-z0-9-"  # a regex character class body
    # The ship-to fields the warehouse requires and their limits (`connectors.limits`): the
    # pipeline holds what cannot be sent and adapts what can, before any send.
    field_limits: ClassVar[tuple[FieldLimit, ...]] = ()

    def __init__(self, *, time_zone: tzinfo | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # The zone the warehouse's system writes dates without an offset in (the connection's
        # setting); None while nobody has said: such dates are read as UTC, and the pipeline widens
        # its windows instead.
        self.time_zone = time_zone

    def format_order(self, order: WarehouseOrder) -> dict[str, Any]:
        """The payload `submit_order` sends, as a pure function (shown in the admin)."""
        raise NotImplementedError

    def submit_order(self, order: WarehouseOrder) -> WarehouseOrderRef:
        """Create the order. Raises `DuplicateReferenceError` when the reference exists,
        `OrderRejectedError` for a refusal a person can fix, `TemporaryError` otherwise."""
        raise NotImplementedError

    def find_orders(self, cust_ref: str) -> list[WarehouseOrderRef]:
        """Every order the warehouse holds under this reference (more than one where it takes a
        reference twice), each with what it was read back as (`cust_po_no`, `ship_to`, `items`):
        asked before any resend, and after a "duplicate reference" answer."""
        raise NotImplementedError

    def find_order(self, cust_ref: str) -> WarehouseOrderRef | None:
        """The first of `find_orders`, or None."""
        return next(iter(self.find_orders(cust_ref)), None)

    def list_skus(self) -> set[str]:
        """Every SKU the warehouse stocks (checked before sending an order)."""
        raise NotImplementedError

    def iter_shipments(self, *, shipped_after: datetime, shipped_before: datetime) -> Iterator[list[Shipment]]:
        """Parcels shipped in the window, a page at a time; one `Shipment` per parcel."""
        raise NotImplementedError

    def iter_stock_levels(self) -> Iterator[list[StockLevel]]:
        """Available stock per SKU at this connection's warehouse, a page at a time."""
        raise NotImplementedError

    # --- changes after delivery -------------------------------------------------------------
    # Whether `order_cancel` takes `lines` (a cancel of part of the order), as the platform documents.
    partial_cancel_supported: ClassVar[bool] = False

    def order_state(self, ref: WarehouseOrderRef) -> WarehouseOrderState:
        """Where the order is in its life at the warehouse (received, picking, shipped, canceled),
        with what it holds now. Raises `ChangeRefusedError` when the warehouse has no such order."""
        raise NotImplementedError

    def order_cancel(
        self, ref: WarehouseOrderRef, *, reason: str, lines: list[WarehouseOrderLine] | None = None
    ) -> ChangeResult:
        """Cancel the order, or with `lines` (SKU and the quantity to take off) that part of it, then
        read it back. An order already canceled (or without those units) is CHANGE_ALREADY.

        Raises `ChangeTooLateError` (the warehouse refuses: picking, shipped, closed),
        `ChangeRefusedError` (a person must look), `ChangeNotSupportedError` (no documented way:
        nothing sent), `ChangeUnconfirmedError`, `TemporaryError` or `ThrottledError` (retry)."""
        raise NotImplementedError

    def order_update(self, ref: WarehouseOrderRef, payload: WarehouseOrder) -> ChangeResult:
        """Make the order at the warehouse what `payload` says (ship-to, lines and quantities,
        shipping code), then read it back. An order that already is so is CHANGE_ALREADY. Raises as
        `order_cancel` does."""
        raise NotImplementedError
