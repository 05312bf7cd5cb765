"""What a platform account's rate limit has told us, stored so that every process keeps to it: the
cooldown a 429 started (`integrations.cooldowns`) and the shared rate budget (`integrations.budget`).
Re-exported by `integrations.models`."""

from __future__ import annotations

from django.db import models


class PlatformCooldown(models.Model):
    """A platform account's rate-limit cooldown: a 429 asked us to wait longer than a run waits.
    Stored so that every process sees it, and nothing is sent to that account before `until`
    (see `integrations.cooldowns`)."""

    key = models.CharField(max_length=200, unique=True, help_text="The platform account the requests count against.")
    until = models.DateTimeField(help_text="No request to the account before this.")
    reason = models.TextField(blank=True, help_text="The platform's answer that started the cooldown.")
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "platform cooldown"

    def __str__(self) -> str:
        return f"{self.key} until {self.until:%Y-%m-%d %H:%M:%S} UTC"


class PlatformBudget(models.Model):
    """A platform account's rate budget, a token bucket taken by conditional UPDATE (`integrations.budget`).
    Times are epoch seconds, so that the arithmetic is the same SQL on PostgreSQL and SQLite."""

    key = models.CharField(max_length=200, unique=True, help_text="The platform account the requests count against.")
    tokens = models.FloatField(help_text="Requests the account takes now, as of refreshed_at.")
    refreshed_at = models.FloatField(
        help_text="When tokens was brought up to date (epoch seconds); later than now while a 429's cooldown lasts."
    )
    rate_factor = models.FloatField(
        default=1.0, help_text="Share of the documented rate the account takes: lowered by a 429, then recovering."
    )
    taught_at = models.FloatField(default=0.0, help_text="When a 429 last lowered rate_factor (epoch seconds).")
    last_granted = models.FloatField(default=0.0, help_text="Tokens the last take got (read back by the taker).")

    class Meta:
        verbose_name = "platform rate budget"

    def __str__(self) -> str:
        return f"{self.key}: {self.tokens:.1f} tokens at {self.rate_factor:.0%} of the documented rate"
