"""A platform account's rate-limit cooldown, stored so that every process and every run keeps to it.

A 429 that asks for a longer wait than a run waits (`HTTP_MAX_THROTTLE_WAIT_SECONDS`) stops the run
that got it as throttled. Known only to that run, it would not stop a command started by hand, a run
in another worker or an admin *Retry now* from sending into the cooldown at once. So the cooldown is
stored per platform account (`cooldown_key`), and each connector's HTTP client keeps to it through an
`AccountCooldown` hook, handed to the connector like `on_credentials_changed` (connectors never touch
the database themselves): a short remainder is waited out, a long one raises `ThrottledError` without
sending anything. With the rate budget on (as in production), the budget's take keeps to it
(`integrations.budget`: in the take's own statement with the database) and the hook is read only when
a take says so; without one, the client reads it before every request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from integrations.accounts import connection_account_key
from integrations.models import Connection, PlatformCooldown

log = logging.getLogger(__name__)


def cooldown_key(connection: Connection) -> str:
    """The platform account whose rate limit a connection's requests count against: its account
    identity (`integrations.accounts`), shared by every connection that reaches the account, cart
    or warehouse; the connection alone while the account is not known."""
    return connection_account_key(connection)


def cooldown_record(key: str, *, seconds: float, reason: str = "") -> datetime:
    """Store that the account asked us to wait `seconds` from now; an existing later end is kept.
    Returns when the cooldown ends."""
    return _cooldown_store(key, timezone.now() + timedelta(seconds=seconds), reason)


def _cooldown_store(key: str, until: datetime, reason: str) -> datetime:
    try:
        with transaction.atomic():
            PlatformCooldown.objects.get_or_create(key=key, defaults={"until": until, "reason": reason})
    except IntegrityError:
        pass  # recorded by a concurrent caller a moment ago
    PlatformCooldown.objects.filter(key=key, until__lt=until).update(until=until, reason=reason)
    return PlatformCooldown.objects.values_list("until", flat=True).get(key=key)


def cooldown_carry(*, previous: str, current: str, **_: object) -> None:
    """A connection's account became known (or changed): a cooldown recorded under its previous key
    binds the account it reaches now too (receiver of `platform_account_changed`)."""
    until = cooldown_until(previous)
    if until is not None:
        _cooldown_store(current, until, "carried over from the connection's cooldown")


def cooldown_until(key: str) -> datetime | None:
    """When the account's cooldown ends, or None when it has none now."""
    return PlatformCooldown.objects.filter(key=key, until__gt=timezone.now()).values_list("until", flat=True).first()


def _seconds_to(until: datetime | None) -> float:
    return max(0.0, (until - timezone.now()).total_seconds()) if until else 0.0


class AccountCooldown:
    """One platform account's cooldown as a connector's HTTP client sees it (`ApiClient.cooldown`).

    The thread that made it (the run's own) reads the database at each look: a cheap lookup by key,
    so that a cooldown another process recorded stops this run too. Other threads (a batch's
    concurrent sends) never touch the database: they use what the run's thread last read and what
    they were told themselves, which the run's thread stores at its next look. The key is asked for at
    each look (`account_key`), so a run that learns its account meanwhile keeps to the account's
    cooldown from then on."""

    def __init__(self, key: str | Callable[[], str]) -> None:
        self._key = key
        self._owner = threading.get_ident()
        self._lock = threading.Lock()
        self._read: datetime | None = None  # as the run's thread last read it
        self._told: datetime | None = None  # the latest end a 429 gave this hook
        self._unstored: tuple[float, str] | None = None  # (seconds, reason) told in another thread

    @property
    def key(self) -> str:
        return self._key() if callable(self._key) else self._key

    def remaining(self) -> float:
        """Seconds left of the account's cooldown (0 when it has none)."""
        if threading.get_ident() == self._owner:
            self._store_unstored()
            read = cooldown_until(self.key)
            with self._lock:
                self._read = read
        with self._lock:
            return max(_seconds_to(self._read), _seconds_to(self._told))

    def started(self, seconds: float, reason: str) -> None:
        """The platform asked us to wait `seconds` (a 429): every thread of this run stops sending to
        it at once, and every other process once it is stored."""
        until = timezone.now() + timedelta(seconds=seconds)
        with self._lock:
            self._told = max(self._told, until) if self._told else until
            self._unstored = (seconds, reason)
        if threading.get_ident() == self._owner:
            self._store_unstored()

    def _store_unstored(self) -> None:
        with self._lock:
            unstored, self._unstored = self._unstored, None
        if unstored is not None:
            seconds, reason = unstored
            cooldown_record(self.key, seconds=seconds, reason=reason)


def connection_cooldown(connection: Connection) -> AccountCooldown:
    """The cooldown hook for a connection's connector."""
    return AccountCooldown(lambda: cooldown_key(connection))


def cooldowns_wait_short(connections: Iterable[Connection | None], say: Callable[[str], None] | None = None) -> None:
    """Before a run starts: wait out the short remainder of a recorded cooldown of the accounts it is
    about to call, saying so (one read for all of them). A long one is left to the HTTP client, which
    sends nothing inside it (the run stops as throttled, with when the cooldown ends)."""
    keyed = {cooldown_key(connection): connection for connection in connections if connection is not None}
    if not keyed:
        return
    ends = dict(PlatformCooldown.objects.filter(key__in=keyed, until__gt=timezone.now()).values_list("key", "until"))
    for key, connection in keyed.items():
        wait = _seconds_to(ends.get(key))
        if 0 < wait <= settings.HTTP_MAX_THROTTLE_WAIT_SECONDS:
            message = f"{connection.platform_label} asked us to slow down: waiting {wait:.1f} s for its cooldown to end"
            log.info("%s: %s", connection, message)
            if say is not None:
                say(message)
            time.sleep(wait)
