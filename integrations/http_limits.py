"""What a platform's answer says of its rate limit, and the hooks through which the HTTP client keeps to
an account's limits (`integrations.cooldowns`, `integrations.budget`)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Protocol

import requests

from integrations.connectors.errors import ThrottledError


def retry_after_seconds(response: requests.Response, default: float) -> float:
    """How long a 429/503 asks us to wait: Retry-After (seconds or date), else a reset epoch."""
    header = response.headers.get("Retry-After")
    if header:
        header = header.strip()
        try:
            return max(0.0, float(header))
        except ValueError:
            try:
                when = parsedate_to_datetime(header)
                return max(0.0, when.timestamp() - time.time())
            except (TypeError, ValueError, IndexError, OverflowError):
                pass
    for name in ("X-Rate-Limit-Reset", "X-RateLimit-Reset", "RateLimit-Reset"):
        reset = response.headers.get(name)
        if reset:
            try:
                value = float(reset)
            except ValueError:
                continue
            # An epoch timestamp, or (RateLimit-Reset) seconds from now.
            return max(0.0, value - time.time()) if value > 1e9 else max(0.0, value)
    return default


class CooldownHook(Protocol):
    """A platform account's rate-limit cooldown as every process knows it (`integrations.cooldowns`)."""

    def remaining(self) -> float:
        """Seconds left of the account's cooldown (0 when it has none)."""

    def started(self, seconds: float, reason: str) -> None:
        """The platform asked us to wait `seconds` before the next request."""


class BudgetHook(Protocol):
    """A platform account's rate budget, shared by every worker and every sync kind (`integrations.budget`)."""

    def spend(self) -> None:
        """Take one request's token: wait a short while for one, else raise `ThrottledError` (nothing is sent)."""

    def throttled(self, seconds: float) -> None:
        """The platform answered 429 and asked us to wait `seconds`: the budget learns from it."""

    def observed(self, remaining: int, reset_in: float) -> None:
        """The platform said how many requests it still takes in the `reset_in` seconds left of its window."""


def rate_headers(response: requests.Response) -> tuple[int, float] | None:
    """What `X-Rate-Limit-Remaining` and `X-Rate-Limit-Reset` (an epoch, TradeGecko's) say: requests left
    and seconds until the window resets; None when they are absent or unreadable."""
    remaining, reset = response.headers.get("X-Rate-Limit-Remaining"), response.headers.get("X-Rate-Limit-Reset")
    if remaining is None or reset is None:
        return None
    try:
        left, epoch = int(float(remaining)), float(reset)
    except ValueError:
        return None
    if left < 0 or epoch < 1e9:
        return None
    return left, max(0.0, epoch - time.time())


def cooldown_error(platform: str, wait: float) -> ThrottledError:
    """What a run that met a platform's cooldown says: nothing is sent to it until the end."""
    ends = datetime.now(UTC) + timedelta(seconds=wait)
    return ThrottledError(
        f"{platform} asked us to wait (rate limit, 429): nothing is sent to it until {ends:%Y-%m-%d %H:%M:%S} UTC",
        retry_after=wait,
    )
