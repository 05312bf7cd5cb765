"""The one HTTP client every connector uses.

Timeouts are always set; idempotent requests are retried with exponential backoff on 5xx and
connection errors; 429s are waited out when the wait is short and raised as `ThrottledError`
when it is long; requests keep to the account's rate budget (`integrations.budget`); every failure
becomes a typed `ConnectorError` whose message names the URL and what happened (the status and at
most a short summary of the answer, never its body: see `connectors.answers`), with the
connection's secrets redacted.
"""

from __future__ import annotations

import base64
import random
import time
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urljoin

import requests
from django.conf import settings

from integrations.connectors.answers import json_error_summary, media_type, redact, status_phrase
from integrations.connectors.errors import (
    AddressRefusedError,
    AuthenticationError,
    BadPayloadError,
    PermanentError,
    TemporaryError,
    ThrottledError,
)
from integrations.http_limits import BudgetHook, CooldownHook, cooldown_error, rate_headers, retry_after_seconds
from integrations.outbound import OutboundPolicy, public_only
from integrations.outbound_adapter import GuardedAdapter
from integrations.transport import DirectSender

USER_AGENT = "Orderbridge/1.0 (+order sync; contact support)"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def error_detail(response: requests.Response, secrets: Iterable[str] = ()) -> str:
    """The summary of a JSON error answer's message field (see `connectors.answers`), or "": a body
    that is not a JSON error (an HTML page, plain text) is never quoted."""
    try:
        body = response.json()
    except ValueError:
        return ""
    return json_error_summary(body, secrets=secrets)


def answer_detail(response: requests.Response, secrets: Iterable[str] = ()) -> str:
    """What a message says of a refusal: the JSON error's summary, else the status's standard phrase."""
    return error_detail(response, secrets) or status_phrase(response.status_code)


class ApiClient:
    """A keep-alive session bound to one connection's base URL, secrets and outbound policy.

    `outbound` says where its requests may go (`integrations.outbound`): a connection's policy
    (`connection_policy`), `OPERATOR_CONFIGURED` for a URL taken from the settings, or by default
    public https addresses only.
    """

    # The platform account's cooldown, consulted before each request (set by `Connector.make_client`).
    cooldown: CooldownHook | None = None
    # The platform account's rate budget, a token taken before each request (set by `Connector.make_client`).
    budget: BudgetHook | None = None

    def __init__(
        self,
        base_url: str,
        *,
        platform: str,
        rate_key: str,
        auth: requests.auth.AuthBase | tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        credential_name: str = "the credentials",
        default_cooldown: float = 60.0,
        timeout: float | None = None,
        max_retries: int | None = None,
        backoff: float | None = None,
        max_throttle_wait: float | None = None,
        outbound: OutboundPolicy | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.platform = platform
        self.rate_key = rate_key
        self.secrets = [s for s in secrets if s]
        self.credential_name = credential_name
        self.default_cooldown = default_cooldown
        self.timeout = settings.HTTP_TIMEOUT_SECONDS if timeout is None else timeout
        self.max_retries = settings.HTTP_MAX_RETRIES if max_retries is None else max_retries
        self.backoff = settings.HTTP_BACKOFF_SECONDS if backoff is None else backoff
        self.max_throttle_wait = (
            settings.HTTP_MAX_THROTTLE_WAIT_SECONDS if max_throttle_wait is None else max_throttle_wait
        )
        self.outbound = outbound or public_only()
        self.session = requests.Session()
        adapter = GuardedAdapter(self.outbound)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        # Reading proxy settings from the environment costs a lookup per request: opt in.
        self.session.trust_env = settings.HTTP_TRUST_ENV
        self.session.headers["User-Agent"] = USER_AGENT
        self.session.headers.update(headers or {})
        self.session.auth = auth
        if isinstance(auth, tuple) and len(auth) == 2:
            # The Basic header's value (base64 of user:password) is as secret as the password.
            self.secrets.append(base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
        self._direct = DirectSender(self.session)

    def url(self, path: str) -> str:
        if path.startswith(("http://", "https://")):
            return path
        return urljoin(self.base_url, path.lstrip("/"))

    def _fail(self, exc_class: type, message: str, **kwargs: Any) -> Exception:
        return exc_class(redact(message, self.secrets), **kwargs)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None = None,
        json_body: Any = None,
        data: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        ok_statuses: Iterable[int] = (),
        idempotent: bool | None = None,
    ) -> requests.Response:
        """Send one request; return the response when 2xx (or in `ok_statuses`), else raise.

        A non-idempotent request (POST without an idempotency key) is never resent here: when it
        may have reached the platform, `TemporaryError.maybe_delivered` tells the caller to ask.
        """
        method = method.upper()
        url = self.url(path)
        allowed = set(ok_statuses)
        if idempotent is None:
            idempotent = method in IDEMPOTENT_METHODS or bool(headers and "Idempotency-Key" in headers)
        attempt = 0
        throttle_waits = 0
        while True:
            if self.budget is not None:
                self.budget.spend()  # keeps to the account's cooldown too, at no extra cost
            else:
                self._keep_cooldown()
            try:
                response = self._send(method, url, params=params, json_body=json_body, data=data, headers=headers)
                self._observe_budget(response)
            except AddressRefusedError as exc:
                raise self._fail(
                    AddressRefusedError,
                    f"{self.platform}: nothing was sent ({method} {url}): {exc}. "
                    "Correct the address on the connection, then test it",
                ) from exc
            except requests.exceptions.RequestException as exc:
                error, sent = self._unanswered(exc, method, url)
            else:
                status = response.status_code
                if 200 <= status < 300 or status in allowed:
                    return response
                if self._throttle_waited(response, throttle_waits):
                    throttle_waits += 1
                    continue
                error, sent = self._refused(response, method, url), True
            if not idempotent and sent:
                raise error
            attempt += 1
            if attempt > self.max_retries:
                raise error
            time.sleep(self.backoff * (2 ** (attempt - 1)) * (0.5 + random.random()))

    def _unanswered(self, exc: requests.exceptions.RequestException, method: str, url: str) -> tuple[Exception, bool]:
        """The temporary error for a request that got no answer, and whether it may have been sent;
        raises for a request that could never succeed."""
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return self._fail(
                TemporaryError, f"could not reach {url}: connection timed out after {self.timeout:g} s"
            ), False
        if isinstance(exc, requests.exceptions.Timeout):
            return self._fail(
                TemporaryError,
                f"could not reach {url}: timed out after {self.timeout:g} s",
                maybe_delivered=method not in ("GET", "HEAD"),
            ), True
        if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.ChunkedEncodingError):
            # (ChunkedEncodingError: the answer's body was cut off, which is not a bad request)
            reason = _connection_reason(exc)
            sent = reason not in _NOT_SENT_REASONS
            return self._fail(
                TemporaryError,
                f"could not reach {url}: {reason}",
                maybe_delivered=sent and method not in ("GET", "HEAD"),
            ), sent
        raise self._fail(PermanentError, f"bad request to {url}: {exc}") from exc

    def _throttle_waited(self, response: requests.Response, waits_so_far: int) -> bool:
        """Whether a rate-limit answer was waited out (so the request goes again); False when the answer
        is no rate limit; raises `ThrottledError` (and records the cooldown) when the wait is too long."""
        status = response.status_code
        if not (status == 429 or (status == 503 and "Retry-After" in response.headers)):
            return False
        wait = retry_after_seconds(response, self.default_cooldown)
        if self.budget is not None and status == 429:
            self.budget.throttled(wait)
        if wait <= self.max_throttle_wait and waits_so_far < 3:
            time.sleep(wait)
            return True
        throttled = self._fail(
            ThrottledError,
            f"{self.platform} is rate limiting us ({status}): asked to wait {wait:.0f} s",
            retry_after=wait,
            status=status,
        )
        if self.cooldown is not None:
            self.cooldown.started(wait, str(throttled))
        raise throttled

    def _refused(self, response: requests.Response, method: str, url: str) -> Exception:
        """The temporary error for a 5xx answer (the request reached the platform); raises for an
        answer that retrying cannot change (authentication, any other 4xx)."""
        status = response.status_code
        if status in (401, 403):
            raise self._auth_error(response, url)
        if status >= 500:
            return self._fail(
                TemporaryError,
                f"{self.platform} answered {status} at {url}: {answer_detail(response, self.secrets)}",
                status=status,
                maybe_delivered=method not in ("GET", "HEAD"),
            )
        raise self._fail(
            PermanentError,
            f"{self.platform} refused the request ({status}) at {url}: {answer_detail(response, self.secrets)}",
            status=status,
        )

    def _observe_budget(self, response: requests.Response) -> None:
        """Tell the budget what the platform's rate headers say, where it sends them (not on a 429:
        `throttled` learns from that)."""
        if self.budget is not None and response.status_code != 429:
            seen = rate_headers(response)
            if seen is not None:
                self.budget.observed(*seen)

    def _keep_cooldown(self) -> None:
        """Wait out the short remainder of the account's recorded cooldown; when it is longer, raise
        `ThrottledError` and send nothing."""
        wait = self.cooldown.remaining() if self.cooldown is not None else 0.0
        if wait > self.max_throttle_wait:
            raise cooldown_error(self.platform, wait)
        if wait > 0:
            time.sleep(wait)

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | list[tuple[str, Any]] | None,
        json_body: Any,
        data: bytes | str | None,
        headers: Mapping[str, str] | None,
    ) -> requests.Response:
        """Through the session's pool directly (`DirectSender`) when the request needs nothing more;
        through `Session.request` otherwise (proxies from the environment, cookies, text bodies)."""
        if self._direct.can_send(url, data):
            return self._direct.send(
                method, url, params=params, json_body=json_body, data=data, headers=headers, timeout=self.timeout
            )
        return self.session.request(
            method, url, params=params, json=json_body, data=data, headers=headers, timeout=self.timeout
        )

    def _auth_error(self, response: requests.Response, url: str) -> AuthenticationError:
        status = response.status_code
        challenge = response.headers.get("WWW-Authenticate", "")
        sent_basic = isinstance(self.session.auth, (tuple, requests.auth.HTTPBasicAuth))
        if challenge.lower().startswith("basic") and not sent_basic:
            message = (
                f"{status}: {self.platform} answered with an extra Basic Auth challenge at {url}: "
                "turn off the extra Basic Access Authentication on the site so that its API can be reached"
            )
        elif status == 403:
            message = (
                f"403: {self.credential_name} was accepted but lacks a permission this needs "
                f"({error_detail(response, self.secrets) or 'forbidden'})"
            )
        else:
            message = f"401: {self.credential_name} was refused by {self.platform}"
        return self._fail(AuthenticationError, message, status=status)

    def get_json(self, path: str, **kwargs: Any) -> Any:
        return parse_json(self.request("GET", path, **kwargs), self.platform, self.secrets)


def parse_json(response: requests.Response, platform: str, secrets: Iterable[str] = ()) -> Any:
    """The body as JSON, or a `BadPayloadError` that says the body was malformed or truncated (with
    its media type and size, never its text: it may be another host's page)."""
    try:
        return response.json()
    except ValueError as exc:
        kind = media_type(response.headers.get("Content-Type"))
        size = len(response.content or b"")
        raise BadPayloadError(
            redact(
                f"{platform} answered {response.status_code} with a body that is not valid JSON "
                f"(malformed or truncated; {kind + ', ' if kind else ''}{size} bytes)",
                secrets,
            ),
            status=response.status_code,
        ) from exc


_NOT_SENT_REASONS = frozenset(
    {"connection refused", "the host name does not resolve", "its TLS certificate could not be verified"}
)


def _connection_reason(exc: requests.exceptions.ConnectionError) -> str:
    text = str(exc)
    for marker, reason in (
        ("Connection refused", "connection refused"),
        ("Name or service not known", "the host name does not resolve"),
        ("nodename nor servname", "the host name does not resolve"),
        ("Failed to resolve", "the host name does not resolve"),
        ("RemoteDisconnected", "the connection was closed without an answer"),
        ("Connection reset", "the connection was reset"),
        ("Connection aborted", "the connection was dropped"),
        ("IncompleteRead", "the answer was cut off"),
        ("CERTIFICATE_VERIFY_FAILED", "its TLS certificate could not be verified"),
    ):
        if marker in text:
            return reason
    return "connection failed"
