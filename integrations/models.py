"""Merchants and their connections to carts and warehouses.

Credentials live in one Fernet-encrypted JSON field per connection (keys from `FERNET_KEYS`);
non-secret platform settings live in a plain JSON field. Which fields a platform needs is declared
by its connector class (`credential_fields`, `setting_fields`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings as django_settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from integrations.fields import KeptEncryptedTextField, Undecryptable
from integrations.models_limits import PlatformBudget, PlatformCooldown  # noqa: F401
from integrations.models_webhooks import WebhookSubscription  # noqa: F401
from integrations.platforms import CART_PLATFORMS, PLATFORM_LABELS, WAREHOUSE_PLATFORMS
from integrations.tenancy import CrossMerchantLink, MerchantScoped
from integrations.zones import TIME_ZONE_HELP, TIME_ZONE_UNSET_NOTE, validate_time_zone, zone_named


class Merchant(models.Model):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True, help_text="Used on the command line: --merchant SLUG.")
    contact_email = models.EmailField(blank=True, help_text="Who hears about held orders and failing connections.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        permissions = [("view_as_merchant", "Can view the merchant pages as the merchant sees them (read only)")]

    def __str__(self) -> str:
        return self.name


class MerchantMembership(models.Model):
    """Links a (normally non-staff) user to the one merchant whose pages they see.

    One row per user: the merchant pages show exactly one merchant's data, and staff who are
    not linked here use the admin instead. It lives beside `Merchant` because the OAuth callback
    (`integrations.views`) checks it too; its table keeps the name it was created with.
    """

    user = models.OneToOneField(
        django_settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="merchant_membership",
        help_text="Signs in at /merchant/login/ and sees only this merchant's connections, orders and aliases.",
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "portal_merchantmembership"
        verbose_name = "merchant membership"
        ordering = ["merchant__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} → {self.merchant}"


class SyncOutcome(models.TextChoices):
    RUNNING = "running", "running"
    SUCCEEDED = "succeeded", "succeeded"
    PARTIAL = "partial", "succeeded with problems"
    THROTTLED = "throttled", "throttled (continues next run)"
    FAILED = "failed", "failed"
    SKIPPED = "skipped", "skipped (another run of it was in progress)"
    INTERRUPTED = "interrupted", "interrupted (its worker stopped before it finished)"
    # The step needs a call that is unconfirmed for the platform and off for the connection: not a failure.
    NOT_SUPPORTED = "not_supported", "not supported for this platform"


class Connection(MerchantScoped):
    """What cart and warehouse connections share."""

    tenancy_fields = ("merchant",)

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE)
    name = models.CharField(max_length=120, blank=True, help_text="A label for people, e.g. 'Main store'.")
    active = models.BooleanField(default=True, help_text="Inactive connections are never synced.")
    api_base_url = models.URLField(
        "API base URL",
        blank=True,
        help_text="Leave blank for the platform's real API. Set by staff only: a regional or test host (a public "
        "https address), or a sandbox while SANDBOX_ENABLED is on.",
    )
    sandbox_tooling = models.BooleanField(
        default=False,
        editable=False,
        help_text="Made by the project's sandbox tooling (demo, chaos, bench): its API base URL may be a "
        "loopback sandbox while the sandbox app is installed.",
    )
    sandbox_requests_per_minute = models.PositiveIntegerField(
        null=True,
        blank=True,
        editable=False,
        help_text="Set by the sandbox tooling only: the rate its sandbox takes, which the rate budget keeps to "
        "instead of the platform's documented limit (honoured only while the connection is the tooling's).",
    )
    credentials = KeptEncryptedTextField(blank=True, default="", editable=False)
    settings = models.JSONField(default=dict, blank=True, help_text="Platform settings (not secret).")
    needs_new_grant = models.BooleanField(
        default=False,
        editable=False,
        help_text="The platform revoked our access (or its refresh failed): grant access again.",
    )
    platform_account = models.CharField(
        max_length=200,
        blank=True,
        db_index=True,
        editable=False,
        help_text=(
            "The platform account this connection reaches: connections that reach the same one share its order "
            "references and rate limits. Empty until known (see integrations.accounts)."
        ),
    )
    last_test_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_test_ok = models.BooleanField(null=True, editable=False)
    last_test_message = models.TextField(blank=True, editable=False)
    last_sync_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_sync_status = models.CharField(max_length=20, choices=SyncOutcome.choices, blank=True, editable=False)
    last_sync_message = models.TextField(blank=True, editable=False)
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Retry state lives here, on the row (never only in a task queue).
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Scheduled runs wait until then (backoff, rate limits)."
    )
    unhealthy = models.BooleanField(
        default=False, editable=False, help_text="Failed several times in a row (see the last sync message)."
    )
    blocked_reason = models.TextField(
        blank=True,
        editable=False,
        help_text="Why scheduled runs stopped until a person acts (credentials refused, gave up retrying).",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        label = PLATFORM_LABELS.get(self.platform, self.platform)
        return f"{self.merchant} · {label}" + (f" ({self.name})" if self.name else "")

    @property
    def credentials_unreadable(self) -> bool:
        """No key in `FERNET_KEYS` decrypts the stored credentials (a key was removed too soon)."""
        return isinstance(self.credentials, Undecryptable)

    UNREADABLE_CREDENTIALS = (
        "its stored credentials cannot be read: no key in FERNET_KEYS decrypts them. Put back the key they "
        "were encrypted with (then run rotate_credentials_key), or enter the credentials again"
    )

    def get_credentials(self) -> dict[str, Any]:
        """The stored credentials; none when they are unreadable (see `credentials_unreadable`)."""
        if not self.credentials:
            return {}
        try:
            value = json.loads(self.credentials)
        except ValueError:
            return {}
        return value if isinstance(value, dict) else {}

    def set_credentials(self, values: dict[str, Any]) -> None:
        self.credentials = json.dumps({k: v for k, v in values.items() if v not in (None, "")})

    def update_credentials(self, values: dict[str, Any]) -> None:
        """Merge: a blank value keeps what is stored (secrets are never shown back)."""
        merged = self.get_credentials()
        merged.update({k: v for k, v in values.items() if v not in (None, "")})
        self.set_credentials(merged)

    @property
    def platform_label(self) -> str:
        return PLATFORM_LABELS.get(self.platform, self.platform)


class WMSConnection(Connection):
    """A warehouse (WMS / 3PL) that ships the merchant's orders."""

    platform = models.CharField(max_length=40, choices=WAREHOUSE_PLATFORMS)
    cust_ref_max_length = models.PositiveSmallIntegerField(
        "cust_ref max length",
        default=20,
        validators=[MinValueValidator(6), MaxValueValidator(64)],
        help_text="The longest order reference this warehouse accepts (6 to 64).",
    )
    cust_ref_charset = models.CharField(
        "cust_ref characters",
        max_length=60,
        default="A-Za-z0-9-",
        help_text="Characters the warehouse accepts in a reference, as a regex character class body.",
    )
    cust_ref_prefix = models.CharField(
        "cust_ref prefix", max_length=10, blank=True, help_text="Optional prefix put before every reference."
    )
    default_ship_code = models.CharField(
        max_length=80,
        blank=True,
        help_text="Used when a cart's shipping method has no mapping. Leave blank to hold such orders instead.",
    )

    class TrackingMode(models.TextChoices):
        EACH = "each", "send each shipment as it comes"
        COMPLETE = "complete", "wait until the order is complete"

    tracking_mode = models.CharField(
        max_length=10,
        choices=TrackingMode.choices,
        default=TrackingMode.EACH,
        help_text="When tracking goes back to the cart for an order shipped in several parts.",
    )
    shipment_watermark = models.DateTimeField(
        null=True, blank=True, help_text="Shipments up to this time (UTC) have been read from the warehouse."
    )
    time_zone = models.CharField(max_length=64, blank=True, validators=[validate_time_zone], help_text=TIME_ZONE_HELP)
    daily_cutoff = models.TimeField(
        "daily carrier cut-off",
        null=True,
        blank=True,
        help_text="When the warehouse's carriers collect the day's parcels, in the warehouse's time zone. A change "
        "that reaches the warehouse too late (the order is being picked) gives the next cut-off as the deadline "
        "to ask the warehouse to intercept it. Empty: not known.",
    )

    class Meta:
        verbose_name = "warehouse connection"
        ordering = ["merchant__name", "pk"]

    @property
    def zone(self) -> ZoneInfo | None:
        """The zone the warehouse writes dates without an offset in; None while not known."""
        return zone_named(self.time_zone)

    @property
    def time_zone_note(self) -> str:
        """What the pages say while the zone is not known (the tracking window is widened); else ""."""
        return "" if self.zone else TIME_ZONE_UNSET_NOTE

    def next_cutoff(self, after: datetime) -> datetime | None:
        """The first daily carrier cut-off after `after`, in the warehouse's zone (UTC while the zone
        is not known); None when the cut-off is not set."""
        if self.daily_cutoff is None:
            return None
        zone = self.zone or UTC
        local = after.astimezone(zone)
        cutoff = datetime.combine(local.date(), self.daily_cutoff, tzinfo=zone)
        return cutoff if cutoff > local else datetime.combine(local.date() + timedelta(days=1), self.daily_cutoff, zone)


# The longest hold window: a week. Longer would keep orders from the warehouse past anything a merchant
# means, and a value near the integer limit would overflow the date it is added to.
HOLD_MINUTES_MAX = 7 * 24 * 60


class CartConnection(Connection):
    """An order source (cart or marketplace)."""

    tenancy_fields = ("merchant", "warehouse")

    platform = models.CharField(max_length=40, choices=CART_PLATFORMS)
    warehouse = models.ForeignKey(
        WMSConnection,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="carts",
        help_text="Where this cart's orders go. Blank: the merchant's only active warehouse.",
    )
    earliest_order_date = models.DateField(
        help_text="The first import takes open orders placed on or after this date; older ones are never imported."
    )
    skip_test_orders = models.BooleanField(
        default=False, help_text="Skip orders the cart marks as test orders (recorded as skipped)."
    )
    hold_minutes = models.PositiveIntegerField(
        "hold window (minutes)",
        default=0,
        validators=[MaxValueValidator(HOLD_MINUTES_MAX)],
        help_text="A new order waits this many minutes after it was placed before it is sent to the warehouse, "
        f"so that a change or cancellation made at the cart meanwhile is applied. 0: sent at once; at most "
        f"{HOLD_MINUTES_MAX} (7 days).",
    )
    order_watermark = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Orders modified up to this time (UTC) have been read. Empty: the next run is a first import.",
    )
    notify_customer_on_shipment = models.BooleanField(
        default=True, help_text="Ask the cart to email the customer when tracking is added (where it can)."
    )
    inventory_sync_enabled = models.BooleanField(default=True, help_text="Push warehouse stock levels to this cart.")
    inventory_buffer = models.PositiveIntegerField(
        default=0, help_text="Units held back from every pushed level (a safety margin)."
    )
    inventory_min_level = models.PositiveIntegerField(
        default=0, help_text="Below this many units, push 0 (show the item as sold out)."
    )
    orders_every_minutes = models.PositiveIntegerField(default=5, help_text="How often orders are synced.")
    shipments_every_minutes = models.PositiveIntegerField(default=30, help_text="How often tracking is synced.")
    inventory_every_minutes = models.PositiveIntegerField(default=60, help_text="How often inventory is synced.")
    stuck_after_hours = models.PositiveIntegerField(
        default=72, help_text="An order at the warehouse this long without shipping is shown as stuck."
    )
    alert_after_minutes = models.PositiveIntegerField(
        default=120, help_text="Alert when the orders sync has not succeeded for this long (whatever the reason)."
    )
    inventory_full_push_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="Last full push (every level, changed or not)."
    )
    inventory_catalog_read_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When the cart's item list was last read for inventory."
    )

    class Meta:
        verbose_name = "cart connection"
        ordering = ["merchant__name", "pk"]

    @property
    def hold_window(self) -> timedelta:
        """The hold window as a duration, never past `HOLD_MINUTES_MAX` (a row written around the
        forms still computes)."""
        return timedelta(minutes=min(self.hold_minutes or 0, HOLD_MINUTES_MAX))

    def resolved_warehouse(self) -> WMSConnection | None:
        """Where this cart's orders go: its chosen warehouse, else the merchant's only active one.

        Raises CrossMerchantLink when the chosen warehouse belongs to another merchant (a row stored
        before that was refused, or by something that bypasses `save()`): nothing may go there."""
        if self.warehouse_id:
            if self.warehouse.merchant_id != self.merchant_id:
                raise CrossMerchantLink(
                    f"This cart connection (#{self.pk}) is set to send its orders to warehouse connection "
                    f"#{self.warehouse_id}, which belongs to another merchant: nothing is read from or sent to "
                    "it. A person must choose one of this merchant's own warehouse connections on the cart "
                    "connection (or leave it blank for the merchant's only active one)."
                )
            return self.warehouse
        candidates = list(WMSConnection.objects.filter(merchant_id=self.merchant_id, active=True)[:2])
        return candidates[0] if len(candidates) == 1 else None


class OAuthGrantState(models.Model):
    """One "Grant us API access" under way: the nonce its OAuth `state` carries, who started it, for
    which connection and from which pages. The callback deletes the row before it does anything else,
    so a state works once; the row goes with its connection or user."""

    nonce = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(django_settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    cart_connection = models.ForeignKey(
        CartConnection, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    warehouse_connection = models.ForeignKey(
        WMSConnection, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    origin = models.CharField(max_length=10, help_text="Where the grant started: the admin or the merchant pages.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = "OAuth grant under way"
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(cart_connection__isnull=False, warehouse_connection__isnull=True)
                    | models.Q(cart_connection__isnull=True, warehouse_connection__isnull=False)
                ),
                name="oauth_grant_state_one_connection",
            ),
        ]

    def __str__(self) -> str:
        return f"access grant for {self.connection} started by user {self.user_id}"

    @property
    def connection(self) -> Connection:
        return self.cart_connection or self.warehouse_connection  # type: ignore[return-value]
