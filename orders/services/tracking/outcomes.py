"""What a tracking push leaves on its parcels: accepted (the cart shows it), refused (the cart said
no), or unverified (the cart said yes, but its order, read back, does not show the number).

A write counts when the other side shows it. After a push the cart's order is read back once; a
parcel whose numbers are not all on it is *unverified*, keeps what was sent and what the cart shows
in `last_push_error`, and is checked again after the push backoff (the next push reads first, so a
number that appears later is accepted without a resend). After `TRACKING_VERIFY_ATTEMPTS` such
checks a problem asks a person to look, and from then on the parcel is only read, never resent by
itself: a cart that drops the number would otherwise collect one more fulfilment an hour. "Resend
tracking" sends it again. A read-back that fails counts as unverified the same way.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from integrations.connectors.errors import ConnectorError
from orders.models import Order, Shipment, SyncRun
from orders.services.records.health import doubling_delay
from orders.services.records.history import order_event
from orders.services.records.problems import order_problem_key, problem_raise, problems_resolve

UNVERIFIED = "tracking_unverified"  # the history code and the problem's reason


def push_retry_delay(attempts: int) -> timedelta:
    """Backoff after a push the cart did not accept (or does not show): `TRACKING_PUSH_RETRY_BASE_SECONDS`
    (a minute), doubled after each further failure, at most `TRACKING_PUSH_RETRY_CAP_SECONDS` (an hour)."""
    return doubling_delay(
        attempts, base=settings.TRACKING_PUSH_RETRY_BASE_SECONDS, cap=settings.TRACKING_PUSH_RETRY_CAP_SECONDS
    )


def _key(number: str) -> str:
    """A tracking number as compared with the cart's: a cart may change its case or spacing."""
    return "".join(number.split()).upper()


def numbers_missing(*, sent: Iterable[str], shown: Iterable[str]) -> list[str]:
    """The numbers of `sent` that the cart's `shown` numbers do not hold."""
    there = {_key(n) for n in shown}
    return [n for n in sent if _key(n) not in there]


def checks_used_up(*, parcels: list[Shipment]) -> bool:
    """Whether these parcels were checked unverified `TRACKING_VERIFY_ATTEMPTS` times: they are only
    read again, not resent, until a person resends them."""
    limit = settings.TRACKING_VERIFY_ATTEMPTS
    return all(p.push_status == Shipment.PushStatus.UNVERIFIED and p.push_attempts >= limit for p in parcels)


def parcels_accepted(*, parcels: list[Shipment], order: Order, message: str, run: SyncRun | None) -> None:
    Shipment.objects.filter(pk__in=[p.pk for p in parcels]).update(
        push_status=Shipment.PushStatus.ACCEPTED,
        cart_accepted_at=timezone.now(),
        last_push_error="",
        next_push_at=None,
    )
    order_event(order=order, message=message, code="tracking_accepted", run=run)
    if not order.shipments.filter(push_status=Shipment.PushStatus.UNVERIFIED).exists():
        problems_resolve(prefix=order_problem_key(order=order, reason_code=UNVERIFIED))


def parcels_refused(*, parcels: list[Shipment], order: Order, exc: ConnectorError, run: SyncRun | None) -> None:
    attempts = max(p.push_attempts for p in parcels) + 1
    when = timezone.now() + push_retry_delay(attempts)
    Shipment.objects.filter(pk__in=[p.pk for p in parcels]).update(
        push_status=Shipment.PushStatus.FAILED,
        push_attempts=F("push_attempts") + 1,
        next_push_at=when,
        last_push_error=str(exc),
    )
    order_event(
        order=order,
        message=f"The cart did not accept the tracking: {exc}. Retrying after {when:%Y-%m-%d %H:%M} UTC.",
        code="tracking_failed",
        run=run,
    )


def parcels_unverified(
    *,
    parcels: list[Shipment],
    order: Order,
    sent: list[str],
    shown: set[str] | None,
    failure: str = "",
    resent: bool = True,
    run: SyncRun | None,
) -> None:
    """Record that the cart's order does not show `sent` (`shown`: what it shows; None with `failure`
    when it could not be read back), to be checked again after the backoff; a problem once the
    checks are used up. Attempts count from the parcel's first unverified check."""
    attempts = max((p.push_attempts for p in parcels if p.push_status == Shipment.PushStatus.UNVERIFIED), default=0) + 1
    when = timezone.now() + push_retry_delay(attempts)
    numbers = ", ".join(sent)
    if shown is None:
        seen = f"reading the cart's order back failed ({failure})"
    else:
        seen = f"the cart's order shows {', '.join(sorted(shown)) or 'no tracking number'}"
    what = f"Sent tracking {numbers}" if resent else f"Tracking {numbers} was sent earlier"
    error = f"{what}; {seen}."
    Shipment.objects.filter(pk__in=[p.pk for p in parcels]).update(
        push_status=Shipment.PushStatus.UNVERIFIED,
        push_attempts=attempts,
        next_push_at=when,
        last_push_error=error,
    )
    limit = settings.TRACKING_VERIFY_ATTEMPTS
    used_up = attempts >= limit
    after = f"Checking again after {when:%Y-%m-%d %H:%M} UTC (check {attempts} of {limit}"
    after += "; a problem is open for a person)." if used_up else ")."
    order_event(order=order, message=f"Not confirmed by the cart: {error} {after}", code=UNVERIFIED, run=run)
    if used_up:
        problem_raise(
            key=order_problem_key(order=order, reason_code=UNVERIFIED),
            merchant_id=order.merchant_id,
            reason_code=UNVERIFIED,
            message=(
                f"Order #{order.order_number}: the cart does not show its tracking after {attempts} checks. "
                f"{error} Open the order at the cart: if the tracking is missing, add it there by hand, or find "
                "what drops it (the connection's permissions, an app or rule that edits fulfilments), then use "
                '"Resend tracking" on the shipment. Orderbridge keeps reading the order and closes this problem '
                "when the cart shows the number."
            ),
            cart_connection_id=order.cart_connection_id,
            warehouse_id=order.warehouse_id,
            order_id=order.pk,
        )
