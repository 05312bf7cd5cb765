"""Who may use the merchant pages: a user tied to exactly one merchant."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from integrations.models import Merchant


class MerchantMembership(models.Model):
    """Links a (normally non-staff) user to the one merchant whose pages they see.

    One row per user: the merchant pages show exactly one merchant's data, and staff who are
    not linked here use the admin instead.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="merchant_membership",
        help_text="Signs in at /merchant/login/ and sees only this merchant's connections, orders and aliases.",
    )
    merchant = models.ForeignKey(Merchant, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "merchant membership"
        ordering = ["merchant__name", "user__username"]

    def __str__(self) -> str:
        return f"{self.user} → {self.merchant}"
