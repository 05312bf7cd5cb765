"""A connection's health after each run: retry state on the row, and the problems a person sees.

Failures are classified: *temporary* (retried with backoff, at most hourly, for
`RETRY_GIVE_UP_HOURS`, then given up with a problem), *throttled* (deferred, costs no attempt),
*needs a person* (credentials refused, configuration missing: scheduled runs stop until someone
fixes it and tests the connection), *permanent* (the platform refused the request itself: same).
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from django.conf import settings
from django.utils import timezone

from integrations.connectors.errors import (
    AuthenticationError,
    ConnectorError,
    PermanentError,
    ThrottledError,
)
from integrations.models import CartConnection, SyncOutcome, WMSConnection
from integrations.services import ConnectionNotConfigured
from integrations.tenancy import CrossMerchantLink
from orders.models import SyncRun
from orders.services.records.problems import connection_problem, connection_problem_key, problems_resolve


class FailureKind(StrEnum):
    """How a failed run is retried; stored on the run as `SyncRun.failure_kind`."""

    TEMPORARY = "temporary"
    THROTTLED = "throttled"
    NEEDS_PERSON = "needs_person"
    PERMANENT = "permanent"


def failure_kind(exc: BaseException) -> FailureKind:
    if isinstance(exc, ThrottledError):
        return FailureKind.THROTTLED
    if isinstance(exc, (AuthenticationError, ConnectionNotConfigured, CrossMerchantLink)):
        return FailureKind.NEEDS_PERSON
    if isinstance(exc, PermanentError):
        return FailureKind.PERMANENT
    if isinstance(exc, ConnectorError):
        return FailureKind.TEMPORARY
    return FailureKind.TEMPORARY


def doubling_delay(attempts: int, *, base: float, cap: float) -> timedelta:
    """The wait after `attempts` failures in a row: `base` seconds after the first, doubled after each
    further one, at most `cap` (every backoff of the sync: connections, deliveries, tracking pushes)."""
    return timedelta(seconds=min(base * 2 ** min(max(attempts - 1, 0), 32), cap))


def backoff(failures: int) -> timedelta:
    """1, 2, 4... minutes after each failure in a row, at most an hour."""
    return doubling_delay(failures, base=60, cap=3600)


def connection_record_run(
    *,
    connection: CartConnection | WMSConnection,
    run: SyncRun,
    retry_after: float | None = None,
    last_sync: dict[str, object] | None = None,
) -> None:
    """Update the connection's retry state and problems from a finished run; `last_sync` (the row's
    fields describing the last run) goes in the same UPDATE."""
    model = type(connection)
    now = timezone.now()
    recorded = dict(last_sync or {})
    if run.status in (SyncOutcome.SUCCEEDED, SyncOutcome.PARTIAL):
        model.objects.filter(pk=connection.pk).update(
            **recorded,
            last_success_at=now,
            consecutive_failures=0,
            failing_since=None,
            next_attempt_at=None,
            unhealthy=False,
            blocked_reason="",
        )
        problems_resolve(prefix=connection_problem_key(connection=connection))
        return
    if run.status == SyncOutcome.THROTTLED:
        wait = retry_after if retry_after is not None else 60.0
        model.objects.filter(pk=connection.pk).update(**recorded, next_attempt_at=now + timedelta(seconds=wait))
        return
    if run.status != SyncOutcome.FAILED:
        if recorded:
            model.objects.filter(pk=connection.pk).update(**recorded)
        return
    failures = connection.consecutive_failures + 1
    failing_since = connection.failing_since or now
    fields = {
        "consecutive_failures": failures,
        "failing_since": failing_since,
        "unhealthy": failures >= settings.UNHEALTHY_AFTER_FAILURES,
        "next_attempt_at": now + backoff(failures),
    }
    if run.failure_kind in (FailureKind.NEEDS_PERSON, FailureKind.PERMANENT):
        fields["blocked_reason"] = (
            f"Stopped until a person acts ({run.get_failure_kind_display()}): {run.error.splitlines()[0]}"
            if run.error
            else "Stopped until a person acts."
        )
        connection_problem(connection=connection, reason_code="needs_person", message=fields["blocked_reason"])
    elif now - failing_since >= timedelta(hours=settings.RETRY_GIVE_UP_HOURS):
        fields["blocked_reason"] = (
            f"Gave up retrying after {settings.RETRY_GIVE_UP_HOURS} hours of failures: "
            f"{run.error.splitlines()[0] if run.error else 'see the sync runs'}"
        )
        connection_problem(connection=connection, reason_code="gave_up", message=fields["blocked_reason"])
    elif fields["unhealthy"]:
        connection_problem(
            connection=connection, reason_code="failing", message=f"failed {failures} times in a row: {run.error[:300]}"
        )
    model.objects.filter(pk=connection.pk).update(**recorded, **fields)
    for name, value in fields.items():
        setattr(connection, name, value)
