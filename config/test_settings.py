"""Settings for the test suite: the real database from DATABASE_URL (SQLite by default), fast
retries, django-q2 running tasks inline."""

from config.settings import *  # noqa: F403
from config.settings import Q_CLUSTER

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
HTTP_TIMEOUT_SECONDS = 3.0
HTTP_BACKOFF_SECONDS = 0.01
HTTP_MAX_THROTTLE_WAIT_SECONDS = 1.0
# The rate budget is on, as in production: a connection to a test sandbox keeps to the sandbox's own rate
# (`sandbox_requests_per_minute`, set by tests.factories), a connector built without one to nothing.
BUDGET_ENABLED = True
Q_CLUSTER = {**Q_CLUSTER, "sync": True}
# Tests run inside one transaction, which other threads' database connections cannot see: a drain task
# drains its own connection only (tests/webhooks/test_drain_pump.py turns the threads on).
WEBHOOK_DRAIN_THREADS = 1
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# The sandbox app stays installed (the emulators, the tooling's commands), but the outbound policy's
# staff exception is off as in production: a connection reaches a loopback sandbox only when it is
# marked as sandbox tooling, or in a test that turns SANDBOX_ENABLED on.
SANDBOX_ENABLED = False
