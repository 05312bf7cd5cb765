"""Settings, read from the environment (and an optional `.env`) through django-environ.

With no environment at all this runs as a local development install: SQLite in WAL mode,
django-q2 on the ORM broker, DEBUG on, a development secret. Production sets at least
`DEBUG=false`, `SECRET_KEY`, `FERNET_KEYS`, `ALLOWED_HOSTS` and `DATABASE_URL`.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=True)
_DEV_SECRET = "orderbridge-development-only-secret-key-not-for-production"
SECRET_KEY = env.str("SECRET_KEY", default=_DEV_SECRET if DEBUG else "")
if not SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")

# Fernet keys for the encrypted credential fields: the first encrypts, all decrypt
# (rotation: put the new key first, keep the old ones until re-saved).
FERNET_KEYS = env.list("FERNET_KEYS", default=[SECRET_KEY] if DEBUG else [])
if not FERNET_KEYS:
    raise ImproperlyConfigured("FERNET_KEYS must be set when DEBUG is off.")

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "config.admin.OrderbridgeAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "integrations",
    "orders",
    "inventory",
    "sync",
    "portal",
]
# The sandboxes (local platform emulators, the demo) are never installed in production. While on,
# staff may also point a connection's API base URL at a loopback or private address (a sandbox).
SANDBOX_ENABLED = env.bool("SANDBOX_ENABLED", default=DEBUG)
if SANDBOX_ENABLED:
    INSTALLED_APPS.append("sandbox")
# `make run` (manage.py run_local): the web server's port, the long-running sandboxes' fixed loopback
# ports (one per sandbox, SANDBOX_PORT_<NAME>) and the file their records are kept in across restarts.
RUN_PORT = env.int("PORT", default=8000)
RUN_SANDBOX_PORTS = {
    name: env.int(f"SANDBOX_PORT_{name.upper()}", default=port)
    for name, port in (
        ("squarespace", 8701),
        ("bergen", 8702),
        ("tradegecko", 8703),
        ("tradegecko_warehouse", 8704),
        ("overstock", 8705),
        ("overstock_bergen", 8706),
    )
}
RUN_SANDBOX_STATE_FILE = env.path("SANDBOX_STATE_FILE", default=BASE_DIR / "var" / "sandboxes.json")

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.UnstorableInputMiddleware",  # before the session reads its cookie
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
LOGIN_URL = "portal:login"
LOGIN_REDIRECT_URL = "portal:home"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.context_processors.worker_banner",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers (the admin) work while a sync writes; IMMEDIATE takes the write lock at
    # BEGIN so that concurrent writers queue on `timeout` instead of failing mid-transaction.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    )
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# django-q2: the database broker (durable receipts; `sync.broker`: django-q2's ORM broker with fewer
# statements per task) by default, Redis when REDIS_URL is set.
# `timeout` stays below `retry`, as django-q2's docs require. Successful tasks are not kept
# (`save_limit` -1; failures always are): every run's outcome is on its SyncRun row already, and
# keeping the last N successes costs each task a locked read of N rows. Q_SAVE_LIMIT=500 keeps them.
Q_CLUSTER = {
    "name": "orderbridge",
    "workers": env.int("Q_WORKERS", default=2),
    "timeout": env.int("Q_TIMEOUT", default=600),
    "retry": env.int("Q_RETRY", default=720),
    "max_attempts": 1,
    "catch_up": False,
    "save_limit": env.int("Q_SAVE_LIMIT", default=-1),
    # How long the queue's reader waits after finding it empty (django-q2's 0.2 s is five reads a second
    # per cluster, about 9 ms of CPU each second with nothing to do); a queued task waits at most this
    # long for a free worker to be handed it.
    "poll": env.float("Q_POLL_SECONDS", default=1.0),
    "orm": "default",
    "broker_class": "sync.broker.DatabaseBroker",
}
if REDIS_URL:
    Q_CLUSTER.pop("orm")
    Q_CLUSTER.pop("broker_class")
    Q_CLUSTER["redis"] = REDIS_URL

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"

if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="WARNING")},
}

# --- Orderbridge -----------------------------------------------------------------------
# HTTP client shared by every connector.
HTTP_TIMEOUT_SECONDS = env.float("HTTP_TIMEOUT_SECONDS", default=10.0)
HTTP_MAX_RETRIES = env.int("HTTP_MAX_RETRIES", default=3)
HTTP_BACKOFF_SECONDS = env.float("HTTP_BACKOFF_SECONDS", default=0.5)
# A Retry-After (or rate-limit reset) up to this long is waited out inside the run; a longer
# one stops the connection's run as "throttled" and the next run carries on.
HTTP_MAX_THROTTLE_WAIT_SECONDS = env.float("HTTP_MAX_THROTTLE_WAIT_SECONDS", default=5.0)
# Use HTTP(S)_PROXY / NO_PROXY and netrc from the environment (off: no lookup per request).
HTTP_TRUST_ENV = env.bool("HTTP_TRUST_ENV", default=False)
# One rate budget per platform account, shared by every worker (integrations.budget): in the
# database, or in Redis when REDIS_URL is set. Its refill is BUDGET_SAFETY of the documented rate.
BUDGET_ENABLED = env.bool("BUDGET_ENABLED", default=True)
BUDGET_SAFETY = env.float("BUDGET_SAFETY", default=0.9)
# Tokens one take claims at most, and how long the unspent ones stay usable in the process.
BUDGET_LOCAL_TOKENS = env.int("BUDGET_LOCAL_TOKENS", default=5)
BUDGET_LOCAL_SECONDS = env.float("BUDGET_LOCAL_SECONDS", default=1.0)
# The share of the bucket each sync kind must leave: orders may use it all, tracking ("shipments")
# only above its reserve, inventory only above a larger one.
BUDGET_RESERVES = {
    "orders": 0.0,
    "shipments": env.float("BUDGET_TRACKING_RESERVE", default=0.25),
    "inventory": env.float("BUDGET_INVENTORY_RESERVE", default=0.5),
}
# A 429 lowers the account's rate to this share of what it was (never below BUDGET_MIN_FACTOR of
# the documented one); it recovers by BUDGET_RECOVERY_PER_MINUTE of the documented rate a minute.
BUDGET_TEACH_FACTOR = env.float("BUDGET_TEACH_FACTOR", default=0.8)
BUDGET_MIN_FACTOR = env.float("BUDGET_MIN_FACTOR", default=0.2)
BUDGET_RECOVERY_PER_MINUTE = env.float("BUDGET_RECOVERY_PER_MINUTE", default=0.01)
BUDGET_REDIS_PREFIX = env.str("BUDGET_REDIS_PREFIX", default="orderbridge:budget:")
# Order import: re-read this much before the watermark, and stay this far behind "now".
ORDER_IMPORT_OVERLAP_SECONDS = env.int("ORDER_IMPORT_OVERLAP_SECONDS", default=600)
ORDER_IMPORT_LAG_SECONDS = env.int("ORDER_IMPORT_LAG_SECONDS", default=30)
# How many orders are sent to a warehouse at the same time (1: one after another), used while the
# warehouse takes at least DELIVERY_CONCURRENT_ABOVE_MS to answer a send; faster answers are sent
# one after another (threads would only contend for the interpreter's lock).
DELIVERY_CONCURRENCY = env.int("DELIVERY_CONCURRENCY", default=4)
DELIVERY_CONCURRENT_ABOVE_MS = env.int("DELIVERY_CONCURRENT_ABOVE_MS", default=20)
# A scheduled orders run delivers at most this many batches, then queues the connection's next turn
# behind the work waiting: one merchant's backlog does not hold the workers (sync.cycle).
DELIVERY_BATCHES_PER_TURN = env.int("DELIVERY_BATCHES_PER_TURN", default=1)
# Inventory: the cart's item list is re-read when the last read is older than this (an hourly run
# reads it every time); in between, runs push to the items last read. A full push always reads it.
INVENTORY_CATALOG_REFRESH_MINUTES = env.int("INVENTORY_CATALOG_REFRESH_MINUTES", default=55)
# A level sent to a cart that the cart does not show afterwards is sent again next run; after this many
# pushes in a row it is not shown, the cart connection gets a problem naming the SKUs.
INVENTORY_UNVERIFIED_PROBLEM_AFTER_RUNS = env.int("INVENTORY_UNVERIFIED_PROBLEM_AFTER_RUNS", default=3)
# A delivery claim older than this is considered abandoned (worker died) and may be retaken.
DELIVERY_CLAIM_LEASE_SECONDS = env.int("DELIVERY_CLAIM_LEASE_SECONDS", default=300)
# Backoff after a failed delivery attempt and after a tracking push the cart did not accept: BASE,
# then twice as long after each further failure, at most CAP (1, 2, 4... minutes, at most an hour).
DELIVERY_RETRY_BASE_SECONDS = env.float("DELIVERY_RETRY_BASE_SECONDS", default=60.0)
DELIVERY_RETRY_CAP_SECONDS = env.float("DELIVERY_RETRY_CAP_SECONDS", default=3600.0)
# A change at the cart passed on to the warehouse: calls without a clear answer before it is a problem.
CHANGE_ATTEMPTS = env.int("CHANGE_ATTEMPTS", default=3)
# A delivered order whose warehouse order cannot be read back, or reads back different from what was
# sent, is read back again (with the delivery backoff) this many times, then left to a person (a problem).
WAREHOUSE_VERIFY_ATTEMPTS = env.int("WAREHOUSE_VERIFY_ATTEMPTS", default=3)
# Changes made at the warehouse (`orders.services.warehouse_side`): an order at the warehouse this long
# without having shipped in full is read there (`order_state`) by the shipments sync, again at most
# every WAREHOUSE_CHECK_EVERY_MINUTES, and at most WAREHOUSE_CHECK_PER_RUN orders a run (the longest
# unread first), to see it canceled, gone or shipped short.
WAREHOUSE_CHECK_AFTER_MINUTES = env.int("WAREHOUSE_CHECK_AFTER_MINUTES", default=240)
WAREHOUSE_CHECK_EVERY_MINUTES = env.int("WAREHOUSE_CHECK_EVERY_MINUTES", default=360)
WAREHOUSE_CHECK_PER_RUN = env.int("WAREHOUSE_CHECK_PER_RUN", default=50)
# Overstock lists orders by creation window only: once a day, the windows of its orders not yet shipped
# and placed in the last CART_REREAD_DAYS days are read again, so that a line canceled later is seen.
CART_REREAD_DAYS = env.int("CART_REREAD_DAYS", default=14)
TRACKING_PUSH_RETRY_BASE_SECONDS = env.float("TRACKING_PUSH_RETRY_BASE_SECONDS", default=60.0)
TRACKING_PUSH_RETRY_CAP_SECONDS = env.float("TRACKING_PUSH_RETRY_CAP_SECONDS", default=3600.0)
# Tracking the cart answered OK for but does not show when its order is read back is checked again
# (with the backoff above) this many times before a problem asks a person; after that it is only
# read, not resent, until someone uses "Resend tracking".
TRACKING_VERIFY_ATTEMPTS = env.int("TRACKING_VERIFY_ATTEMPTS", default=3)
# The addresses merchants may need to allow in their firewalls.
OUTBOUND_IP_ADDRESSES = env.list("OUTBOUND_IP_ADDRESSES", default=[])
# Host names (exactly as typed in a connection's address) that may resolve to private addresses: a
# self-hosted warehouse on a private network. Still https only; every other host must be public.
OUTBOUND_PRIVATE_HOSTS = env.list("OUTBOUND_PRIVATE_HOSTS", default=[])
# OAuth apps (client id and secret) for platforms that grant access that way, and the only URLs
# they are sent to: the platform's authorize page and token endpoint. Empty means the platform's
# documented ones; set them only to use a sandbox (never taken from a connection's address).
OAUTH_CLIENTS = {
    platform: {
        "client_id": env.str(f"{platform.upper()}_OAUTH_CLIENT_ID", default=""),
        "client_secret": env.str(f"{platform.upper()}_OAUTH_CLIENT_SECRET", default=""),
        "authorize_url": env.str(f"{platform.upper()}_OAUTH_AUTHORIZE_URL", default=""),
        "token_url": env.str(f"{platform.upper()}_OAUTH_TOKEN_URL", default=""),
    }
    for platform in ("tradegecko", "quickbooks_commerce", "squarespace")
}
# Sync runs: a run's lock lease (longer than any run; a killed worker's lease expires), when a
# connection counts as unhealthy, how long temporary failures are retried before giving up, and how
# long sync runs and resolved problems are kept.
SYNC_LOCK_SECONDS = env.int("SYNC_LOCK_SECONDS", default=900)
UNHEALTHY_AFTER_FAILURES = env.int("UNHEALTHY_AFTER_FAILURES", default=3)
RETRY_GIVE_UP_HOURS = env.int("RETRY_GIVE_UP_HOURS", default=24)
SYNC_RUN_RETENTION_DAYS = env.int("SYNC_RUN_RETENTION_DAYS", default=30)
# Webhooks (Squarespace with an OAuth grant): the public https address platforms send notifications to
# (this site's own, e.g. https://orderbridge.example.com; empty: no subscriptions, polling only); how
# long handled notifications are kept in the inbox; and the slower polling of a cart whose webhooks
# are live (polling stays on as the safety net, and counts what the notifications missed).
PUBLIC_BASE_URL = env.str("PUBLIC_BASE_URL", default="").rstrip("/")
WEBHOOK_INBOX_RETENTION_DAYS = env.int("WEBHOOK_INBOX_RETENTION_DAYS", default=7)
WEBHOOK_POLL_MINUTES = env.int("WEBHOOK_POLL_MINUTES", default=15)
# The worker task a notification queues drains, besides its own connection, the other connections'
# waiting notifications in this many threads (a notified order's run mostly waits on the platforms),
# for up to this many seconds before it lets the worker take its next task (`sync.webhooks.pump`).
# One thread on SQLite, where one writer works at a time.
WEBHOOK_DRAIN_THREADS = env.int(
    "WEBHOOK_DRAIN_THREADS", default=1 if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3" else 4
)
WEBHOOK_DRAIN_SECONDS = env.int("WEBHOOK_DRAIN_SECONDS", default=10)
# How many such tasks drain in threads at once in the whole cluster (the others drain their own
# connection only); raise it with the number of worker machines.
WEBHOOK_DRAIN_PUMPS = env.int("WEBHOOK_DRAIN_PUMPS", default=2)
# Alerts: the support team's addresses (comma-separated), besides each merchant's contact.
SUPPORT_EMAILS = env.list("SUPPORT_EMAILS", default=[])
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="orderbridge@localhost")
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://" if DEBUG else "smtp://localhost:25")
vars().update(EMAIL_CONFIG)
# Reconciliation: an order seen this long ago and still not sent (or its tracking still not at the
# cart) is no longer "in progress" but needs a look.
RECONCILE_GRACE_HOURS = env.int("RECONCILE_GRACE_HOURS", default=24)
# An order page checks an SKU alias against the warehouse's SKU list as last read; a list older than
# this (or never read) is read again in the worker, and the page says so.
WAREHOUSE_SKU_LIST_MAX_AGE_MINUTES = env.int("WAREHOUSE_SKU_LIST_MAX_AGE_MINUTES", default=60)
# An orders run checks SKUs against the warehouse's list as stored when it was read this recently (by
# an earlier run), instead of reading it again; a page naming an SKU the stored list lacks reads it
# first. 0: every run that has orders to check reads the list.
WAREHOUSE_SKU_LIST_REUSE_SECONDS = env.int("WAREHOUSE_SKU_LIST_REUSE_SECONDS", default=300)

# The worker's heartbeat (sync.heartbeat): pages that queue work say no worker is running once none has
# been seen for this long (a live worker beats before each task and at least once a minute).
WORKER_MISSING_AFTER_MINUTES = env.int("WORKER_MISSING_AFTER_MINUTES", default=3)
