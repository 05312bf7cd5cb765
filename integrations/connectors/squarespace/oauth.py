"""Squarespace's OAuth grant, beside the Developer API key: what webhooks need.

Wire contract (developers.squarespace.com/oauth): the merchant is sent to
`https://login.squarespace.com/api/1/login/oauth/provider/authorize` with `client_id`,
`redirect_uri`, `scope` (comma-separated), `state` and `access_type=offline` (without it no refresh
token is given). The code is traded at `POST https://login.squarespace.com/api/1/login/oauth/
provider/tokens` with our client id and secret as HTTP Basic and a JSON body `{grant_type, code,
redirect_uri}`; a refresh sends `{grant_type: "refresh_token", refresh_token}` the same way. The
answer holds `access_token`, `access_token_expires_at` and `refresh_token_expires_at` (epoch
seconds), and `refresh_token`. An access token lives 30 minutes, a refresh token 7 days, and each
refresh gives a new refresh token (the old one stops working).

A connection holds either an API key (the setup guide's: polling only, since Squarespace does not
give webhook subscriptions to API keys) or the granted tokens; with both, the tokens are used. A
token due within `REFRESH_MARGIN_SECONDS` is refreshed before the call is built, and the new tokens
are stored back through `credentials_changed()`. A refresh Squarespace refuses means the merchant
must grant access again (`ReauthorizationRequired`).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from integrations.connectors.answers import summary
from integrations.connectors.base import ConfigField, OAuthConnector
from integrations.connectors.errors import AuthenticationError, BadPayloadError, ReauthorizationRequired
from integrations.connectors.parsing import decimal_or_none, text
from integrations.http import parse_json, redact
from integrations.outbound import OPERATOR_CONFIGURED

OAUTH_AUTHORIZE_URL = "https://login.squarespace.com/api/1/login/oauth/provider/authorize"
OAUTH_TOKEN_URL = "https://login.squarespace.com/api/1/login/oauth/provider/tokens"
# Orders to read and fulfil (and webhook subscriptions on them); inventory to read and set stock.
OAUTH_SCOPES = ("website.orders", "website.inventory")
REFRESH_MARGIN_SECONDS = 300
REAUTHORIZE = "Squarespace refused our access (the grant was revoked or has run out): grant access again"

OAUTH_CREDENTIAL_FIELDS = (
    ConfigField(
        name="access_token",
        label="Access token",
        help_text="Filled in by “Grant us API access” (needed for webhooks). Leave empty when you use an API key.",
        secret=True,
        required=False,
    ),
    ConfigField(
        name="refresh_token",
        label="Refresh token",
        help_text="Filled in by the access grant.",
        secret=True,
        required=False,
    ),
    ConfigField(
        name="expires_at",
        label="Access token expires at",
        help_text="When the granted access token expires (epoch seconds).",
        required=False,
    ),
)


def token_credentials(answer: Any) -> dict[str, Any]:
    """What to store from a token answer: the tokens, and when the access token expires (epoch s)."""
    if not isinstance(answer, dict):
        raise BadPayloadError("Squarespace answered the token request with something that is not an object")
    token = answer.get("access_token")
    if not isinstance(token, str) or not token:
        raise BadPayloadError("Squarespace answered the token request without an access_token")
    expires = decimal_or_none(answer.get("access_token_expires_at"))
    return {
        "access_token": token,
        "refresh_token": text(answer.get("refresh_token")),
        "expires_at": int(expires) if expires is not None else "",
    }


class SquarespaceOAuth(OAuthConnector):
    """The grant, the token refresh and the bearer of a Squarespace connection."""

    oauth_authorize_url = OAUTH_AUTHORIZE_URL
    oauth_token_url = OAUTH_TOKEN_URL

    @classmethod
    def needs_grant(cls, credentials: dict[str, Any]) -> bool:
        """An API key works without a grant (polling only)."""
        return not (credentials.get("api_key") or credentials.get("access_token"))

    @classmethod
    def missing_configuration(
        cls, credentials: dict[str, Any], settings: dict[str, Any], base_url: str = ""
    ) -> list[ConfigField]:
        missing = super().missing_configuration(credentials, settings, base_url)
        if cls.needs_grant(credentials):
            missing = [f for f in cls.credential_fields if f.name == "api_key"] + missing
        return missing

    @property
    def granted(self) -> bool:
        """Whether the connection holds OAuth tokens (webhooks are possible), not only an API key."""
        return bool(self.credentials.get("access_token"))

    def authorization_url(self, *, client_id: str, redirect_uri: str, state: str) -> str:
        query = urlencode(
            {
                "client_id": client_id,
                "redirect_uri": redirect_uri,
                "scope": ",".join(OAUTH_SCOPES),
                "state": state,
                "access_type": "offline",
            }
        )
        endpoint = self.authorize_endpoint
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    def exchange_code(self, *, client_id: str, client_secret: str, code: str, redirect_uri: str) -> dict[str, Any]:
        body = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        return token_credentials(self._token_request(body, client_id=client_id, client_secret=client_secret))

    def _token_request(self, body: dict[str, str], *, client_id: str, client_secret: str) -> Any:
        """`POST` to the token endpoint with our app as HTTP Basic (never the connection's address);
        a refused grant is `ReauthorizationRequired`, a refused app names the settings."""
        secrets = [client_secret, body.get("refresh_token", ""), body.get("code", "")]
        client = self.make_client(
            base_url=self.token_endpoint,
            outbound=OPERATOR_CONFIGURED,  # the platform's documented URL, or the operator's setting
            auth=(client_id, client_secret),
            headers={"Accept": "application/json"},
            credential_name="Orderbridge's Squarespace app",
            secrets=[s for s in [*secrets, *self.secrets()] if s],
        )
        response = client.request("POST", self.token_endpoint, json_body=body, ok_statuses=(400, 401, 403))
        if response.status_code in (400, 401, 403):
            try:
                answer = response.json()
            except ValueError:
                answer = {}
            answer = answer if isinstance(answer, dict) else {}
            error = summary(answer.get("error") or answer.get("subtype"), 40) or f"HTTP {response.status_code}"
            detail = summary(answer.get("error_description") or answer.get("message"), secrets=client.secrets)
            if error == "invalid_client":
                raise AuthenticationError(
                    f"Squarespace refused Orderbridge's OAuth app ({error}): check SQUARESPACE_OAUTH_CLIENT_ID and "
                    "SQUARESPACE_OAUTH_CLIENT_SECRET",
                    status=response.status_code,
                )
            message = f"{REAUTHORIZE} ({response.status_code} {error}{': ' + detail if detail else ''})"
            raise ReauthorizationRequired(redact(message, client.secrets), status=response.status_code)
        return parse_json(response, self.label, client.secrets)

    def _refresh_due(self) -> bool:
        expires_at = decimal_or_none(self.credentials.get("expires_at"))
        if not self.granted or expires_at is None:
            return False
        return time.time() >= float(expires_at) - REFRESH_MARGIN_SECONDS

    def refresh(self) -> None:
        """Trade the refresh token for new tokens and have the caller store them."""
        refresh_token = str(self.credentials.get("refresh_token") or "")
        if not refresh_token:
            raise ReauthorizationRequired(f"{REAUTHORIZE} (the access token ran out and there is no refresh token)")
        client_id = str(self.settings.get("_oauth_client_id") or "")
        client_secret = str(self.settings.get("_oauth_client_secret") or "")
        if not (client_id and client_secret):
            raise AuthenticationError(
                "The Squarespace access token needs renewing, but Orderbridge has no OAuth app to renew it with: "
                "set SQUARESPACE_OAUTH_CLIENT_ID and SQUARESPACE_OAUTH_CLIENT_SECRET"
            )
        body = {"grant_type": "refresh_token", "refresh_token": refresh_token}
        fresh = token_credentials(self._token_request(body, client_id=client_id, client_secret=client_secret))
        self.credentials.update(fresh)
        self.credentials["refresh_token"] = fresh["refresh_token"] or refresh_token
        self.credentials_changed()

    def bearer(self) -> str:
        """The token for the `Authorization` header: the granted one (refreshed when due), else the key."""
        if self._refresh_due():
            self.refresh()
        return str(self.credentials.get("access_token") or self.credentials.get("api_key") or "")
