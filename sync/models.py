"""What the sync cycle records of its own: each reconciliation (so that pages show each day's result),
the workers' heartbeats and the jobs a person queued for the worker."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from integrations.fields import KeptEncryptedTextField
from integrations.models import CartConnection, Merchant, WMSConnection
from integrations.tenancy import MerchantScoped
from orders.models import SyncRun


class Reconciliation(MerchantScoped):
    """One reconciliation of one cart connection: the cart's orders in the window, each classified.

    `counts` holds every class (`delivered_once`, `held`, `skipped`, `in_progress`, `missing_here`,
    `missing_at_warehouse`, `warehouse_duplicates`, `tracking_missing`), `cart_orders` and `gaps`;
    `gap_list` names each gap with what to do. A run with an `error` could not read a side in full
    and is never clean."""

    tenancy_fields = ("merchant", "cart_connection")

    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="reconciliations")
    cart_connection = models.ForeignKey(CartConnection, on_delete=models.CASCADE, related_name="reconciliations")
    window_start = models.DateTimeField(help_text="The cart's orders listed from here…")
    window_end = models.DateTimeField(help_text="…to here.")
    counts = models.JSONField(default=dict, blank=True)
    gap_list = models.JSONField(
        default=list, blank=True, help_text="[{category, order_number, cart_order_id, reason, action}]"
    )
    error = models.TextField(blank=True, help_text="Why a side could not be read: then nothing is proven.")
    notes = models.TextField(blank=True)
    finished_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-finished_at", "-pk"]
        indexes = [models.Index(fields=["cart_connection", "-finished_at"])]

    def __str__(self) -> str:
        return f"reconciliation of {self.cart_connection} at {self.finished_at:%Y-%m-%d %H:%M}"

    @property
    def gaps(self) -> int:
        return int(self.counts.get("gaps", 0))

    @property
    def is_clean(self) -> bool:
        return not self.error and not self.gaps


class WorkerHeartbeat(models.Model):
    """A django-q2 worker process that was alive at `last_seen`, kept in the database because the web
    process cannot see django-q2's own statistics (a per-process cache unless Redis is configured).
    Written by the worker itself (`sync.heartbeat`): when it starts, before each task, and by a
    one-minute scheduled beat while it is idle."""

    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    cluster = models.CharField(max_length=100, help_text="The django-q2 cluster's name (Q_CLUSTER['name']).")
    started_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-last_seen"]
        constraints = [models.UniqueConstraint(fields=["host", "pid"], name="unique_worker_heartbeat")]

    def __str__(self) -> str:
        return f"worker {self.host}:{self.pid} ({self.cluster})"


class Job(MerchantScoped):
    """Work a person asked for now (sync now, send now, test connection), run in the worker.

    The page that queued it polls its state; `progress` says what the run has done so far and
    `summary` what it did in the end, with reasons. `level` says how the summary reads.
    `updated_at` is its last sign of life (taken, progress, finished): the sweep finishes a running
    job silent for longer than a task may run (`sync.sweep.jobs_close_abandoned`)."""

    tenancy_fields = ("merchant", "cart_connection", "warehouse")

    class Kind(models.TextChoices):
        SYNC_ORDERS = "sync_orders", "sync now"
        SEND_ORDERS = "send_orders", "send now"
        TEST_CONNECTION = "test_connection", "test connection"
        TEST_ORDER = "test_order", "send a test order"
        GRANT = "grant", "access grant"

    class State(models.TextChoices):
        QUEUED = "queued", "waiting for a worker"
        RUNNING = "running", "running"
        FINISHED = "finished", "finished"

    class Level(models.TextChoices):
        SUCCESS = "success", "success"
        WARNING = "warning", "warning"
        ERROR = "error", "error"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED, db_index=True)
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="jobs")
    cart_connection = models.ForeignKey(CartConnection, on_delete=models.CASCADE, null=True, blank=True)
    warehouse = models.ForeignKey(WMSConnection, on_delete=models.CASCADE, null=True, blank=True)
    order_ids = models.JSONField(default=list, blank=True, help_text="The orders a send-now job sends.")
    params = models.JSONField(
        default=dict, blank=True, help_text="What the job was asked with (a test order's lines, method and ship-to)."
    )
    # An access grant's one-time authorization code, encrypted, and emptied when the job ends.
    secret = KeptEncryptedTextField(blank=True, default="", editable=False)
    sync_run = models.ForeignKey(SyncRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    progress = models.TextField(blank=True, help_text="What the job has done so far, while it runs.")
    summary = models.TextField(blank=True, help_text="What the job did, with reasons.")
    level = models.CharField(max_length=10, choices=Level.choices, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(
        auto_now=True, help_text="The job's last sign of life: queued, taken by a worker, progress, finished."
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def connection(self) -> CartConnection | WMSConnection | None:
        return self.cart_connection or self.warehouse

    @property
    def finished(self) -> bool:
        return self.state == self.State.FINISHED


class WebhookNotification(models.Model):
    """The inbox: one row per notification a platform sent about one order, stored before it is
    answered, and handled by a worker (`sync.webhooks.drain`) that reads the order from the platform.

    The unique constraint is the deduplication: a duplicate or replayed notification (same
    connection, order, topic and time) finds its row and stores nothing. Handled rows are pruned
    after `WEBHOOK_INBOX_RETENTION_DAYS`.
    """

    class Outcome(models.TextChoices):
        PENDING = "", "waiting for the worker"
        IMPORTED = "imported", "order read and stored by a run"
        SUPERSEDED = "superseded", "older than a notification already handled (nothing to do)"
        GONE = "gone", "the connection is inactive (polling and webhooks off)"
        GAVE_UP = "gave_up", "not read after several tries (polling reads it)"

    platform = models.CharField(max_length=40)
    cart_connection = models.ForeignKey(CartConnection, on_delete=models.CASCADE, related_name="webhook_notifications")
    notification_id = models.CharField(max_length=100, help_text="The platform's id of the notification.")
    topic = models.CharField(max_length=60)
    cart_order_id = models.CharField(max_length=100)
    event_at = models.DateTimeField(help_text="When the platform made the notification.")
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    handled_at = models.DateTimeField(null=True, blank=True, db_index=True)
    outcome = models.CharField(max_length=20, choices=Outcome.choices, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    sync_run = models.ForeignKey(SyncRun, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["event_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "cart_connection", "cart_order_id", "topic", "event_at"],
                name="webhook_notification_once",
            )
        ]
        indexes = [models.Index(fields=["cart_connection", "handled_at"])]

    def __str__(self) -> str:
        return f"{self.topic} {self.cart_order_id} at {self.event_at:%Y-%m-%d %H:%M:%S} UTC"
