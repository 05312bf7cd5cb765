"""Orders, their lines and history, skipped orders, shipments and sync runs; the mapping models
(SKU aliases, shipping and carrier maps) live in `orders.models_mapping`.

Idempotency lives in the schema: one order per (cart connection, cart order id), one `cust_ref`
per warehouse account (whichever connections reach it), one shipment per (order, warehouse
shipment id). Orders are never hard-deleted: a deleted order would be imported and shipped again.

Long because the order carries CartRover's whole field set, and its history, shipments and runs sit beside it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from integrations.models import CartConnection, Merchant, SyncOutcome, WMSConnection
from integrations.tenancy import CrossMerchantLink, MerchantScoped
from orders.models_changes import OrderChange  # noqa: F401
from orders.models_mapping import CarrierNameMap, ShippingMethodMap, SKUAlias, WarehouseSKUList  # noqa: F401


class OrderStatus(models.TextChoices):
    """CartRover's status values, which its users know."""

    NEW = "new", "new"
    ERROR = "error", "held"
    AT_WMS = "at_wms", "at warehouse"
    SHIPPED = "shipped", "shipped"
    CONFIRMED = "confirmed", "confirmed"
    CANCELED = "canceled", "canceled"


class HoldCode(models.TextChoices):
    UNKNOWN_SKU = "unknown_sku", "unknown SKU"
    UNMAPPED_SHIPPING = "unmapped_shipping", "unmapped shipping method"
    MISSING_ADDRESS = "missing_address", "missing ship-to fields"
    ZERO_QUANTITY = "zero_quantity", "zero quantity"
    NO_LINES = "no_lines", "no lines"
    BAD_PAYLOAD = "bad_payload", "unreadable at the cart"
    NO_WAREHOUSE = "no_warehouse", "no warehouse connected"
    WAREHOUSE_REJECTED = "warehouse_rejected", "refused by the warehouse"
    LINE_CANCELED = "line_canceled", "line canceled at the cart"  # no longer raised: Retry releases such orders
    REFERENCE_TAKEN = "reference_taken", "reference already used at the warehouse by another order"
    HELD_BY_HAND = "held_by_hand", "held by hand"


class Order(MerchantScoped):
    tenancy_fields = ("merchant", "cart_connection", "warehouse")

    # No index of their own: (merchant, status) and unique (cart_connection, cart_order_id) lead with
    # them, and every index is work for each of the thousands of orders an import inserts.
    merchant = models.ForeignKey(Merchant, on_delete=models.PROTECT, related_name="orders", db_index=False)
    cart_connection = models.ForeignKey(CartConnection, on_delete=models.PROTECT, related_name="orders", db_index=False)
    warehouse = models.ForeignKey(WMSConnection, on_delete=models.PROTECT, null=True, blank=True, related_name="orders")
    # Text, not a bounded column: whatever the cart uses as its id is stored whole (never cut, never lost).
    cart_order_id = models.TextField("cart order id")
    order_number = models.CharField(max_length=255, help_text="As the cart shows it.")
    cust_po_no = models.CharField("cust_po_no", max_length=255, blank=True, help_text="The full order number.")
    cust_ref = models.CharField(  # noqa: DJ001 - NULL until assigned, so the unique constraint ignores it
        "cust_ref",
        max_length=64,
        null=True,
        blank=True,
        help_text="Short unique reference the warehouse sees; fixed before the first send.",
    )
    warehouse_account = models.CharField(  # noqa: DJ001 - NULL with cust_ref: no reference reserved
        max_length=200,
        null=True,
        blank=True,
        editable=False,
        help_text="The warehouse account whose references cust_ref is unique among (set with it).",
    )
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.NEW)
    hold_code = models.CharField(max_length=40, choices=HoldCode.choices, blank=True)
    hold_reason = models.TextField(blank=True, help_text="What is wrong and how to fix it.")
    cart_status = models.CharField(max_length=20, blank=True, help_text="What the cart last said.")
    is_test = models.BooleanField("test order", default=False)
    ordered_at = models.DateTimeField(null=True, blank=True)
    cart_modified_at = models.DateTimeField(null=True, blank=True)
    customer_email = models.CharField(max_length=254, blank=True)

    ship_first_name = models.CharField(max_length=200, blank=True)
    ship_last_name = models.CharField(max_length=200, blank=True)
    ship_company = models.CharField(max_length=200, blank=True)
    ship_address_1 = models.CharField(max_length=255, blank=True)
    ship_address_2 = models.CharField(max_length=255, blank=True)
    ship_address_3 = models.CharField(max_length=255, blank=True)
    ship_city = models.CharField(max_length=120, blank=True)
    ship_state = models.CharField(max_length=120, blank=True)
    ship_zip = models.CharField(max_length=40, blank=True)
    ship_country = models.CharField(max_length=60, blank=True)
    ship_phone = models.CharField(max_length=60, blank=True)
    ship_e_mail = models.CharField(max_length=254, blank=True)
    bill_to = models.JSONField(default=dict, blank=True, help_text="Bill-to address (cust_* fields).")

    orig_ship_code = models.CharField(max_length=200, blank=True, help_text="Shipping method as the cart sent it.")
    ship_code = models.CharField(max_length=80, blank=True, help_text="Shipping code sent to the warehouse.")
    warehouse_order_id = models.CharField(max_length=100, blank=True)
    warehouse_payload = models.JSONField(null=True, blank=True, help_text="What is (or would be) sent.")
    cart_payload = models.JSONField(null=True, blank=True, help_text="The order as the cart last sent it.")

    hold_until = models.DateTimeField(
        "hold window ends",
        null=True,
        blank=True,
        help_text="Not sent before this time: its cart connection's hold window. Empty: no window, or released.",
    )
    # Delivery bookkeeping: durable, on the row (never only in a task queue).
    delivery_attempts = models.PositiveIntegerField(default=0)
    delivery_uncertain = models.BooleanField(
        default=False, help_text="A send may have reached the warehouse: ask it before sending again."
    )
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    partially_shipped = models.BooleanField(default=False, help_text="Some lines have shipped, not all.")
    warehouse_checked_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the order was last read at the warehouse to see a change made there (canceled, gone, "
        "shipped short).",
    )
    # Whether the warehouse's order reads back as what was sent (`services.delivery.verify`).
    warehouse_verified_at = models.DateTimeField(
        null=True, blank=True, help_text="When the warehouse's order read back as sent (number, lines, quantities)."
    )
    warehouse_verify_attempts = models.PositiveIntegerField(
        default=0, help_text="Read-backs of the warehouse's order that did not verify it."
    )
    warehouse_verify_next_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the warehouse's order is read back again; empty once verified or given up (see Problems).",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-pk"]
        constraints = [
            models.UniqueConstraint(fields=["cart_connection", "cart_order_id"], name="unique_order_per_cart"),
            # One namespace of references per warehouse account, whichever connections reach it.
            models.UniqueConstraint(
                Lower("cust_ref"),
                "warehouse_account",
                condition=Q(cust_ref__isnull=False),
                name="unique_cust_ref_per_account",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["merchant", "status"]),
            models.Index(fields=["order_number"]),
            models.Index(fields=["cust_ref"]),
            models.Index(fields=["hold_code"]),
            models.Index(fields=["created_at"]),
            # Partial: only the few orders waiting for a read-back are in it, not every order imported.
            models.Index(
                fields=["warehouse_verify_next_at"],
                condition=Q(warehouse_verify_next_at__isnull=False),
                name="order_verify_due",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.order_number}"

    def destination_warehouse(self) -> WMSConnection | None:
        """Where this order goes: its own warehouse once it has one, else its cart's.

        Raises CrossMerchantLink when that warehouse belongs to another merchant (a row stored before
        that was refused, or by something that bypasses `save()`): nothing may be sent there."""
        if self.warehouse_id is None:
            return self.cart_connection.resolved_warehouse()
        if self.warehouse.merchant_id != self.merchant_id:
            raise CrossMerchantLink(
                f"Order #{self.order_number} is assigned to warehouse connection #{self.warehouse_id}, which "
                "belongs to another merchant: it is not sent there. A person must correct the order's warehouse."
            )
        return self.warehouse


class OrderLine(models.Model):
    # Indexed by unique (order, line_no), which leads with it.
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines", db_index=False)
    line_no = models.PositiveIntegerField()
    cart_line_id = models.CharField(max_length=100, blank=True)
    cart_item_key = models.CharField(max_length=200, blank=True, help_text="The cart's id for the item.")
    canceled_at_cart = models.BooleanField(default=False)
    cart_sku = models.CharField("cart SKU", max_length=200, blank=True)
    warehouse_sku = models.CharField("warehouse SKU", max_length=200, blank=True)
    description = models.CharField(max_length=500, blank=True)
    quantity = models.IntegerField()
    price = models.DecimalField(max_digits=12, decimal_places=2, default=0)

    class Meta:
        ordering = ["order", "line_no"]
        constraints = [models.UniqueConstraint(fields=["order", "line_no"], name="unique_line_no")]
        indexes = [models.Index(fields=["cart_sku"]), models.Index(fields=["warehouse_sku"])]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.cart_sku}"

    @property
    def extended_amount(self):
        return self.price * self.quantity


class OrderEvent(MerchantScoped):
    """One line of an order's history: every state change, with time and a reason."""

    tenancy_fields = ("order", "sync_run")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20, blank=True)
    code = models.CharField(max_length=40, blank=True)
    message = models.TextField()
    sync_run = models.ForeignKey("SyncRun", on_delete=models.SET_NULL, null=True, blank=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = "order history entry"
        verbose_name_plural = "order history"

    def __str__(self) -> str:
        return self.message


class SkippedOrder(models.Model):
    """An order the cart listed that we chose not to import, and why ("where is my order?")."""

    cart_connection = models.ForeignKey(CartConnection, on_delete=models.CASCADE, related_name="skipped_orders")
    cart_order_id = models.TextField()
    order_number = models.CharField(max_length=255, blank=True)
    reason_code = models.CharField(max_length=40)
    reason = models.TextField()
    cart_status = models.CharField(max_length=20, blank=True)
    ordered_at = models.DateTimeField(null=True, blank=True)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(fields=["cart_connection", "cart_order_id"], name="unique_skipped_per_cart")
        ]
        indexes = [models.Index(fields=["order_number"])]

    def __str__(self) -> str:
        return f"#{self.order_number or self.cart_order_id}: {self.reason_code}"


class SyncRun(MerchantScoped):
    """One run of one sync kind for one connection: when, how long, what it did, its error."""

    tenancy_fields = ("merchant", "cart_connection", "warehouse")

    class Kind(models.TextChoices):
        ORDERS = "orders", "orders"
        SHIPMENTS = "shipments", "shipments"
        INVENTORY = "inventory", "inventory"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="sync_runs")
    cart_connection = models.ForeignKey(
        CartConnection, on_delete=models.CASCADE, null=True, blank=True, related_name="sync_runs"
    )
    warehouse = models.ForeignKey(
        WMSConnection, on_delete=models.CASCADE, null=True, blank=True, related_name="sync_runs"
    )
    status = models.CharField(max_length=20, choices=SyncOutcome.choices, default=SyncOutcome.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True, db_index=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    window_start = models.DateTimeField(null=True, blank=True)
    window_end = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    failure_kind = models.CharField(
        max_length=20,
        blank=True,
        choices=[
            ("temporary", "temporary (retried with backoff)"),
            ("throttled", "throttled (deferred, no attempt counted)"),
            ("needs_person", "needs a person (no retries until fixed)"),
            ("permanent", "permanent"),
        ],
    )
    # The lease the run holds (a SyncLock key and the token it took it with): once it no longer
    # holds it and is still running, its worker stopped, and the run is closed as interrupted.
    lock_key = models.CharField(max_length=100, blank=True, editable=False)
    lock_token = models.CharField(max_length=64, blank=True, editable=False)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [
            # The sweep looks for running runs every minute: a handful among months of finished ones.
            models.Index(fields=["lock_key"], condition=models.Q(status="running"), name="syncrun_running"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} run #{self.pk} ({self.status})"

    @property
    def duration_seconds(self) -> float | None:
        if not self.finished_at:
            return None
        return (self.finished_at - self.started_at).total_seconds()


class Shipment(MerchantScoped):
    """One parcel the warehouse shipped, imported once per warehouse shipment id.

    `order` is empty when the warehouse reports tracking for a reference we never sent: the
    shipment is kept (and shown) rather than dropped.
    """

    class PushStatus(models.TextChoices):
        PENDING = "pending", "to tell the cart"
        WAITING = "waiting", "waiting for the rest of the order"
        ACCEPTED = "accepted", "accepted by the cart"
        FAILED = "failed", "refused by the cart (see error)"
        UNVERIFIED = "unverified", "sent, but not shown by the cart (see error)"
        UNMATCHED = "unmatched", "no order of ours"
        NOT_FOR_CART = "not_for_cart", "nothing to tell the cart (an Orderbridge test order)"
        CANCELED_AT_CART = "canceled_at_cart", "not told: the order was canceled at the cart"

    tenancy_fields = ("warehouse", "order")

    warehouse = models.ForeignKey(WMSConnection, on_delete=models.PROTECT, related_name="shipments")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, null=True, blank=True, related_name="shipments")
    warehouse_shipment_id = models.CharField(max_length=100)
    warehouse_order_id = models.CharField(max_length=100, blank=True)
    cust_ref = models.CharField(max_length=64, blank=True)
    carrier = models.CharField(max_length=80, blank=True)
    service = models.CharField(max_length=120, blank=True)
    tracking_numbers = models.JSONField(default=list, blank=True)
    tracking_url = models.URLField(max_length=500, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    lines = models.JSONField(default=list, blank=True, help_text="[{sku, quantity, line_no}]; empty: the whole order")
    push_status = models.CharField(max_length=20, choices=PushStatus.choices, default=PushStatus.PENDING)
    push_attempts = models.PositiveIntegerField(default=0)
    next_push_at = models.DateTimeField(null=True, blank=True)
    last_push_error = models.TextField(blank=True)
    cart_accepted_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["shipped_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "warehouse_shipment_id"], name="unique_shipment_per_warehouse")
        ]
        indexes = [models.Index(fields=["push_status", "next_push_at"]), models.Index(fields=["cust_ref"])]

    def __str__(self) -> str:
        return f"{self.carrier} {', '.join(self.tracking_numbers)}".strip()


class SyncLock(models.Model):
    """One row per (connection, sync kind): a lease taken with a conditional UPDATE, so two runs of
    the same sync never overlap, on one worker or many, on SQLite or PostgreSQL."""

    key = models.CharField(max_length=100, unique=True)
    owner = models.CharField(max_length=64, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True)
    acquired_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.key


class Problem(MerchantScoped):
    """One open problem a person should look at, kept until the same thing later succeeds."""

    tenancy_fields = ("merchant", "cart_connection", "warehouse", "order")

    class Status(models.TextChoices):
        OPEN = "open", "open"
        RESOLVED = "resolved", "resolved"
        IGNORED = "ignored", "ignored"

    key = models.CharField(max_length=200, help_text="What it is about, e.g. order:12:unknown_sku.")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="problems")
    cart_connection = models.ForeignKey(
        CartConnection, on_delete=models.CASCADE, null=True, blank=True, related_name="problems"
    )
    warehouse = models.ForeignKey(
        WMSConnection, on_delete=models.CASCADE, null=True, blank=True, related_name="problems"
    )
    order = models.ForeignKey(Order, on_delete=models.CASCADE, null=True, blank=True, related_name="problems")
    reason_code = models.CharField(max_length=40)
    message = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    first_seen_at = models.DateTimeField(auto_now_add=True)
    last_seen_at = models.DateTimeField()
    count = models.PositiveIntegerField(default=1)
    resolved_at = models.DateTimeField(null=True, blank=True)
    alerted_at = models.DateTimeField(null=True, blank=True, help_text="When a digest mail mentioned it.")

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(fields=["key"], condition=Q(status="open"), name="one_open_problem_per_key")
        ]
        indexes = [models.Index(fields=["status", "merchant"]), models.Index(fields=["key"])]

    def __str__(self) -> str:
        return f"{self.reason_code}: {self.message[:60]}"
