"""TradeGecko's OAuth 2 (a Doorkeeper provider): authorization codes, expiring access tokens, rotating refresh
tokens and the non-expiring privileged token, and the ``/oauth/authorize`` and ``/oauth/token`` endpoints.

As documented: ``POST /oauth/token`` takes ``client_id``, ``client_secret``, ``redirect_uri`` and either
``code`` + ``grant_type=authorization_code`` or ``refresh_token`` + ``grant_type=refresh_token`` and answers
``{"access_token", "expires_in": 7200, "refresh_token", "scope": "public", "token_type": "bearer"}``; "when a
token is refreshed, a new refresh token is generated" and the old one is refused.

Assumptions (Doorkeeper's defaults, where TradeGecko's pages say nothing):
- Authorization codes live 10 minutes, work once and only with the ``redirect_uri`` they were issued for;
  the sandbox auto-approves any ``redirect_uri`` of its one client.
- Refreshing revokes the previous pair: the old refresh token and the old access token stop working.
- Refresh tokens do not expire; ``created_at`` (epoch seconds) is in the token answer.
- ``/oauth/authorize`` answers 302 to ``redirect_uri?code=...&state=...`` at once (auto-approved); an unknown
  ``client_id``, a missing ``redirect_uri`` or a ``response_type`` other than ``code`` is a 400 JSON error.
- The token endpoint takes a form or a JSON body; client credentials may come in it or as HTTP Basic; wrong
  ones are 401 ``invalid_client``. Answers carry ``Cache-Control: no-store``.
- A bad, used or expired code and a revoked or unknown refresh token are 400 ``invalid_grant`` (the docs'
  example for a stale refresh token showed ``invalid_request``: treat any refusal as "authorize again").
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode

from sandbox.server import RecordedRequest, Response, json_response

CODE_TTL = 600


class OAuthError(Exception):
    """A refusal in RFC 6749's shape: status, ``error`` code and ``error_description``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.error = error
        self.description = description

    def payload(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass
class _Grant:
    access_token: str
    refresh_token: str | None
    expires_at: float | None
    revoked: bool = False


@dataclass
class _Code:
    redirect_uri: str
    expires_at: float
    used: bool = False


class TokenStore:
    def __init__(self, *, client_id: str, client_secret: str, privileged_token: str, token_ttl: int) -> None:
        self.client_id = client_id
        self.client_secret = client_secret
        self.token_ttl = token_ttl
        self.issued: list[dict[str, Any]] = []
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._access[privileged_token] = _Grant(privileged_token, None, None)

    def authorize_endpoint(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        if request.param("response_type") != "code":
            return json_response(
                400, {"error": "unsupported_response_type", "error_description": "response_type must be code."}
            )
        redirect_uri = request.param("redirect_uri")
        try:
            code = self.authorize(request.param("client_id"), redirect_uri)
        except OAuthError as exc:
            return json_response(exc.status, exc.payload())
        state = request.param("state")
        query = urlencode({"code": code, **({"state": state} if state is not None else {})})
        separator = "&" if "?" in (redirect_uri or "") else "?"
        return Response(302, b"", {"Location": f"{redirect_uri}{separator}{query}"})

    def token_endpoint(self, request: RecordedRequest, match: re.Match[str]) -> Response:
        if isinstance(request.json, dict):
            params = request.json
        else:
            form = parse_qs(request.body.decode("utf-8", "replace"), keep_blank_values=True)
            params = {name: values[0] for name, values in form.items()}
        try:
            payload = self.token(params, _basic_credentials(request))
        except OAuthError as exc:
            return json_response(exc.status, exc.payload(), headers={"Cache-Control": "no-store"})
        return json_response(200, payload, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    def authorize(self, client_id: str | None, redirect_uri: str | None) -> str:
        if client_id != self.client_id:
            raise OAuthError(400, "invalid_client", "Client authentication failed: unknown client_id.")
        if not redirect_uri:
            raise OAuthError(400, "invalid_request", "redirect_uri is required.")
        code = secrets.token_hex(20)
        self._codes[code] = _Code(redirect_uri, time.monotonic() + CODE_TTL)
        return code

    def token(self, params: dict[str, Any], basic: tuple[str, str] | None) -> dict[str, Any]:
        client_id, client_secret = basic or (params.get("client_id"), params.get("client_secret"))
        if (client_id, client_secret) != (self.client_id, self.client_secret):
            raise OAuthError(
                401,
                "invalid_client",
                "Client authentication failed due to unknown client, no client "
                "authentication included, or unsupported authentication method.",
            )
        grant_type = params.get("grant_type")
        if grant_type == "authorization_code":
            return self._exchange_code(params)
        if grant_type == "refresh_token":
            return self._rotate(params)
        raise OAuthError(400, "unsupported_grant_type", f"The grant type {grant_type!r} is not supported.")

    def check(self, access_token: str) -> str | None:
        """Why ``access_token`` is refused, or None when it is good."""
        grant = self._access.get(access_token)
        if grant is None:
            return "The access token is invalid"
        if grant.revoked:
            return "The access token was revoked"
        if grant.expires_at is not None and time.monotonic() >= grant.expires_at:
            return "The access token expired"
        return None

    def expire_all(self) -> None:
        """Every expiring access token is now expired; the privileged one and refresh tokens still work."""
        for grant in self._access.values():
            if grant.expires_at is not None:
                grant.expires_at = 0.0

    def revoke_all(self) -> None:
        """Every access token (the privileged one too) and every refresh token is refused from now on."""
        for grant in [*self._access.values(), *self._refresh.values()]:
            grant.revoked = True

    def _exchange_code(self, params: dict[str, Any]) -> dict[str, Any]:
        code = self._codes.get(str(params.get("code") or ""))
        if (
            code is None
            or code.used
            or time.monotonic() >= code.expires_at
            or code.redirect_uri != params.get("redirect_uri")
        ):
            raise OAuthError(
                400,
                "invalid_grant",
                "The provided authorization grant is invalid, expired, revoked, "
                "does not match the redirection URI used in the authorization "
                "request, or was issued to another client.",
            )
        code.used = True
        return self._issue("authorization_code")

    def _rotate(self, params: dict[str, Any]) -> dict[str, Any]:
        grant = self._refresh.get(str(params.get("refresh_token") or ""))
        if grant is None or grant.revoked:
            raise OAuthError(400, "invalid_grant", "The refresh token is invalid, expired or revoked.")
        grant.revoked = True
        return self._issue("refresh_token")

    def _issue(self, grant_type: str) -> dict[str, Any]:
        grant = _Grant(secrets.token_hex(32), secrets.token_hex(32), time.monotonic() + self.token_ttl)
        self._access[grant.access_token] = grant
        self._refresh[grant.refresh_token or ""] = grant
        payload = {
            "access_token": grant.access_token,
            "token_type": "bearer",
            "expires_in": self.token_ttl,
            "refresh_token": grant.refresh_token,
            "scope": "public",
            "created_at": int(time.time()),
        }
        self.issued.append({"grant_type": grant_type, **payload})
        return payload


def _basic_credentials(request: RecordedRequest) -> tuple[str, str] | None:
    scheme, _, encoded = (request.header("Authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, password
