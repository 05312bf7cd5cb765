"""The TradeGecko / QuickBooks Commerce session both roles share: OAuth, token refresh, paging, batches.

Auth [doc]: OAuth2 authorization code at the documented endpoints (`https://api.tradegecko.com/oauth/
authorize`, `POST https://api.tradegecko.com/oauth/token` with a JSON body, as the docs show it; the
QuickBooks Commerce docs name the same two). An access token lives 7200 s; its refresh token rotates
on every refresh. A "privileged access token" pasted by the merchant never expires and comes without
a refresh token. The app's client id and secret are not connection fields: the caller passes them in
the settings as `_oauth_client_id` / `_oauth_client_secret`, and may point the two endpoints elsewhere
(`_oauth_authorize_url` / `_oauth_token_url`, from Django settings: a sandbox). The grant and every
refresh go to those endpoints, never to the connection's API address.

A token is refreshed shortly before its `expires_at`, or when a call answers 401; the new tokens are
stored back through `credentials_changed()` and the call is made once more. A refresh TradeGecko
refuses, or a 401 with nothing to refresh, raises `ReauthorizationRequired` (the connection needs a
new grant). A refused refresh before a call is not final on its own: the call is still tried with the
token we hold (a pasted privileged token may sit next to a stale refresh token), and its 401 decides.

Paging [doc]: `limit` (at most 250) and `page` from 1, with an `X-Pagination` header holding JSON;
pages are walked until it says `last_page` or `out_of_bounds` (or, without it, a short page). Related
records are fetched in batches (`ids[]=1&ids[]=2`, 100 ids a call), never one call per record.

Rate limit [doc]: 300 requests per 300 s per app and account, told in `X-Rate-Limit-Limit/Remaining/
Reset` on every answer, 429 until the reset. The account's rate budget (`integrations.budget`) keeps
to the documented limit and follows the headers (fewer remaining than it holds: no more than those until
the reset); the shared client waits out a short 429 (and raises `ThrottledError` for a long one).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from typing import Any, ClassVar
from urllib.parse import urlencode

import requests

from integrations.connectors.answers import summary
from integrations.connectors.base import CART, ConfigField, OAuthConnector, account_identity_of, url_host
from integrations.connectors.errors import (
    AuthenticationError,
    BadPayloadError,
    PermanentError,
    ReauthorizationRequired,
)
from integrations.connectors.limits import RateLimit
from integrations.connectors.parsing import decimal_or_none, text
from integrations.connectors.permissions import writes_unchecked
from integrations.connectors.tradegecko.wire import is_last_page, pagination, record, records
from integrations.http import ApiClient, parse_json, redact
from integrations.outbound import OPERATOR_CONFIGURED

PAGE_LIMIT = 250  # the documented maximum (more is a 400)
ID_BATCH = 100  # ids per batched lookup: keeps the query string short
MAX_PAGES = 10_000  # a safety stop should a server keep answering full pages forever
REFRESH_MARGIN_SECONDS = 300  # renew an access token this long before it expires
OAUTH_AUTHORIZE_URL = "https://api.tradegecko.com/oauth/authorize"
OAUTH_TOKEN_URL = "https://api.tradegecko.com/oauth/token"
REAUTHORIZE = "TradeGecko refused our access (the grant was revoked or expired): grant access again"


def chunks(values: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def token_credentials(answer: dict[str, Any], *, now: float) -> dict[str, Any]:
    """What to store from a token answer: the tokens, and when the access token expires (epoch s)."""
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise BadPayloadError("TradeGecko answered the token request without an access_token")
    lifetime = decimal_or_none(answer.get("expires_in"))
    return {
        "access_token": token,
        "refresh_token": text(answer.get("refresh_token")),
        "expires_at": int(now + float(lifetime)) if lifetime else "",
    }


class TradeGeckoApi(OAuthConnector):
    """HTTP, auth and paging for TradeGecko; the cart and warehouse roles add what they do."""

    label = "TradeGecko"
    rate_limit = RateLimit(requests=300, seconds=300, source="doc: 300 per 300 s per app and account")
    default_base_url = "https://api.tradegecko.com"
    base_url_help = "Leave as is for TradeGecko / QuickBooks Commerce; point it at a sandbox to test."
    credential_fields = (
        ConfigField(
            name="access_token",
            label="Access token",
            help_text=(
                "Filled in by “Grant us API access”. Or paste a privileged access token (in TradeGecko: "
                "Apps → API → your application → Create Privileged Token): it never expires."
            ),
            secret=True,
        ),
        ConfigField(
            name="refresh_token",
            label="Refresh token",
            help_text="Filled in by the access grant. Leave empty with a privileged access token.",
            secret=True,
            required=False,
        ),
        ConfigField(
            name="expires_at",
            label="Access token expires at",
            help_text="When the granted access token expires (epoch seconds). Empty for a privileged token.",
            required=False,
        ),
    )
    # The setting that names this connection's stock location (checked by the connection test).
    location_setting: ClassVar[str] = ""
    page_limit: int = PAGE_LIMIT
    oauth_authorize_url = OAUTH_AUTHORIZE_URL
    oauth_token_url = OAUTH_TOKEN_URL

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._api: ApiClient | None = None
        self._refresh_failure: AuthenticationError | None = None
        self._account: dict[str, Any] | None = None

    # --- the grant ---

    def authorization_url(self, *, client_id: str, redirect_uri: str, state: str) -> str:
        query = urlencode(
            {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "state": state}
        )
        endpoint = self.authorize_endpoint
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    def exchange_code(self, *, client_id: str, client_secret: str, code: str, redirect_uri: str) -> dict[str, Any]:
        answer = self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uri": redirect_uri,
            }
        )
        return token_credentials(answer, now=time.time())

    def _token_request(self, body: dict[str, str]) -> dict[str, Any]:
        """`POST` to the token endpoint (never the connection's address: the body holds our client
        secret); a refused grant becomes `ReauthorizationRequired`, a refused app (`invalid_client`:
        our client id or secret) an `AuthenticationError` naming the settings."""
        secrets = [body.get("client_secret", ""), body.get("refresh_token", ""), body.get("code", "")]
        token_url = self.token_endpoint
        client = self.make_client(
            base_url=token_url,
            outbound=OPERATOR_CONFIGURED,  # the platform's documented URL, or the operator's setting
            headers={"Accept": "application/json"},
            credential_name=f"Orderbridge's {self.label} app",
            secrets=[*secrets, *self.secrets()],
        )
        response = client.request("POST", token_url, json_body=body, ok_statuses=(400, 401))
        if response.status_code in (400, 401):
            try:
                answer = response.json()
            except ValueError:
                answer = {}
            answer = answer if isinstance(answer, dict) else {}
            error = summary(answer.get("error"), 40) or f"HTTP {response.status_code}"
            detail = summary(answer.get("error_description"), secrets=client.secrets)
            if error == "invalid_client":
                setting = self.key.upper()
                raise AuthenticationError(
                    f"{self.label} refused Orderbridge's OAuth app ({error}): check {setting}_OAUTH_CLIENT_ID and "
                    f"{setting}_OAUTH_CLIENT_SECRET",
                    status=response.status_code,
                )
            raise ReauthorizationRequired(
                redact(
                    f"{REAUTHORIZE} ({response.status_code} {error}{': ' + detail if detail else ''})", client.secrets
                ),
                status=response.status_code,
            )
        answer = parse_json(response, self.label, client.secrets)
        if not isinstance(answer, dict):
            raise BadPayloadError("TradeGecko answered the token request with something that is not an object")
        return answer

    def _refresh_due(self) -> bool:
        expires_at = decimal_or_none(self.credentials.get("expires_at"))
        if expires_at is None or not self.credentials.get("refresh_token"):
            return False
        return time.time() >= float(expires_at) - REFRESH_MARGIN_SECONDS

    def refresh(self) -> None:
        """Trade the refresh token for new tokens, store them, and have the caller persist them."""
        refresh_token = str(self.credentials.get("refresh_token") or "")
        if not refresh_token:
            raise ReauthorizationRequired(
                f"{REAUTHORIZE}, or paste a new privileged access token (401: the access token was refused and "
                "there is no refresh token)",
                status=401,
            )
        client_id = str(self.settings.get("_oauth_client_id") or "")
        client_secret = str(self.settings.get("_oauth_client_secret") or "")
        if not (client_id and client_secret):
            setting = self.key.upper()
            raise AuthenticationError(
                f"The {self.label} access token needs renewing, but Orderbridge has no OAuth app to renew it with: "
                f"set {setting}_OAUTH_CLIENT_ID and {setting}_OAUTH_CLIENT_SECRET (or paste a privileged access token)"
            )
        answer = self._token_request(
            {
                "grant_type": "refresh_token",
                "refresh_token": refresh_token,
                "client_id": client_id,
                "client_secret": client_secret,
            }
        )
        fresh = token_credentials(answer, now=time.time())
        self.credentials["access_token"] = fresh["access_token"]
        self.credentials["refresh_token"] = fresh["refresh_token"] or refresh_token
        if fresh["expires_at"]:
            self.credentials["expires_at"] = fresh["expires_at"]
        else:
            self.credentials.pop("expires_at", None)
        if self._api is not None:
            self._api.session.headers["Authorization"] = f"Bearer {fresh['access_token']}"
            self._api.secrets.extend(s for s in (fresh["access_token"], fresh["refresh_token"]) if s)
        self._refresh_failure = None
        self.credentials_changed()

    # --- calls ---

    def api(self) -> ApiClient:
        if self._api is None:
            self._api = self.make_client(
                headers={
                    "Authorization": f"Bearer {self.credentials.get('access_token', '')}",
                    "Accept": "application/json",
                },
                credential_name=f"the {self.label} access token",
                default_cooldown=60,
            )
        return self._api

    def call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        idempotency_key: str = "",
        ok_statuses: Iterable[int] = (),
    ) -> requests.Response:
        """One API call with a valid token: refreshed when due, and once more after a 401."""
        if self._refresh_failure is None and self._refresh_due():
            try:
                self.refresh()
            except AuthenticationError as exc:
                self._refresh_failure = exc  # the token we hold may still work: its 401 decides
        kwargs: dict[str, Any] = {"params": params, "json_body": json_body, "ok_statuses": tuple(ok_statuses)}
        if idempotency_key:
            kwargs["headers"] = {"Idempotency-Key": idempotency_key}
        try:
            response = self.api().request(method, path, **kwargs)
        except AuthenticationError as exc:
            if exc.status != 401:
                raise
            if self._refresh_failure is not None:
                raise self._refresh_failure from exc
            self.refresh()
            try:
                response = self.api().request(method, path, **kwargs)
            except AuthenticationError as again:
                if again.status != 401:
                    raise
                raise ReauthorizationRequired(f"{REAUTHORIZE} (401 with a new access token too)", status=401) from again
        return response

    def get_json(self, path: str, *, params: dict[str, Any] | None = None) -> Any:
        return parse_json(self.call("GET", path, params=params), self.label, self.api().secrets)

    def get_record(self, path: str, root: str, what: str) -> dict[str, Any]:
        """One record (`GET /orders/{id}`...); a 404 says which record is missing."""
        try:
            return record(self.get_json(path), root)
        except PermanentError as exc:
            if exc.status == 404:
                raise PermanentError(f"{self.label} has no {what} (404)", status=404) from exc
            raise

    def pages(self, path: str, root: str, params: dict[str, Any] | None = None) -> Iterator[list[dict[str, Any]]]:
        """Every page of a list, `page_limit` records a page, as the `X-Pagination` header tells."""
        for page in range(1, MAX_PAGES + 1):
            response = self.call("GET", path, params={**(params or {}), "limit": self.page_limit, "page": page})
            items = records(parse_json(response, self.label, self.api().secrets), root)
            yield items
            meta = pagination(response.headers.get("X-Pagination"))
            if is_last_page(meta, page=page, count=len(items), limit=self.page_limit):
                return
        raise BadPayloadError(f"{self.label} kept answering full pages of {path} past page {MAX_PAGES}")

    def every(self, path: str, root: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return [item for page in self.pages(path, root, params) for item in page]

    def by_ids(self, path: str, root: str, ids: Iterable[str], *, param: str = "ids[]") -> list[dict[str, Any]]:
        """The records with these ids (or with these values of another array filter), in batches."""
        wanted = list(dict.fromkeys(str(i) for i in ids if str(i)))
        return [item for batch in chunks(wanted, ID_BATCH) for item in self.every(path, root, {param: batch})]

    def lookup(self, path: str, root: str, ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        return {text(item.get("id")): item for item in self.by_ids(path, root, ids)}

    def line_items_of(self, orders: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The lines of these orders in batches: by the ids the orders list, and by `order_id[]` for
        any order that does not list them."""
        listed = [o for o in orders if isinstance(o.get("order_line_item_ids"), list)]
        ids = [text(i) for order in listed for i in order["order_line_item_ids"] if text(i)]
        others = [text(o.get("id")) for o in orders if o not in listed and text(o.get("id"))]
        lines = self.by_ids("/order_line_items", "order_line_items", ids)
        if others:
            lines += self.by_ids("/order_line_items", "order_line_items", others, param="order_id[]")
        return lines

    # --- the account ---

    def account(self) -> dict[str, Any]:
        if self._account is None:
            self._account = self.get_record("/accounts/current", "account", "current account")
        return self._account

    def learn_account_identity(self) -> str:
        """The account the token opens (`GET /accounts/current`), on this API host: only TradeGecko can
        tell (a token names no account), so the configuration alone gives none. Asked once per connector."""
        account_id = text(self.account().get("id"))
        return account_identity_of("tradegecko", url_host(self.base_url), account_id) if account_id else ""

    def test_connection(self) -> str:
        """The account the token opens, and the connection's stock location when one is set; the
        writes its role needs are named, not checked (see `integrations.connectors.permissions`)."""
        return self._account_and_location() + writes_unchecked(self.label, self.writes_needed())

    def writes_needed(self) -> str:
        """What the role writes, for the test's sentence on write permission."""
        if self.role == CART:
            return (
                "sending tracking (fulfilments) and stock levels (stock adjustments) needs the user who granted "
                "access, or whose privileged token this is, to be allowed to fulfil orders and adjust stock"
            )
        return (
            "sending orders needs the user who granted access, or whose privileged token this is, to be "
            "allowed to create orders"
        )

    def _account_and_location(self) -> str:
        account = self.account()
        name = summary(text(account.get("name")) or text(account.get("id")), 80)
        answer = f"credentials accepted: {self.label} account {name}"
        location = text(self.settings.get(self.location_setting)) if self.location_setting else ""
        if not location:
            return answer + "."
        field = next(f.label for f in self.setting_fields if f.name == self.location_setting)
        try:
            found = self.get_record(f"/locations/{location}", "location", f"stock location {location}")
        except PermanentError as exc:
            if exc.status != 404:
                raise
            raise PermanentError(
                f"{answer}, but stock location {location} is not one of its locations: check the {field} setting",
                status=404,
            ) from exc
        return f"{answer}; {field} {location} is “{summary(text(found.get('label')), 80) or location}”."
