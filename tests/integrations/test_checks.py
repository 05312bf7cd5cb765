"""The system checks: a setting that would make the product fail silently stops it from starting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from sandbox.chaos.harness import OVERRIDES

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def debug_as_the_settings_module_has_it(settings):
    """pytest-django turns DEBUG off around each test; the test settings module has it on."""
    settings.DEBUG = True


def check_errors() -> str:
    """What `manage.py check` reports as errors ("" when it passes)."""
    try:
        call_command("check", stdout=None, stderr=None)
    except SystemCheckError as exc:
        return str(exc)
    return ""


def test_the_test_settings_pass_every_check():
    assert check_errors() == ""


def test_a_claim_lease_shorter_than_one_send_is_an_error(settings):
    settings.HTTP_TIMEOUT_SECONDS = 10
    settings.HTTP_MAX_RETRIES = 3
    settings.HTTP_MAX_THROTTLE_WAIT_SECONDS = 5
    settings.DELIVERY_CLAIM_LEASE_SECONDS = 84

    errors = check_errors()

    assert "orderbridge.E001" in errors
    assert "one send can take: 85 s" in errors and "at least 85" in errors

    settings.DELIVERY_CLAIM_LEASE_SECONDS = 85
    assert check_errors() == ""


def test_the_chaos_workers_settings_pass_the_lease_check(settings):
    for name, value in OVERRIDES.items():
        setattr(settings, name, value)

    assert check_errors() == ""


def test_a_sync_lock_shorter_than_a_claim_is_a_warning(settings, capsys):
    settings.SYNC_LOCK_SECONDS = 299
    settings.DELIVERY_CLAIM_LEASE_SECONDS = 300

    call_command("check")  # a warning does not stop anything

    assert "orderbridge.W001" in capsys.readouterr().err


@pytest.mark.parametrize("keys", [["a-key", ""], [""]])
def test_an_empty_fernet_key_is_an_error(settings, keys):
    settings.FERNET_KEYS = keys

    errors = check_errors()

    assert f"FERNET_KEYS entry {len(keys)} of {len(keys)} is empty" in errors


def test_with_hkdf_any_non_empty_key_is_usable(settings):
    settings.FERNET_KEYS = ["short", "a much longer key with spaces"]

    assert check_errors() == ""


def test_without_hkdf_a_key_must_be_a_fernet_key(settings):
    settings.FERNET_USE_HKDF = False
    good = Fernet.generate_key().decode()
    settings.FERNET_KEYS = [good, "not-a-fernet-key"]

    errors = check_errors()

    assert "FERNET_KEYS entry 2 of 2 is not 32 url-safe base64-encoded bytes" in errors
    assert "entry 1" not in errors
    assert "not-a-fernet-key" not in errors  # a key is named by position, never by value

    settings.FERNET_KEYS = [good]
    assert check_errors() == ""


def test_a_single_string_for_fernet_keys_is_an_error(settings):
    settings.FERNET_KEYS = "one-key-as-a-string"

    assert "FERNET_KEYS is a single string" in check_errors()


def test_no_fernet_keys_is_an_error(settings):
    settings.FERNET_KEYS = []

    assert "FERNET_KEYS is empty" in check_errors()


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("SESSION_COOKIE_SECURE", False, "SESSION_COOKIE_SECURE"),
        ("CSRF_COOKIE_SECURE", False, "CSRF_COOKIE_SECURE"),
        ("SECURE_HSTS_SECONDS", 0, "SECURE_HSTS_SECONDS > 0"),
    ],
)
def test_production_without_secure_cookies_or_hsts_is_an_error(settings, name, value, named):
    settings.DEBUG = False
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True
    settings.SECURE_HSTS_SECONDS = 31536000
    assert "orderbridge.E003" not in check_errors()

    setattr(settings, name, value)

    errors = check_errors()
    assert "orderbridge.E003" in errors and f"but {named} is not set" in errors


def test_debug_does_not_ask_for_https_settings(settings):
    settings.DEBUG = True
    settings.SESSION_COOKIE_SECURE = False
    settings.SECURE_HSTS_SECONDS = 0

    assert check_errors() == ""


@pytest.mark.parametrize("entry", ["config.wsgi", "config.asgi"])
def test_a_server_refuses_to_start_with_a_claim_lease_shorter_than_one_send(entry):
    """gunicorn or uvicorn run no system checks of their own: the entry point does."""

    def start(**env: str) -> subprocess.CompletedProcess:
        environment = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"} | env
        return subprocess.run(
            [sys.executable, "-c", f"import {entry}"],
            cwd=ROOT,
            env={**environment, "DJANGO_SETTINGS_MODULE": "config.settings"},
            capture_output=True,
            timeout=60,
        )

    refused = start(DELIVERY_CLAIM_LEASE_SECONDS="84")
    assert refused.returncode != 0
    assert b"orderbridge.E001" in refused.stderr and b"will not start" in refused.stderr
    assert start().returncode == 0, start().stderr.decode()
