"""A cart connection's webhook subscriptions at its platform (kept by `integrations.webhooks`).
Re-exported by `integrations.models`."""

from __future__ import annotations

from django.db import models

from integrations.fields import KeptEncryptedTextField


class WebhookSubscription(models.Model):
    """A cart connection's webhook subscription at its platform (kept by `integrations.webhooks`): the
    `token` ending its endpoint URL finds it, its secret (encrypted) verifies the signatures."""

    connection = models.ForeignKey(
        "integrations.CartConnection", on_delete=models.CASCADE, related_name="webhook_subscriptions"
    )
    platform_id = models.CharField(max_length=100, help_text="The subscription's id at the platform.")
    token = models.CharField(max_length=64, unique=True, editable=False)
    topics = models.JSONField(default=list)
    endpoint_url = models.URLField(max_length=500)
    secret = KeptEncryptedTextField(editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True, help_text="When the platform last showed it as made.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["connection", "platform_id"], name="webhook_subscription_unique")
        ]

    def __str__(self) -> str:
        return f"{self.connection}: webhook {self.platform_id}"
