"""System checks: settings that would make the product fail silently stop it from starting instead.

Registered in `IntegrationsConfig.ready`, so `manage.py check` runs them, and so do runserver,
migrate, qcluster and every sync command before they start (an error stops them); the WSGI and ASGI
entry points run them too (`startup_errors_refuse`), since a server runs no checks of its own.
"""

from __future__ import annotations

import math
from typing import Any

from cryptography.fernet import Fernet
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


def send_seconds_at_most(*, timeout: float, retries: int, throttle_wait: float) -> float:
    """The longest one send to a platform can take with these HTTP client settings: each attempt (the
    first and `retries` more) may spend `timeout` connecting and `timeout` reading, and a 429 may add
    a wait of up to `throttle_wait`. A delivery claim must outlast it, or another worker may take the
    order over while the send is still under way (and a batch starts no send it cannot finish)."""
    return 2 * timeout * (retries + 1) + throttle_wait


def settings_send_seconds_at_most() -> float:
    """`send_seconds_at_most` with the HTTP client's settings."""
    return send_seconds_at_most(
        timeout=settings.HTTP_TIMEOUT_SECONDS,
        retries=settings.HTTP_MAX_RETRIES,
        throttle_wait=settings.HTTP_MAX_THROTTLE_WAIT_SECONDS,
    )


@checks.register()
def claim_lease_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    lease = settings.DELIVERY_CLAIM_LEASE_SECONDS
    needed = settings_send_seconds_at_most()
    problems: list[checks.CheckMessage] = []
    if lease < needed:
        problems.append(
            checks.Error(
                f"DELIVERY_CLAIM_LEASE_SECONDS ({lease:g} s) is shorter than one send can take: {needed:g} s "
                f"(2 × HTTP_TIMEOUT_SECONDS {settings.HTTP_TIMEOUT_SECONDS:g} × (HTTP_MAX_RETRIES "
                f"{settings.HTTP_MAX_RETRIES} + 1) + HTTP_MAX_THROTTLE_WAIT_SECONDS "
                f"{settings.HTTP_MAX_THROTTLE_WAIT_SECONDS:g}).",
                hint=(
                    f"Set DELIVERY_CLAIM_LEASE_SECONDS to at least {math.ceil(needed)}, or lower the HTTP timeout, "
                    "retries or throttle wait. With a shorter lease, orders are claimed and then not sent, or "
                    "another worker may take an order over while its send is still under way."
                ),
                id="orderbridge.E001",
            )
        )
    if lease > settings.SYNC_LOCK_SECONDS:
        problems.append(
            checks.Warning(
                f"SYNC_LOCK_SECONDS ({settings.SYNC_LOCK_SECONDS} s) is shorter than DELIVERY_CLAIM_LEASE_SECONDS "
                f"({lease:g} s).",
                hint=(
                    "A run renews its lease each time it records progress; one still sending a batch may lose "
                    "it meanwhile, be closed as interrupted and overlap the next run. Make SYNC_LOCK_SECONDS the "
                    "longer of the two."
                ),
                id="orderbridge.W001",
            )
        )
    return problems


def fernet_key_problem(key: Any, *, hkdf: bool) -> str:
    """Why fernet_fields cannot use `key` as it reads it (see `EncryptedField.fernet_keys`), or ""."""
    if hkdf:  # any key is stretched into a Fernet key, but an empty one is surely a mistake
        return "" if key else "is empty"
    try:
        Fernet(key)
    except (TypeError, ValueError):
        return "is not 32 url-safe base64-encoded bytes, which fernet_fields needs with FERNET_USE_HKDF off"
    return ""


@checks.register(checks.Tags.security)
def fernet_keys_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Every FERNET_KEYS entry usable by fernet_fields: one it cannot use breaks every read and write of
    the stored credentials, at the first connection loaded. Messages name a key by position, never by value."""
    keys = getattr(settings, "FERNET_KEYS", None)
    if keys is None:  # fernet_fields then uses SECRET_KEY
        keys = [settings.SECRET_KEY]
    if isinstance(keys, (str, bytes)):
        return [
            checks.Error(
                "FERNET_KEYS is a single string: fernet_fields would take each of its characters for a key.",
                hint="Make it a list of keys (from the environment: comma-separated).",
                id="orderbridge.E002",
            )
        ]
    if not keys:
        return [
            checks.Error(
                "FERNET_KEYS is empty: no stored credential can be encrypted or read.",
                hint="Set FERNET_KEYS to at least one key.",
                id="orderbridge.E002",
            )
        ]
    hkdf = getattr(settings, "FERNET_USE_HKDF", True)
    problems: list[checks.CheckMessage] = []
    for position, key in enumerate(keys, 1):
        problem = fernet_key_problem(key, hkdf=hkdf)
        if problem:
            problems.append(
                checks.Error(
                    f"FERNET_KEYS entry {position} of {len(keys)} {problem}.",
                    hint=(
                        'Generate a key with `python -c "from cryptography.fernet import Fernet; '
                        'print(Fernet.generate_key().decode())"` (usable with or without HKDF).'
                    ),
                    id="orderbridge.E002",
                )
            )
    return problems


@checks.register(checks.Tags.security)
def production_security_check(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """With DEBUG off, sign-in cookies only over HTTPS and HSTS on: an error at every start, not only
    under `check --deploy` (whose warnings nobody is made to read)."""
    if settings.DEBUG:
        return []
    missing = [name for name in ("SESSION_COOKIE_SECURE", "CSRF_COOKIE_SECURE") if not getattr(settings, name, False)]
    if not (getattr(settings, "SECURE_HSTS_SECONDS", 0) or 0) > 0:
        missing.append("SECURE_HSTS_SECONDS > 0")
    if not missing:
        return []
    return [
        checks.Error(
            f"DEBUG is off but {', '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set.",
            hint=(
                "Production serves over HTTPS only: session and CSRF cookies must never travel over plain HTTP, "
                "and browsers must be told (HSTS) to keep to HTTPS. config/settings.py sets them when DEBUG is off; "
                "do not turn them off (SECURE_HSTS_SECONDS from the environment must stay above 0)."
            ),
            id="orderbridge.E003",
        )
    ]


STARTUP_CHECKS = (claim_lease_check, fernet_keys_check, production_security_check)


def startup_errors_refuse() -> None:
    """Refuse to serve with a misconfiguration these checks call an error. A WSGI or ASGI server runs
    no system checks of its own (only management commands do), so the entry points call this."""
    errors = [m for check in STARTUP_CHECKS for m in check() if m.level >= checks.ERROR]
    if errors:
        lines = "\n".join(f"{m.id}: {m.msg} {m.hint or ''}".strip() for m in errors)
        raise ImproperlyConfigured(f"Orderbridge will not start with these settings:\n{lines}")
