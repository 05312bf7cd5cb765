"""Headless Chromium (Debian's package) driven by Playwright against pytest-django's live server.

Every test here is marked `browser`; `pytest -m browser` runs them alone and `-m "not browser"`
leaves them out. Without /usr/bin/chromium (or the playwright package) they are skipped with the
reason, so the rest of the suite still passes on a machine without a browser.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TIMEOUT_MS = 15_000


def _missing() -> str:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -r requirements.txt)"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (Debian: apt-get install -y chromium)"
    return ""


def pytest_collection_modifyitems(config, items) -> None:
    reason = _missing()
    here = Path(__file__).parent
    for item in items:
        marked = item.get_closest_marker("browser") is not None
        if not marked and Path(str(item.path)).is_relative_to(here):
            raise pytest.UsageError(f"{item.nodeid}: mark every browser test with @pytest.mark.browser")
        if marked and reason:
            item.add_marker(pytest.mark.skip(reason=f"browser tests skipped: {reason}"))


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread, and Django then refuses ORM calls
    # from it (SynchronousOnlyOperation). The test code is synchronous: allow it, for these tests only.
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                yield launched
            finally:
                launched.close()


@pytest.fixture
def page(browser, live_server) -> Iterator:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()


def sign_in(page, username: str, password: str) -> None:
    page.goto("/merchant/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/merchant/")


@pytest.fixture
def screenshots_dir() -> Path:
    path = Path(os.environ.get("BROWSER_SCREENSHOTS", "/tmp"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture
def qcluster(live_server, shared_database, settings) -> Iterator:
    """A real django-q2 worker (`manage.py qcluster`, the ORM broker) on the test database, with the
    pages queueing to it instead of running tasks inline. On SQLite the test database is moved to a
    file for the test (`shared_database`), which the live server and the worker then share."""
    import subprocess
    import sys
    import time

    from sync.models import WorkerHeartbeat
    from tests.fixtures_processes import database_url

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url(),
        "Q_WORKERS": "1",
    }
    env.pop("REDIS_URL", None)
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    root = Path(__file__).resolve().parents[2]
    worker = subprocess.Popen(
        [sys.executable, "manage.py", "qcluster"],
        cwd=root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not WorkerHeartbeat.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.3)
        yield worker
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
