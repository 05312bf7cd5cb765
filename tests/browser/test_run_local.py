"""`make run`'s setup in headless Chromium: the sandboxes up on their ports, the demo merchants wired to
them as `serve_sandboxes` wires them, and the logins `run_local` prints; staff and the merchant press
Test connection and the running sandboxes answer.

The sandboxes run in the test process here (the live server's database is this process's); the
commands themselves, as processes, are tested in tests/sandbox/test_run_local.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from integrations.models import CartConnection, WMSConnection
from sandbox.demo import demo_admin_login
from sandbox.local import SIDES, local_merchant_login, local_merchants_wire, local_sides
from tests.browser.conftest import TIMEOUT_MS, sign_in
from tests.sandbox.test_run_local import free_ports


@pytest.fixture
def local_setup(transactional_db) -> Iterator[dict]:
    sides = local_sides(dict(zip(SIDES, free_ports(len(SIDES)), strict=True)))
    for side in sides.values():
        side.seed()
        side.sandbox.start()
    try:
        connections, created = local_merchants_wire(sides)
        assert created and len(connections) == 3
        yield {"admin": demo_admin_login(), "merchant": local_merchant_login(), "sides": sides}
    finally:
        for side in sides.values():
            side.sandbox.stop()


def admin_sign_in(page, login: tuple[str, str]) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", login[0])
    page.fill("#id_password", login[1])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def press_test_connection(page) -> str:
    page.get_by_role("button", name="Test connection").first.click()
    message = page.locator(".messagelist li, .messages li, [role=status], .message").first
    message.wait_for(timeout=TIMEOUT_MS)
    return message.inner_text()


@pytest.mark.browser
@pytest.mark.parametrize("model", [CartConnection, WMSConnection], ids=["cart", "warehouse"])
def test_staff_with_the_printed_login_test_the_demo_connections(page, local_setup, model, screenshots_dir):
    connection = model.objects.get(merchant__slug="demo")
    admin_sign_in(page, local_setup["admin"])
    page.goto(f"/admin/integrations/{model._meta.model_name}/{connection.pk}/change/")

    text = press_test_connection(page)

    assert "credentials accepted" in text.lower(), text
    connection.refresh_from_db()
    assert connection.last_test_ok is True
    assert local_setup["sides"]["squarespace" if model is CartConnection else "bergen"].sandbox.requests
    page.screenshot(path=str(screenshots_dir / f"run-local-admin-test-{model._meta.model_name}.png"), full_page=True)


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 375])
def test_the_demo_merchant_tests_its_warehouse_connection(browser, live_server, local_setup, width, screenshots_dir):
    context = browser.new_context(base_url=live_server.url, viewport={"width": width, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        sign_in(page, *local_setup["merchant"])
        warehouse = WMSConnection.objects.get(merchant__slug="demo")
        page.goto(f"/merchant/connections/warehouse/{warehouse.pk}/")
        button = page.get_by_role("button", name="Test connection").first
        button.scroll_into_view_if_needed()
        button.click()
        message = page.get_by_text(re.compile("credentials accepted", re.IGNORECASE)).first
        message.wait_for()
        assert "customer DEMO" in message.inner_text()
        page.screenshot(path=str(screenshots_dir / f"run-local-merchant-test-{width}.png"), full_page=True)
    finally:
        context.close()
