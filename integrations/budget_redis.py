"""The rate budgets in Redis (`REDIS_URL` set): one Lua script per take, teach or observation, the same
arithmetic as the database's UPDATE (`integrations.budget`). Redis holds only the buckets: the cooldown
after a 429 is stored in the database too (`integrations.cooldowns`), so a Redis that lost its keys
forgets a learned rate, never a cooldown."""

from __future__ import annotations

import functools

import redis
from django.conf import settings

from integrations.budget import Bucket, Take

# KEYS[1] the bucket; ARGV: op, now, capacity, rate, recovery (per second), then per op:
# take: want, reserve; teach: pause, teach factor, floor factor; observe: remaining, reset_in.
_SCRIPT = """
local op, now, cap, rate, recovery = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local s = redis.call('HMGET', KEYS[1], 't', 'r', 'f', 'a')
local tokens, refreshed = tonumber(s[1]) or cap, tonumber(s[2]) or now
local factor, taught = tonumber(s[3]) or 1, tonumber(s[4]) or 0
local learned = math.min(1, factor + recovery * math.max(0, now - taught))
local available = math.min(cap * learned, tokens + math.max(0, now - refreshed) * rate * learned)
local result = {'0', '0'}
if op == 'take' then
  local spare = available - tonumber(ARGV[7]) * cap * learned
  if spare < 1 then
    return {'0', tostring(math.max(0, refreshed - now) + (1 - spare) / (rate * learned))}
  end
  local granted = math.min(tonumber(ARGV[6]), spare)
  tokens, refreshed, result = available - granted, math.max(refreshed, now), {tostring(granted), '0'}
elseif op == 'teach' then
  tokens, refreshed = 0, math.max(refreshed, now + tonumber(ARGV[6]))
  factor, taught = math.max(tonumber(ARGV[8]), learned * tonumber(ARGV[7])), now
else
  local remaining = tonumber(ARGV[6])
  tokens = math.min(available, remaining)
  refreshed = math.max(refreshed, now + tonumber(ARGV[7]))
end
redis.call('HSET', KEYS[1], 't', tostring(tokens), 'r', tostring(refreshed),
  'f', tostring(factor), 'a', tostring(taught))
redis.call('EXPIRE', KEYS[1], 86400)
return result
"""


class RedisBudgets:
    """Buckets as Redis hashes under `BUDGET_REDIS_PREFIX`; safe to share between threads."""

    sees_cooldowns = False  # the cooldown is in the database: the budget reads it at each take from here

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix
        self._script = client.register_script(_SCRIPT)

    def _run(self, op: str, key: str, bucket: Bucket, now: float, *more: float) -> list[bytes]:
        recovery = settings.BUDGET_RECOVERY_PER_MINUTE / 60
        args = [op, now, bucket.capacity, bucket.per_second, recovery, *more]
        return self._script(keys=[self.prefix + key], args=[repr(a) if isinstance(a, float) else a for a in args])

    def take(self, key: str, bucket: Bucket, want: int, now: float) -> Take:
        granted, wait = self._run("take", key, bucket, now, want, bucket.reserve)
        return Take(int(float(granted)), float(wait))

    def teach(self, key: str, bucket: Bucket, pause: float, now: float) -> None:
        self._run("teach", key, bucket, now, pause, settings.BUDGET_TEACH_FACTOR, settings.BUDGET_MIN_FACTOR)

    def observe(self, key: str, bucket: Bucket, remaining: int, reset_in: float, now: float) -> None:
        self._run("observe", key, bucket, now, remaining, reset_in)


@functools.cache
def _client(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)


def redis_budgets(url: str | None = None, prefix: str | None = None) -> RedisBudgets:
    """The Redis store at `url` (default `REDIS_URL`), one connection pool per URL in the process."""
    return RedisBudgets(_client(url or settings.REDIS_URL), settings.BUDGET_REDIS_PREFIX if prefix is None else prefix)
