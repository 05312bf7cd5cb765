"""Access: every admin URL (the Test connection and OAuth ones included) is for staff only, a staff
member without the permission cannot act on a connection, and `check --deploy` is clean with
production settings. (Merchants seeing only their own data is covered in tests/portal.)
"""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib import admin
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse

from integrations.models import CartConnection
from tests.factories import CartConnectionFactory

BASE_DIR = Path(django_settings.BASE_DIR)
PUBLIC = {"login", "logout"}
SAMPLE_KWARGS = {
    "object_id": "1",
    "id": "1",
    "app_label": "integrations",
    "content_type_id": 1,
    "pk": 1,
    "action": "retry",
}


def admin_patterns() -> list[URLPattern]:
    found: list[URLPattern] = []

    def walk(patterns) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif pattern.name and pattern.name not in PUBLIC:
                found.append(pattern)

    walk(admin.site.get_urls())
    return found


def sample_url(pattern: URLPattern) -> str:
    names = pattern.pattern.regex.groupindex
    return reverse(f"admin:{pattern.name}", kwargs={name: SAMPLE_KWARGS[name] for name in names})


ADMIN_PATTERNS = admin_patterns()


def login_redirect(response, url: str) -> bool:
    return response.status_code == 302 and response["Location"].startswith(f"{reverse('admin:login')}?next=")


@pytest.fixture
def not_staff(db) -> Client:
    client = Client()
    client.force_login(User.objects.create_user("shopper", password="not-staff-pass-1"))
    return client


def test_the_admin_has_the_urls_this_checks():
    names = {p.name for p in ADMIN_PATTERNS}

    assert {"index", "integrations_cartconnection_test", "integrations_wmsconnection_test"} <= names
    assert {"integrations_cartconnection_change", "integrations_cartconnection_history", "orders_order_changelist"} <= (
        names
    )


@pytest.mark.parametrize("pattern", ADMIN_PATTERNS, ids=lambda p: p.name)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_logged_in_user_who_is_not_staff_is_sent_to_the_login_page_on_every_admin_url(not_staff, pattern, method):
    url = sample_url(pattern)

    response = getattr(not_staff, method)(url)

    assert login_redirect(response, url), (url, response.status_code, response.get("Location"))


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_visitors_are_sent_to_the_login_page_on_admin_urls_and_unknown_ones(db, method):
    for url in [*(sample_url(p) for p in ADMIN_PATTERNS), "/admin/no/such/page/"]:
        response = getattr(Client(), method)(url)

        assert login_redirect(response, url), (url, response.status_code)


@pytest.fixture
def oauth_cart(db, settings):
    settings.OAUTH_CLIENTS = {
        **settings.OAUTH_CLIENTS,
        "tradegecko": {"client_id": "our-app", "client_secret": "our-app-secret"},
    }
    return CartConnectionFactory(
        platform="tradegecko", api_base_url="http://127.0.0.1:9", credentials_values={"access_token": "held-token"}
    )


@pytest.mark.parametrize("method", ["get", "post"])
def test_the_oauth_grant_url_sends_a_user_who_is_not_staff_to_the_login_page(not_staff, oauth_cart, method):
    url = reverse("oauth_start", args=["cart", oauth_cart.pk])

    response = getattr(not_staff, method)(url)

    assert login_redirect(response, url), (response.status_code, response.get("Location"))


def test_test_connection_by_a_user_who_is_not_staff_calls_nobody(not_staff, wired):
    url = reverse("admin:integrations_cartconnection_test", args=[wired.cart.pk])

    response = not_staff.post(url)

    assert login_redirect(response, url)
    assert wired.squarespace.requests == []
    wired.cart.refresh_from_db()
    assert wired.cart.last_test_at is None


@pytest.fixture
def staff_without_permissions(db) -> Client:
    """A staff member who may only view cart connections (the admin lets them in, changes refused)."""
    user = User.objects.create_user("viewer", password="viewer-pass-1", is_staff=True)
    user.user_permissions.add(Permission.objects.get(codename="view_cartconnection"))
    client = Client()
    client.force_login(user)
    return client


def test_a_staff_member_without_change_permission_cannot_run_test_connection(staff_without_permissions, wired):
    response = staff_without_permissions.post(reverse("admin:integrations_cartconnection_test", args=[wired.cart.pk]))

    assert response.status_code in (302, 403)
    assert wired.squarespace.requests == []


def test_a_staff_member_without_change_permission_cannot_start_an_oauth_grant(staff_without_permissions, oauth_cart):
    """The grant replaces the connection's credentials at the callback: it is a change of the connection."""
    response = staff_without_permissions.post(reverse("oauth_start", args=["cart", oauth_cart.pk]))

    assert response.status_code in (302, 403, 404)
    assert not (response.status_code == 302 and response["Location"].startswith(oauth_cart.api_base_url)), (
        "sent to the platform to grant access to a connection this user may not change"
    )
    assert CartConnection.objects.get(pk=oauth_cart.pk).get_credentials() == {"access_token": "held-token"}


# --- check --deploy -------------------------------------------------------------------------------


def random_secret(length: int = 50) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits + "!@#%^&*(-_=+)") for _ in range(length))


def production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_URL", "SANDBOX"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DEBUG="false",
        SECRET_KEY=random_secret(),
        FERNET_KEYS=f"{random_secret(44)},{random_secret(44)}",
        ALLOWED_HOSTS="orderbridge.example.com",
        CSRF_TRUSTED_ORIGINS="https://orderbridge.example.com",
        DATABASE_URL="sqlite:////tmp/orderbridge-check-deploy.sqlite3",
        **extra,
    )
    return env


def manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, str(BASE_DIR / "manage.py"), *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout, result.stdout + result.stderr


def test_production_settings_turn_on_https_hsts_secure_cookies_and_leave_the_sandbox_out():
    code = (
        "from django.conf import settings as s; "
        "print(s.DEBUG, s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS >= 31536000, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.ALLOWED_HOSTS, 'sandbox' in s.INSTALLED_APPS)"
    )

    result = manage("shell", "-c", code, env=production_env())

    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == "False True True True True ['orderbridge.example.com'] False"


@pytest.mark.parametrize("missing", ["SECRET_KEY", "FERNET_KEYS"])
def test_production_refuses_to_start_without_its_secrets(missing):
    env = production_env()
    env.pop(missing)

    result = manage("check", env=env)

    assert result.returncode != 0
    assert f"{missing} must be set when DEBUG is off" in result.stderr
