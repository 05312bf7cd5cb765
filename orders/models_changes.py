"""A change made at the cart after the order was sent: a cancellation (of the order or of some of its
lines) or an edit (ship-to, lines, quantities, shipping method), to be passed on to the warehouse
exactly once and confirmed there. `orders.models` imports it so it belongs to the orders app.

Its state is changed by one module, `orders.services.changes.claims`, under the same rules as a
delivery: claimed with a conditional UPDATE, `uncertain` committed before the call, asked about
before a second call.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from integrations.models import Merchant
from integrations.tenancy import MerchantScoped


class OrderChange(MerchantScoped):
    tenancy_fields = ("merchant",)

    class Kind(models.TextChoices):
        CANCEL = "cancel", "cancel the order"
        CANCEL_LINES = "cancel_lines", "cancel some lines"
        EDIT = "edit", "edit the order"

    class Status(models.TextChoices):
        PENDING = "pending", "to pass on to the warehouse"
        APPLIED = "applied", "applied at the warehouse"
        TOO_LATE = "too_late", "too late: the warehouse may ship it"
        UNCONFIRMED = "unconfirmed", "not confirmed by the warehouse"
        REFUSED = "refused", "refused by the warehouse"
        SUPERSEDED = "superseded", "replaced by a later change"

    OPEN = (Status.PENDING,)

    order = models.ForeignKey("orders.Order", on_delete=models.CASCADE, related_name="changes")
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True)
    # The cart's version this change brings (its modified time): one change per order and version.
    cart_modified_at = models.DateTimeField(null=True, blank=True)
    what = models.TextField(help_text="What changed, for people.")
    # What the warehouse should hold afterwards: the whole order as it would be sent now (an edit),
    # or the lines and quantities to cancel.
    wanted = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=64, blank=True)
    claimed_until = models.DateTimeField(null=True, blank=True)
    uncertain = models.BooleanField(
        default=False, help_text="A call may have reached the warehouse: read the order there before calling again."
    )
    result = models.TextField(blank=True, help_text="What the warehouse answered, in its own words where it gave any.")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="orderchange_due")]
        constraints = [
            models.UniqueConstraint(
                fields=["order", "kind", "cart_modified_at"], name="one_change_per_order_kind_and_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for order {self.order_id} ({self.get_status_display()})"
