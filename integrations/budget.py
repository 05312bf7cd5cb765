"""One rate budget per platform account, shared by every worker and every sync kind.

A token bucket per account key (`integrations.accounts`): every request takes a token first, and no
request is sent against an empty budget (a short wait for a token is waited out, a long one stops the
run as throttled, sending nothing). The bucket's shape comes from the connector's documented limit
(`Connector.rate_limit`, L requests in W seconds): it refills at `BUDGET_SAFETY` × L / W a second and
holds at most L − refill × (W + `BUDGET_LOCAL_SECONDS`), so that however the platform counts its
window (fixed or sliding), what we send in any W seconds stays under L, tokens held locally included.

Priority by sync kind: the orders run may spend the whole bucket; tracking only what is above
`BUDGET_RESERVES["shipments"]` of it, inventory only above `BUDGET_RESERVES["inventory"]`. A run sets
its kind with `spending_for` around building its connectors; anything else (an admin test, a job, a
page) spends as orders do.

A 429 teaches the budget: the bucket is emptied until the platform's wait ends, and the account's rate
is lowered to `BUDGET_TEACH_FACTOR` of what it was, recovering by `BUDGET_RECOVERY_PER_MINUTE` of the documented
rate a minute. Rate headers (`X-Rate-Limit-Remaining/Reset`) that say fewer requests remain than the
bucket may hold lower it to match and stop its refill until the platform's window resets: what remains
lasts until then (the pacing TradeGecko's connector once did on its own).

The cooldown a long 429 starts stays the cooldown module's (`integrations.cooldowns`, in the database):
the budget pauses for at most a run's wait (`HTTP_MAX_THROTTLE_WAIT_SECONDS`) itself, and its take keeps
to the stored cooldown (with the database, in the take's own statement; else read after each take), so
that a request costs no statement of its own for either.

Where: in the database by default (one conditional UPDATE per take, which claims up to
`BUDGET_LOCAL_TOKENS` tokens kept in the process for `BUDGET_LOCAL_SECONDS`), in Redis when
`REDIS_URL` is set (one Lua script per take: `integrations.budget_redis`). With the database the
run's own thread takes from the shared bucket; other threads (a batch's concurrent sends) never
touch the database and keep to a bucket of the same shape in this process. A take inside a transaction
holds the row's lock until the transaction ends (every other worker's take for the account waits): no
request is made inside a long one (the import reads the warehouse's SKU list before a page's).
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from django.conf import settings
from django.db import connection as db

from integrations.accounts import connection_account_key
from integrations.connectors.errors import ThrottledError
from integrations.connectors.limits import RateLimit
from integrations.cooldowns import connection_cooldown
from integrations.http_limits import CooldownHook, cooldown_error
from integrations.models import Connection, PlatformBudget, PlatformCooldown
from integrations.outbound import sandbox_tooling_honoured

ORDERS = "orders"  # the sync kinds, as `orders.models.SyncRun.Kind` names them
_kind: contextvars.ContextVar[str] = contextvars.ContextVar("budget_kind", default=ORDERS)


@contextmanager
def spending_for(kind: str) -> Iterator[None]:
    """Connectors built inside spend the budget as `kind` ("orders", "shipments", "inventory")."""
    token = _kind.set(kind)
    try:
        yield
    finally:
        _kind.reset(token)


@dataclass(frozen=True)
class Bucket:
    """A bucket's shape at the full documented rate, and the share of it a kind must leave."""

    capacity: float
    per_second: float
    reserve: float = 0.0  # a fraction of the capacity the spender must leave in the bucket

    @classmethod
    def of(cls, limit: RateLimit, kind: str = ORDERS) -> Bucket:
        per_second = settings.BUDGET_SAFETY * limit.requests / limit.seconds
        capacity = max(1.0, limit.requests - per_second * (limit.seconds + settings.BUDGET_LOCAL_SECONDS))
        return cls(capacity, per_second, float(settings.BUDGET_RESERVES.get(kind, 0.0)))


@dataclass(frozen=True)
class Take:
    """What a take got: whole tokens granted, else how long until enough are there (seconds)."""

    granted: int
    wait: float = 0.0


class BudgetStore(Protocol):
    """Where the buckets live (the database, Redis, this process)."""

    sees_cooldowns: bool  # whether a take grants nothing during the account's stored cooldown

    def take(self, key: str, bucket: Bucket, want: int, now: float) -> Take: ...

    def teach(self, key: str, bucket: Bucket, pause: float, now: float) -> None: ...

    def observe(self, key: str, bucket: Bucket, remaining: int, reset_in: float, now: float) -> None: ...


def _state(tokens: float, refreshed: float, factor: float, taught: float, bucket: Bucket, now: float):
    """(the learned factor now, tokens available now): the same arithmetic as the stores' SQL and Lua."""
    factor = min(1.0, factor + settings.BUDGET_RECOVERY_PER_MINUTE / 60 * max(0.0, now - taught))
    available = min(bucket.capacity * factor, tokens + max(0.0, now - refreshed) * bucket.per_second * factor)
    return factor, available


def _wait(tokens: float, refreshed: float, factor: float, taught: float, bucket: Bucket, now: float) -> float:
    """Seconds until the bucket holds one token above the kind's reserve, nobody else spending."""
    factor, available = _state(tokens, refreshed, factor, taught, bucket, now)
    needed = 1 + bucket.reserve * bucket.capacity * factor
    paused = max(0.0, refreshed - now)
    return paused + max(0.0, needed - available) / (bucket.per_second * factor)


class DatabaseBudgets:
    """Buckets as `PlatformBudget` rows. A take is one UPDATE whose WHERE holds only while the bucket,
    brought up to date, has a token above the reserve: correct under concurrent workers on PostgreSQL
    (the row lock orders them) and on SQLite (one writer at a time)."""

    def _sql(self, template: str) -> str:
        least, greatest = ("LEAST", "GREATEST") if db.vendor == "postgresql" else ("MIN", "MAX")
        factor = f"{least}(1.0, rate_factor + %(recovery)s * {greatest}(0, %(now)s - taught_at))"
        available = (
            f"{least}(%(capacity)s * {factor}, tokens + {greatest}(0, %(now)s - refreshed_at) * %(rate)s * {factor})"
        )
        return template.format(
            table=PlatformBudget._meta.db_table,
            cooldowns=PlatformCooldown._meta.db_table,
            key=db.ops.quote_name("key"),
            factor=factor,
            available=available,
            greatest=greatest,
            least=least,
        )

    def _params(self, bucket: Bucket, now: float, **more: float) -> dict[str, float]:
        recovery = settings.BUDGET_RECOVERY_PER_MINUTE / 60
        return {"capacity": bucket.capacity, "rate": bucket.per_second, "recovery": recovery, "now": now, **more}

    def _ensure(self, key: str, bucket: Bucket, now: float) -> None:
        with db.cursor() as cursor:
            cursor.execute(
                self._sql(
                    "INSERT INTO {table} ({key}, tokens, refreshed_at, rate_factor, taught_at, last_granted)"
                    " VALUES (%s, %s, %s, 1.0, 0.0, 0.0) ON CONFLICT ({key}) DO NOTHING"
                ),
                [key, bucket.capacity, now],
            )

    # The take's statement also keeps to the account's stored cooldown (`integrations.cooldowns`): it
    # grants nothing while one lasts, so that a request costs no statement of its own to check it.
    sees_cooldowns = True

    def take(self, key: str, bucket: Bucket, want: int, now: float) -> Take:
        # The grant may be fractional (deducted whole, used as whole tokens): never more than held.
        sql = self._sql(
            "UPDATE {table} SET last_granted = {least}(%(want)s, {available} - %(reserve)s * %(capacity)s * {factor}),"
            " tokens = {available} - {least}(%(want)s, {available} - %(reserve)s * %(capacity)s * {factor}),"
            " refreshed_at = {greatest}(refreshed_at, %(now)s)"
            " WHERE {key} = %(key)s AND {available} - %(reserve)s * %(capacity)s * {factor} >= 1"
            " AND NOT EXISTS (SELECT 1 FROM {cooldowns} WHERE {key} = %(key)s AND until > %(now_at)s)"
            " RETURNING last_granted"
        )
        now_at = db.ops.adapt_datetimefield_value(datetime.fromtimestamp(now, UTC))
        params = self._params(bucket, now, want=want, reserve=bucket.reserve) | {"key": key, "now_at": now_at}
        for _ in range(2):
            with db.cursor() as cursor:
                cursor.execute(sql, params)
                row = cursor.fetchone()
            if row is not None:
                return Take(int(row[0]))
            state = PlatformBudget.objects.filter(key=key).values_list(
                "tokens", "refreshed_at", "rate_factor", "taught_at"
            )
            if state:
                return Take(0, _wait(*state[0], bucket, now))
            self._ensure(key, bucket, now)
        return Take(0, 1 / bucket.per_second)

    def teach(self, key: str, bucket: Bucket, pause: float, now: float) -> None:
        self._ensure(key, bucket, now)
        sql = self._sql(
            "UPDATE {table} SET tokens = 0, refreshed_at = {greatest}(refreshed_at, %(until)s),"
            " rate_factor = {greatest}(%(floor)s, {factor} * %(teach)s), taught_at = %(now)s WHERE {key} = %(key)s"
        )
        params = self._params(
            bucket, now, until=now + pause, floor=settings.BUDGET_MIN_FACTOR, teach=settings.BUDGET_TEACH_FACTOR
        )
        with db.cursor() as cursor:
            cursor.execute(sql, params | {"key": key})

    def observe(self, key: str, bucket: Bucket, remaining: int, reset_in: float, now: float) -> None:
        sql = self._sql(
            "UPDATE {table} SET tokens = {least}({available}, %(remaining)s),"
            " refreshed_at = {greatest}(refreshed_at, %(until)s) WHERE {key} = %(key)s"
        )
        until = now + reset_in
        with db.cursor() as cursor:
            cursor.execute(sql, self._params(bucket, now, remaining=remaining, until=until) | {"key": key})


class LocalBudgets:
    """Buckets in this process: for the threads that may not touch the database (a batch's sends)."""

    sees_cooldowns = False

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rows: dict[str, list[float]] = {}  # key -> [tokens, refreshed, factor, taught]

    def _row(self, key: str, bucket: Bucket, now: float) -> list[float]:
        return self._rows.setdefault(key, [bucket.capacity, now, 1.0, 0.0])

    def take(self, key: str, bucket: Bucket, want: int, now: float) -> Take:
        with self._lock:
            row = self._row(key, bucket, now)
            factor, available = _state(*row, bucket, now)
            spare = available - bucket.reserve * bucket.capacity * factor
            if spare < 1:
                return Take(0, _wait(*row, bucket, now))
            granted = min(float(want), spare)
            row[0], row[1] = available - granted, max(row[1], now)
            return Take(int(granted))

    def teach(self, key: str, bucket: Bucket, pause: float, now: float) -> None:
        with self._lock:
            row = self._row(key, bucket, now)
            factor, _ = _state(*row, bucket, now)
            row[:] = [
                0.0,
                max(row[1], now + pause),
                max(settings.BUDGET_MIN_FACTOR, factor * settings.BUDGET_TEACH_FACTOR),
                now,
            ]

    def observe(self, key: str, bucket: Bucket, remaining: int, reset_in: float, now: float) -> None:
        with self._lock:
            row = self._row(key, bucket, now)
            _, available = _state(*row, bucket, now)
            row[0], row[1] = min(available, float(remaining)), max(row[1], now + reset_in)


_local = LocalBudgets()


def shared_store() -> BudgetStore:
    """The store every worker shares: Redis when `REDIS_URL` is set, else the database."""
    if settings.REDIS_URL:
        from integrations.budget_redis import redis_budgets  # the redis client is needed only then

        return redis_budgets()
    return DatabaseBudgets()


class AccountBudget:
    """One platform account's budget as a connector's HTTP client sees it (`ApiClient.budget`).

    Takes up to `BUDGET_LOCAL_TOKENS` at once and spends them within `BUDGET_LOCAL_SECONDS` (unused
    ones lapse: never more than was granted). It also keeps to the account's stored cooldown (`cooldown`,
    `integrations.cooldowns`), so that the client asks nothing else before a request: the database's
    take grants nothing during one (the cooldown is read only then, to say until when); a take from a
    store that does not see it (Redis, this process) reads it after each grant. A request that a held
    token covers costs no statement at all. The key is asked for at each take, so a run that learns
    its account meanwhile spends the account's budget from then on."""

    def __init__(
        self,
        key: str | Callable[[], str],
        limit: RateLimit,
        *,
        kind: str = ORDERS,
        store: BudgetStore | None = None,
        cooldown: CooldownHook | None = None,
        platform: str = "the platform",
    ) -> None:
        self._key = key
        self.bucket = Bucket.of(limit, kind)
        self.kind = kind
        self.cooldown, self.platform = cooldown, platform
        self._store = store or shared_store()
        self._thread_safe = not isinstance(self._store, DatabaseBudgets)
        self._owner = threading.get_ident()
        self._lock = threading.Lock()
        self._held, self._held_until = 0, 0.0

    @property
    def key(self) -> str:
        return self._key() if callable(self._key) else self._key

    def _store_here(self) -> BudgetStore:
        return self._store if self._thread_safe or threading.get_ident() == self._owner else _local

    def _cooldown_remaining(self) -> float:
        return self.cooldown.remaining() if self.cooldown is not None else 0.0

    def spend(self) -> None:
        """Take one token: from those held, else from the store, waiting at most
        `HTTP_MAX_THROTTLE_WAIT_SECONDS` in all (for a token or the end of the account's cooldown); else
        raise `ThrottledError`, nothing sent."""
        waited = 0.0
        while True:
            now = time.time()
            with self._lock:
                if self._held > 0 and now < self._held_until:
                    self._held -= 1
                    return
            store = self._store_here()
            taken = store.take(self.key, self.bucket, int(settings.BUDGET_LOCAL_TOKENS), now)
            cooling = self._cooldown_remaining() if not (taken.granted and store.sees_cooldowns) else 0.0
            if taken.granted > 0 and cooling == 0:
                with self._lock:
                    self._held, self._held_until = taken.granted - 1, now + settings.BUDGET_LOCAL_SECONDS
                return
            wait = max(cooling, 0.0 if taken.granted else taken.wait)
            if waited + wait > settings.HTTP_MAX_THROTTLE_WAIT_SECONDS:
                raise cooldown_error(self.platform, cooling) if cooling >= wait else self._exhausted(wait)
            time.sleep(wait)
            waited += wait

    def _exhausted(self, wait: float) -> ThrottledError:
        # No retry_after: the budget is ours, not the platform's cooldown, and must not be stored as one.
        share = "" if self.kind == ORDERS else f" (the share {self.kind} runs may use leaves room for orders)"
        return ThrottledError(
            f"the account's rate budget is spent{share}: nothing was sent; about {wait:.0f} s until a request fits",
            status=None,
        )

    def throttled(self, seconds: float) -> None:
        """A 429: nothing held is spent any more, the rate is lowered, the bucket is empty until a short
        wait ends; a longer one is the stored cooldown's (the client records it), which every take keeps to."""
        with self._lock:
            self._held = 0
        pause = min(seconds, settings.HTTP_MAX_THROTTLE_WAIT_SECONDS)
        self._store_here().teach(self.key, self.bucket, pause, time.time())

    def observed(self, remaining: int, reset_in: float) -> None:
        """Rate headers: where fewer requests remain than the bucket may hold, the bucket holds no more than
        those and gets no more until the window resets in `reset_in` seconds."""
        if remaining < self.bucket.capacity:
            with self._lock:
                self._held = min(self._held, remaining)
                unheld = remaining - self._held  # those held here are already out of the bucket
            self._store_here().observe(self.key, self.bucket, unheld, reset_in, time.time())


def connection_rate_limit(connection: Connection, documented: RateLimit) -> RateLimit:
    """The limit a connection's budget keeps to: the platform's documented one, or for a connection of
    the sandbox tooling the rate its sandbox takes, where the tooling set one (`sandbox_requests_per_minute`
    is not editable: no merchant or staff form sets it)."""
    per_minute = connection.sandbox_requests_per_minute
    if per_minute and connection.sandbox_tooling and sandbox_tooling_honoured():
        return RateLimit(requests=per_minute, seconds=60, source="the sandbox tooling's rate for its sandbox")
    return documented


def connection_budget(connection: Connection, limit: RateLimit) -> AccountBudget | None:
    """The budget hook for a connection's connector (whose documented limit is `limit`), spent as the
    current run's kind (`spending_for`) and keeping to the account's cooldown; None when budgets are off."""
    if not settings.BUDGET_ENABLED:
        return None
    return AccountBudget(
        lambda: connection_account_key(connection),
        connection_rate_limit(connection, limit),
        kind=_kind.get(),
        cooldown=connection_cooldown(connection),
        platform=connection.platform_label,
    )
