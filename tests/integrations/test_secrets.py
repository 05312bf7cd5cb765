"""Secrets: credentials are encrypted at rest and never appear anywhere a person or a log reads, even
when the platforms fail and their error bodies repeat what we sent them.

Each test makes syncs and Test connections fail with known secrets (401s, 403s, 500s whose bodies echo
the Authorization header or the request body, timeouts, unreadable bodies, the Bergen token endpoint
failing, a TradeGecko refresh refused), then looks for the secrets in: every log record of every logger
at DEBUG (with tracebacks), the messages, reprs and tracebacks of the exceptions the connectors raise,
every column of every table (SyncRun.error, OrderEvent.message, last_sync_message, last_test_message,
Problem.message, the admin's LogEntry...), every admin page (changelists, change and history pages),
the pages after Test connection, and the mail sent.
"""

from __future__ import annotations

import base64
import json
import logging
import traceback
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib import admin
from django.core import mail
from django.db import connection as database
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from integrations.connectors.tradegecko.connector import TradeGeckoCart
from integrations.models import CartConnection, WMSConnection
from integrations.outbound import SANDBOX_TOOLING
from integrations.services import cart_connector_for, warehouse_connector_for
from sandbox.bergen import BergenSandbox
from sandbox.squarespace import SquarespaceSandbox
from sandbox.tradegecko import TradeGeckoSandbox
from sync.alerts import alerts_send_digests
from sync.cycle import cart_connection_sync_orders
from sync.return_path import warehouse_sync_shipments, warehouse_sync_stock
from tests.admin_helpers import form_values
from tests.factories import CartConnectionFactory, ShippingMethodMapFactory, WMSConnectionFactory
from tests.fixtures_tradegecko import oauth_app_settings, oauth_connector_settings
from tests.orders.helpers import ORDERS_PATH, ago

SQ_KEY = "sq-secret-api-key-5e1f0c7a9b"
BG_USER = "bergen-login-2f7d"  # not secret (the admin shows it), but its pair with the password is
BG_PASS = "bergen-secret-pass-8c4d2a61"
TG_CLIENT_SECRET = "tg-client-secret-3b9e77d1"
NEW_KEY = "sq-typed-in-the-admin-41d7c2"


class Echoing:
    """A sandbox that, while `echo` is set to (status, path fragment), answers matching requests with an
    error that repeats what they carried: the Authorization header, the query and the body."""

    echo: tuple[int, str] | None = None

    def before_dispatch(self, request):
        if self.echo and self.echo[1].lower() in request.path.lower():
            said = (
                f"Authorization: {request.header('Authorization')}; query: {request.query}; "
                f"body: {request.body.decode('utf-8', 'replace')}"
            )
            return self.error_response(self.echo[0], f"Refused. You sent {said}")
        return super().before_dispatch(request)


class EchoingSquarespace(Echoing, SquarespaceSandbox):
    pass


class EchoingBergen(Echoing, BergenSandbox):
    pass


class EchoingTradeGecko(Echoing, TradeGeckoSandbox):
    pass


@pytest.fixture
def all_logs(caplog) -> Iterator[logging.Handler]:
    """caplog at DEBUG for every logger, those that do not propagate too."""
    caplog.set_level(logging.DEBUG)
    changed = []
    for logger in [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]:
        if not isinstance(logger, logging.Logger):
            continue
        changed.append((logger, logger.level, logger.disabled))
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        if not logger.propagate:
            logger.addHandler(caplog.handler)
    yield caplog.handler
    for logger, level, disabled in changed:
        logger.setLevel(level)
        logger.disabled = disabled
        if caplog.handler in logger.handlers:
            logger.removeHandler(caplog.handler)


class Evidence:
    """Everything a secret could leak into, gathered as (where, text)."""

    def __init__(self, log_handler: logging.Handler) -> None:
        self.log_handler = log_handler
        self.items: list[tuple[str, str]] = []

    def add(self, where: str, text: object) -> None:
        self.items.append((where, text if isinstance(text, str) else repr(text)))

    def raised(self, where: str, call) -> None:
        """Run `call`; keep the message, repr and traceback of whatever it raises, causes included."""
        try:
            result = call()
            if hasattr(result, "__next__"):
                list(result)
        except Exception as exc:  # noqa: BLE001 - every exception is evidence here
            seen = exc
            while seen is not None:
                self.add(f"{where}: {type(seen).__name__}", f"{seen}\n{seen!r}")
                seen = seen.__cause__ or seen.__context__
            self.add(f"{where}: traceback", "".join(traceback.format_exception(exc)))

    def page(self, where: str, response) -> None:
        self.add(where, response.content.decode("utf-8", "replace"))

    def logs(self) -> list[tuple[str, str]]:
        return [(f"log {r.name}:{r.levelname}", self.log_handler.format(r)) for r in self.log_handler.records]

    def database(self) -> list[tuple[str, str]]:
        """Every value of every column of every table, as the database holds it."""
        found = []
        with database.cursor() as cursor:
            for table in database.introspection.table_names():
                cursor.execute(f"SELECT * FROM {database.ops.quote_name(table)}")  # noqa: S608
                names = [c[0] for c in cursor.description]
                for row in cursor.fetchall():
                    for name, value in zip(names, row, strict=True):
                        if isinstance(value, (bytes, memoryview)):
                            value = bytes(value).decode("latin-1")
                        if value is not None:
                            found.append((f"db {table}.{name}", str(value)))
        return found

    def mail(self) -> list[tuple[str, str]]:
        return [(f"mail to {m.to}", f"{m.subject}\n{m.body}") for m in mail.outbox]

    def everything(self) -> list[tuple[str, str]]:
        return [*self.items, *self.logs(), *self.database(), *self.mail()]

    def mentions(self, text: str) -> bool:
        return any(text in said for _, said in self.everything())

    def leaks(self, secrets: list[str]) -> list[str]:
        everything = self.everything()
        return [
            f"{where}: …{text[max(0, text.index(s) - 80) : text.index(s) + len(s) + 40]}…"
            for where, text in everything
            for s in secrets
            if s and s in text
        ]


def assert_no_secret(evidence: Evidence, secrets: list[str]) -> None:
    leaks = evidence.leaks(secrets)
    assert not leaks, "secrets found:\n" + "\n".join(leaks)


def basic(user: str, password: str) -> str:
    """The Basic Authorization value: as good as the password to whoever reads it."""
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def crawl_admin(admin_client, evidence: Evidence) -> None:
    """Every changelist, and the change and history pages of up to five objects of every model."""
    evidence.page("admin index", admin_client.get(reverse("admin:index")))
    for model, _ in admin.site._registry.items():
        opts = model._meta
        try:
            changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        except NoReverseMatch:
            continue
        evidence.page(f"admin {opts.label} changelist", admin_client.get(changelist))
        for obj in model._default_manager.all()[:5]:
            for view in ("change", "history"):
                url = reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])
                response = admin_client.get(url)
                assert response.status_code in (200, 302), (url, response.status_code)
                evidence.page(f"admin {opts.label} #{obj.pk} {view}", response)


def admin_test_connection(admin_client, evidence: Evidence, conn) -> None:
    """The change page's Test connection button, followed to the page that shows its message."""
    name = conn._meta.model_name
    response = admin_client.post(reverse(f"admin:integrations_{name}_test", args=[conn.pk]), follow=True)
    evidence.page(f"admin test {name} #{conn.pk}", response)


def test_the_net_catches_a_secret_in_a_quiet_logger_a_column_a_page_and_an_exception(db, all_logs, admin_client):
    """The checks below are only as good as this net: it must find a secret wherever one lands."""
    evidence = Evidence(all_logs)
    cart = CartConnectionFactory()
    logging.getLogger("django.server").debug("request with %s", SQ_KEY)  # a logger that does not propagate
    CartConnection.objects.filter(pk=cart.pk).update(last_sync_message=f"refused {SQ_KEY}")
    evidence.page("cart", admin_client.get(reverse("admin:integrations_cartconnection_change", args=[cart.pk])))
    evidence.raised("call", _raise_chained)

    where = {leak.split(":")[0] for leak in evidence.leaks([SQ_KEY])}

    assert {"log django.server", "db integrations_cartconnection.last_sync_message", "cart"} <= where
    assert any(w.startswith("call") for w in where), where


def _raise_chained() -> None:
    try:
        raise ValueError(f"inner {SQ_KEY}")
    except ValueError as exc:
        raise RuntimeError("outer") from exc


# --- at rest ------------------------------------------------------------------------------------


def test_the_raw_credentials_columns_hold_no_secret_and_no_field_name(db):
    cart = CartConnectionFactory(credentials_values={"api_key": SQ_KEY})
    wms = WMSConnectionFactory(credentials_values={"username": BG_USER, "password": BG_PASS})
    tg = CartConnectionFactory(
        platform="tradegecko",
        credentials_values={"access_token": "tg-access-9d1c", "refresh_token": "tg-refresh-77ab", "expires_at": 1},
    )

    with database.cursor() as cursor:
        rows = []
        for model in (CartConnection, WMSConnection):
            cursor.execute(f"SELECT id, credentials FROM {model._meta.db_table}")  # noqa: S608
            rows += [(model, pk, bytes(v) if not isinstance(v, str) else v.encode()) for pk, v in cursor.fetchall()]

    assert {(m, pk) for m, pk, _ in rows} >= {
        (CartConnection, cart.pk),
        (WMSConnection, wms.pk),
        (CartConnection, tg.pk),
    }
    for _, _, raw in rows:
        assert raw.startswith(b"gAAAAA")  # a Fernet token
        for plain in (SQ_KEY, BG_USER, BG_PASS, "tg-access-9d1c", "tg-refresh-77ab", "api_key", "password"):
            assert plain.encode() not in raw
            assert base64.b64encode(plain.encode())[:12] not in raw


# --- Squarespace failing ------------------------------------------------------------------------------


@pytest.fixture
def leaky(db):
    """A merchant whose Squarespace cart and Bergen warehouse point at echoing sandboxes, with known secrets."""
    with (
        EchoingSquarespace(api_key=SQ_KEY, rate_limit_per_minute=None) as squarespace,
        EchoingBergen(username=BG_USER, password=BG_PASS) as bergen,
    ):
        bergen.add_item("SKU-1", on_hand=50)
        wms = WMSConnectionFactory(
            api_base_url=bergen.base_url,
            sandbox_tooling=True,
            credentials_values={"username": BG_USER, "password": BG_PASS},
            settings={"account_web_address": bergen.base_url, "customer_name": bergen.customer, "facility": "NJ"},
        )
        ShippingMethodMapFactory(warehouse=wms, cart_method="Standard", ship_code="UPS:Ground")
        cart = CartConnectionFactory(
            merchant=wms.merchant,
            warehouse=wms,
            api_base_url=squarespace.base_url,
            sandbox_tooling=True,
            credentials_values={"api_key": SQ_KEY},
        )
        squarespace.add_order(order_number="1001", created_on=ago(minutes=5))
        yield cart, wms, squarespace, bergen


# "shown": the echo reaches a message (redacted). A body that is not a JSON error (plain text, a
# truncated body) is never quoted at all, so its echo shows nowhere.
SQUARESPACE_FAULTS = {
    "401-echoing-the-key": {"echo": (401, ORDERS_PATH)},
    "403-echoing-the-key": {"echo": (403, ORDERS_PATH), "shown": True},
    "400-echoing-the-key": {"echo": (400, ORDERS_PATH), "shown": True},
    "500-echoing-the-key": {"echo": (500, ORDERS_PATH), "shown": True},
    "503-echoing-the-key": {"echo": (503, ORDERS_PATH), "shown": True},
    "200-unreadable-body-holding-the-key": {
        "fault": {"mode": "truncated", "body": f'{{"result": ["{SQ_KEY}'},
    },
    "timeout": {"fault": {"mode": "timeout", "delay": 0.4}},
    "dropped": {"fault": {"mode": "drop"}},
}


@pytest.mark.parametrize("fault", SQUARESPACE_FAULTS.values(), ids=SQUARESPACE_FAULTS.keys())
def test_a_failing_squarespace_cart_leaks_its_key_nowhere(leaky, fault, all_logs, admin_client, settings):
    settings.HTTP_TIMEOUT_SECONDS = 0.2
    settings.HTTP_MAX_RETRIES = 1
    cart, _, squarespace, _ = leaky
    evidence = Evidence(all_logs)
    if "echo" in fault:
        squarespace.echo = fault["echo"]
    else:
        squarespace.fail_next(100, path_contains="/1.0/commerce", **fault["fault"])

    for _ in range(settings.UNHEALTHY_AFTER_FAILURES + 1):  # failures in a row: unhealthy, problems raised
        run = cart_connection_sync_orders(connection=cart)
        assert run.status == "failed", run.error
    evidence.raised(
        "Squarespace listing",
        lambda: cart_connector_for(connection=cart).iter_order_pages(
            modified_after=ago(days=1), modified_before=ago(seconds=30), open_only=True
        ),
    )
    evidence.raised("Squarespace test", lambda: cart_connector_for(connection=cart).test_connection())
    admin_test_connection(admin_client, evidence, cart)
    cart.refresh_from_db()
    assert cart.last_sync_status == "failed" and cart.last_test_ok is False
    alerts_send_digests()
    crawl_admin(admin_client, evidence)

    assert_no_secret(evidence, [SQ_KEY, f"Bearer {SQ_KEY}"])
    assert evidence.mentions("[redacted]") or not fault.get("shown"), "the echo never reached a message"


# --- Bergen failing: the token endpoint and the API -------------------------------------------------

TOKEN_PATH = "/AuthServer/api/Token"
BERGEN_FAULTS = {
    "token-500-echoing-the-basic-header": {"echo": (500, TOKEN_PATH)},  # plain text: not quoted
    "token-401-echoing-the-basic-header": {"echo": (401, TOKEN_PATH)},
    "token-400-echoing-the-basic-header": {"echo": (400, TOKEN_PATH), "shown": True},
    "token-400-naming-the-password": {
        "fault": {
            "path_contains": "Token",
            "status": 400,
            "body": json.dumps({"error": "invalid_request", "error_description": f"client secret {BG_PASS} malformed"}),
        },
        "shown": True,
    },
    "token-timeout": {"fault": {"path_contains": "Token", "mode": "timeout", "delay": 0.4}},
    "api-500-echoing-the-bearer-token": {"echo": (500, "/inventory")},  # plain text: not quoted
    "api-403-echoing-the-bearer-token": {"echo": (403, "/inventory"), "shown": True},
}


@pytest.mark.parametrize("fault", BERGEN_FAULTS.values(), ids=BERGEN_FAULTS.keys())
def test_a_failing_bergen_warehouse_leaks_its_password_and_tokens_nowhere(
    leaky, fault, all_logs, admin_client, settings
):
    settings.HTTP_TIMEOUT_SECONDS = 0.2
    settings.HTTP_MAX_RETRIES = 1
    cart, wms, _, bergen = leaky
    evidence = Evidence(all_logs)
    if "echo" in fault:
        bergen.echo = fault["echo"]
    else:
        bergen.fail_next(100, **fault["fault"])

    cart_connection_sync_orders(connection=cart)  # imports; the SKU check and the delivery meet the fault
    for _ in range(settings.UNHEALTHY_AFTER_FAILURES + 1):
        warehouse_sync_stock(warehouse=wms)
        warehouse_sync_shipments(warehouse=wms)
    connector = warehouse_connector_for(connection=wms)
    evidence.raised("Bergen SKU list", connector.list_skus)
    evidence.raised("Bergen stock", lambda: connector.iter_stock_levels())
    evidence.raised("Bergen test", lambda: warehouse_connector_for(connection=wms).test_connection())
    admin_test_connection(admin_client, evidence, wms)
    alerts_send_digests()
    crawl_admin(admin_client, evidence)
    with bergen.lock:
        tokens = list(bergen._tokens)

    assert_no_secret(evidence, [BG_PASS, basic(BG_USER, BG_PASS), *tokens])
    assert evidence.mentions("[redacted]") or not fault.get("shown"), "the echo never reached a message"


# --- TradeGecko: a refresh refused, and the API failing ----------------------------------------------


@pytest.fixture
def tradegecko_cart(db, settings):
    """A TradeGecko cart holding a real grant (access and refresh token) from the sandbox."""
    with EchoingTradeGecko(client_secret=TG_CLIENT_SECRET, rate_limit=None) as sandbox, BergenSandbox() as bergen:
        settings.OAUTH_CLIENTS = {**settings.OAUTH_CLIENTS, "tradegecko": oauth_app_settings(sandbox)}
        granting = TradeGeckoCart(
            base_url=sandbox.base_url,
            outbound=SANDBOX_TOOLING,
            credentials={},
            settings=oauth_connector_settings(sandbox),
        )
        redirect = "https://orderbridge.example/oauth/callback"
        url = granting.authorization_url(client_id=sandbox.client_id, redirect_uri=redirect, state="s")
        code = parse_qs(urlsplit(requests.get(url, allow_redirects=False, timeout=5).headers["Location"]).query)
        tokens = granting.exchange_code(
            client_id=sandbox.client_id, client_secret=TG_CLIENT_SECRET, code=code["code"][0], redirect_uri=redirect
        )
        wms = WMSConnectionFactory(
            api_base_url=bergen.base_url,
            sandbox_tooling=True,
            settings={"account_web_address": bergen.base_url, "customer_name": bergen.customer, "facility": "NJ"},
        )
        cart = CartConnectionFactory(
            merchant=wms.merchant,
            warehouse=wms,
            platform="tradegecko",
            api_base_url=sandbox.base_url,
            sandbox_tooling=True,
            credentials_values=tokens,
        )
        sandbox.add_order("SO0001", created_at=timezone.now() - timedelta(minutes=5))
        yield cart, sandbox, tokens


def refused_refresh(status: int):
    """The token endpoint refusing a refresh with an OAuth error that repeats the refresh token and our
    client secret (as a verbose OAuth server or a debugging proxy might)."""

    def inject(sandbox, tokens) -> None:
        sandbox.expire_tokens()
        described = f"refresh_token={tokens['refresh_token']} client_secret={TG_CLIENT_SECRET} not accepted"
        body = json.dumps({"error": "invalid_grant", "error_description": described})
        sandbox.fail_next(100, status=status, path_contains="/oauth/token", body=body)

    return inject


def echoing_api(status: int):
    def inject(sandbox, tokens) -> None:
        sandbox.echo = (status, "/orders")

    return inject


def revoked(sandbox, tokens) -> None:
    sandbox.revoke_all()


TRADEGECKO_FAULTS = {
    "refresh-400-repeating-the-refresh-token-and-client-secret": refused_refresh(400),
    "refresh-401-repeating-the-refresh-token-and-client-secret": refused_refresh(401),
    "refresh-500-repeating-the-refresh-token-and-client-secret": refused_refresh(500),
    "grant-revoked-refresh-refused-then-the-api-401": revoked,
    "api-500-echoing-the-access-token": echoing_api(500),
    "api-403-echoing-the-access-token": echoing_api(403),
}


@pytest.mark.parametrize("inject", TRADEGECKO_FAULTS.values(), ids=TRADEGECKO_FAULTS.keys())
def test_a_failing_tradegecko_cart_leaks_its_tokens_and_our_client_secret_nowhere(
    tradegecko_cart, inject, all_logs, admin_client, settings
):
    settings.HTTP_MAX_RETRIES = 1
    cart, sandbox, tokens = tradegecko_cart
    evidence = Evidence(all_logs)
    inject(sandbox, tokens)

    for _ in range(settings.UNHEALTHY_AFTER_FAILURES + 1):
        run = cart_connection_sync_orders(connection=CartConnection.objects.get(pk=cart.pk))
        assert run.status == "failed", run.error
    evidence.raised(
        "TradeGecko listing",
        lambda: cart_connector_for(connection=CartConnection.objects.get(pk=cart.pk)).iter_order_pages(
            modified_after=ago(days=1), modified_before=ago(seconds=30), open_only=True
        ),
    )
    admin_test_connection(admin_client, evidence, CartConnection.objects.get(pk=cart.pk))
    alerts_send_digests()
    crawl_admin(admin_client, evidence)

    assert_no_secret(evidence, [tokens["access_token"], tokens["refresh_token"], TG_CLIENT_SECRET])
    assert evidence.mentions("[redacted]") or inject is revoked, "the echo never reached a message"


# --- the admin ----------------------------------------------------------------------------------------


def test_a_secret_typed_into_the_admin_shows_only_as_set_in_pages_and_history(leaky, admin_client, all_logs):
    cart, wms, _, _ = leaky
    evidence = Evidence(all_logs)
    for conn, field, value in (
        (cart, "credential__squarespace__api_key", NEW_KEY),
        (wms, "credential__bergen__password", BG_PASS + "-new"),
    ):
        name = conn._meta.model_name
        url = reverse(f"admin:integrations_{name}_change", args=[conn.pk])
        data = form_values(admin_client.get(url).content.decode(), f"{name}_form")
        assert data.get(field) == [""], "a secret input is never filled in"
        data[field] = [value]
        response = admin_client.post(url, data, follow=True)
        assert response.status_code == 200
        evidence.page(f"admin saved {name}", response)

    page = admin_client.get(reverse("admin:integrations_cartconnection_change", args=[cart.pk])).content.decode()
    assert "api_key: set" in page
    page = admin_client.get(reverse("admin:integrations_wmsconnection_change", args=[wms.pk])).content.decode()
    assert "password: set" in page and "username: set" in page
    crawl_admin(admin_client, evidence)

    assert CartConnection.objects.get(pk=cart.pk).get_credentials() == {"api_key": NEW_KEY}
    assert_no_secret(evidence, [NEW_KEY, BG_PASS, SQ_KEY])
