"""Typed errors every connector raises; the pipeline turns them into history, holds and retries.

Messages are written for the person who reads them in the admin or a command's output, and never
contain a secret (the HTTP client redacts credentials before building them).
"""

from __future__ import annotations


class ConnectorError(Exception):
    """Base of every error a connector raises. `permanent` errors are not retried as they are."""

    permanent: bool = False
    code: str = "connector_error"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status

    def __str__(self) -> str:
        return self.message


class AuthenticationError(ConnectorError):
    """The platform refused our credentials (401/403): a person must fix the connection."""

    permanent = True
    code = "auth_refused"


class ReauthorizationRequired(AuthenticationError):
    """The platform's grant was revoked or its refresh failed: someone must grant access again."""

    code = "reauthorize"


class AddressRefusedError(AuthenticationError):
    """The address a request would go to is not allowed (not https, or not a public address: see
    `integrations.outbound`); nothing was sent. Handled as a refused login: the connection's runs
    stop until a person corrects its address."""

    code = "address_refused"


class ThrottledError(ConnectorError):
    """Rate limited for longer than we wait inside a run: stop this run, the next one carries on."""

    code = "throttled"

    def __init__(self, message: str, *, retry_after: float | None = None, status: int | None = 429) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class TemporaryError(ConnectorError):
    """Outage, 5xx, timeout or dropped connection: retry later.

    `maybe_delivered` is set when a write may have reached the platform before the failure
    (a timeout or 5xx after the request was sent): ask the platform before resending.
    """

    code = "temporary"

    def __init__(self, message: str, *, status: int | None = None, maybe_delivered: bool = False) -> None:
        super().__init__(message, status=status)
        self.maybe_delivered = maybe_delivered


class PermanentError(ConnectorError):
    """The platform refused the request itself (4xx other than auth and rate limits)."""

    permanent = True
    code = "refused"


class BadPayloadError(ConnectorError):
    """The platform answered with something we cannot read (malformed or truncated body)."""

    code = "bad_payload"


class DuplicateReferenceError(PermanentError):
    """The warehouse already has an order with this reference: ours from an earlier send, or another
    order's (the pipeline reads it back to tell, see `orders.services.delivery.reference_check`)."""

    code = "duplicate_reference"


class OrderRejectedError(PermanentError):
    """The warehouse refused this order for a reason a person can fix (unknown SKU, address...).

    `reason_code` is one of the hold codes the pipeline knows (`unknown_sku`, `missing_address`,
    `unmapped_shipping`, `warehouse_rejected`); `skus` names the offending SKUs when known.
    """

    code = "warehouse_rejected"

    def __init__(
        self,
        message: str,
        *,
        reason_code: str = "warehouse_rejected",
        skus: list[str] | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message, status=status)
        self.reason_code = reason_code
        self.skus = skus or []


class CallTurnedOffError(ConnectorError):
    """A step needs an unconfirmed call (one neither the platform's documentation nor integrators'
    published code confirms) that is off for this connection: nothing was sent. Not a failure: the
    run ends as *not supported for this platform* with the reason, until a person turns the call on
    (see `Connector.unconfirmed_calls`)."""

    permanent = True
    code = "not_supported"


class ChangeTooLateError(PermanentError):
    """The warehouse refused a cancel or an update because of where the order is in its life (being
    picked, shipped, closed): it may ship as it was. `state` is the WH_* value read at the warehouse
    and `platform_status` its own words; the pipeline raises a problem ("may ship: ask the warehouse
    to intercept it, or plan a return"). Not retried."""

    code = "too_late"

    def __init__(self, message: str, *, state: str, platform_status: str = "", status: int | None = None) -> None:
        super().__init__(message, status=status)
        self.state = state
        self.platform_status = platform_status


class ChangeRefusedError(PermanentError):
    """The warehouse refused a cancel or an update for another reason than the order's progress (an
    unknown SKU, an address it will not take, an order it does not have or has canceled itself): a
    person must look. Not retried as it is."""

    code = "change_refused"


class ChangeNotSupportedError(PermanentError):
    """The warehouse offers no documented way to make this change (a part of the order, a field):
    nothing was sent; a person must make it at the warehouse."""

    code = "change_not_supported"


class ChangeUnconfirmedError(TemporaryError):
    """The warehouse answered a cancel or an update, but the order read back does not show it (or
    could not be read back): retry with backoff, reading the order first (`maybe_delivered` is set)."""

    code = "change_unconfirmed"

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message, status=status, maybe_delivered=True)
