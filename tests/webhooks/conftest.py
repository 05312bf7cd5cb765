"""A wired merchant whose Squarespace connection was granted by OAuth and has a live subscription."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.test import Client

from integrations.models import CartConnection
from integrations.services import oauth_authorization_url, oauth_complete
from integrations.webhooks import webhooks_ensure
from sandbox.squarespace import SquarespaceSandbox

PUBLIC = "https://orderbridge.test"
REDIRECT = f"{PUBLIC}/oauth/callback/"


def oauth_app_for(sandbox: SquarespaceSandbox) -> dict[str, str]:
    return {
        "client_id": sandbox.oauth_client_id,
        "client_secret": sandbox.oauth_client_secret,
        "authorize_url": f"{sandbox.base_url}/api/1/login/oauth/provider/authorize",
        "token_url": f"{sandbox.base_url}/api/1/login/oauth/provider/tokens",
    }


def grant(cart: CartConnection) -> None:
    """The merchant's "Grant us API access", the browser's part done by hand (the sandbox approves)."""
    url = oauth_authorization_url(connection=cart, redirect_uri=REDIRECT, state="state")
    answer = requests.get(url, allow_redirects=False, timeout=5)
    [code] = parse_qs(urlsplit(answer.headers["Location"]).query)["code"]
    oauth_complete(connection=cart, code=code, redirect_uri=REDIRECT)


@pytest.fixture
def public_site(settings, squarespace_sandbox):
    settings.PUBLIC_BASE_URL = PUBLIC
    settings.OAUTH_CLIENTS = {**settings.OAUTH_CLIENTS, "squarespace": oauth_app_for(squarespace_sandbox)}
    settings.ORDER_IMPORT_LAG_SECONDS = 0


@dataclass
class Hooked:
    cart: CartConnection
    squarespace: SquarespaceSandbox
    bergen: object
    send: Callable[[str, bytes, dict[str, str]], int]


@pytest.fixture
def hooked(wired, public_site, django_capture_on_commit_callbacks) -> Hooked:
    """Granted, subscribed; `send` posts a notification to our endpoint through the test client,
    running what the endpoint queued (the worker, inline in the test settings)."""
    grant(wired.cart)
    assert webhooks_ensure(connection=wired.cart).live
    client = Client()

    def send(url: str, body: bytes, headers: dict[str, str]) -> int:
        assert url.startswith(PUBLIC)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                url.removeprefix(PUBLIC),
                data=body,
                content_type="application/json",
                headers={"Squarespace-Signature": headers.get("Squarespace-Signature", "")},
            )
        return response.status_code

    return Hooked(wired.cart, wired.squarespace, wired.bergen, send)
