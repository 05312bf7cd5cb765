"""Bergen access tokens shared by the connectors of one process, in memory.

A token lives an hour (`expires_in`, 3600 s in the Extensiv model). Each run builds its connector anew,
so a token kept only on the connector cost every run one more round trip before its first call: a
notified order's run, an idle shipments run. Tokens are kept here per account web address and login,
the password part of the key (a changed password never reuses a token issued for the old one), until
shortly before they expire; one the warehouse refuses (401) is dropped. Never stored anywhere else.
"""

from __future__ import annotations

import hashlib
import threading
import time

_lock = threading.Lock()
_tokens: dict[str, tuple[str, float]] = {}  # key -> (token, monotonic time it is renewed at)


def token_key(*parts: str) -> str:
    """The cache key of a login: a digest, so that no password sits in memory as a dict key."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def token_cached(key: str) -> tuple[str, float] | None:
    """The login's token and when to renew it, while it is still good."""
    with _lock:
        found = _tokens.get(key)
    return found if found is not None and time.monotonic() < found[1] else None


def token_keep(key: str, token: str, renew_at: float) -> None:
    with _lock:
        _tokens[key] = (token, renew_at)


def token_drop(key: str, token: str) -> None:
    """Forget `token` (refused by the warehouse), unless another connector has replaced it already."""
    with _lock:
        if _tokens.get(key, ("", 0.0))[0] == token:
            del _tokens[key]


def tokens_forget() -> None:
    """Forget every token (the test suite, between tests)."""
    with _lock:
        _tokens.clear()


class KeptToken:
    """The Bergen connector's side of it, mixed into `BergenWarehouse` (which gives `api`, `api_base`,
    the credentials and settings): the token it calls with, taken from this process's kept ones while
    one is good (`token_current`), set with `token_use`, dropped when the warehouse refuses it."""

    _token: str = ""
    _token_expires: float = 0.0

    def token_key(self) -> str:
        login = (str(self.credentials.get("username") or ""), str(self.credentials.get("password") or ""))
        return token_key(self.api_base(), *login, str(self.settings.get("user_login") or ""))

    def token_current(self) -> bool:
        """Whether a good token is set, taking this process's kept one for the login when this has none."""
        if self._token and time.monotonic() < self._token_expires:
            return True
        cached = token_cached(self.token_key())
        if cached is not None:
            self.token_use(*cached)
        return cached is not None

    def token_use(self, token: str, renew_at: float) -> str:
        self._token, self._token_expires = token, renew_at
        api = self.api()
        api.session.headers["Authorization"] = f"Bearer {token}"
        if token not in api.secrets:
            api.secrets.append(token)
        return token

    def token_refused(self) -> None:
        token_drop(self.token_key(), self._token)
