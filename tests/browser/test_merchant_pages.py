"""The merchant pages in headless Chromium: connect, test, fix a held order with an alias, import a CSV."""

from __future__ import annotations

import re

import pytest

from integrations.models import CartConnection, WMSConnection
from orders.models import OrderStatus, SKUAlias
from tests.admin_helpers import import_order
from tests.browser.conftest import sign_in
from tests.factories import MerchantFactory, WarehouseSKUListFactory, WMSConnectionFactory
from tests.portal.conftest import PASSWORD, merchant_user


def nav(page, name: str) -> None:
    page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True).click()


def point_at_sandbox(connection, base_url: str) -> None:
    """What support (or the sandbox tooling) does: the merchant pages cannot point a connection elsewhere."""
    type(connection).objects.filter(pk=connection.pk).update(api_base_url=base_url, sandbox_tooling=True)


@pytest.mark.browser
def test_connect_a_sandbox_warehouse_and_cart_and_test_them(page, squarespace_sandbox, bergen_sandbox, screenshots_dir):
    merchant = MerchantFactory(name="Browser Goods", slug="browser-goods")
    user = merchant_user(merchant, "browser-user")
    sign_in(page, user.username, PASSWORD)

    nav(page, "Connections")
    page.get_by_role("link", name="Connect a warehouse").click()
    page.get_by_role("link", name=re.compile("^Bergen Logistics")).click()
    page.get_by_label("API Username").fill(bergen_sandbox.username)
    page.get_by_label("API Password").fill(bergen_sandbox.password)
    page.get_by_label("Account Web Address").fill(bergen_sandbox.base_url)
    page.get_by_label("Bergen customer name").fill(bergen_sandbox.customer)
    page.get_by_role("button", name="Save", exact=True).click()
    assert "Use an https:// address" in page.locator(".errorlist").first.inner_text()
    page.get_by_label("API Password").fill(bergen_sandbox.password)  # a secret is never shown back
    page.get_by_label("Account Web Address").fill("https://www.browser-goods.atworkweb.invalid")
    page.get_by_role("button", name="Save", exact=True).click()
    assert page.locator(".messages .success").filter(has_text="Bergen Logistics saved.").count() == 1
    assert page.locator(".messages").filter(has_text="connected.").count() == 0  # not before a passing test

    point_at_sandbox(WMSConnection.objects.get(merchant=merchant), bergen_sandbox.base_url)
    page.get_by_role("button", name="Save and test connection").click()

    assert "Test connection: OK" in page.locator(".messages .success").last.inner_text()
    assert bergen_sandbox.password not in page.content()
    assert "password: set" in page.locator("#status").inner_text()

    nav(page, "Connections")
    page.get_by_role("link", name="Connect a cart").click()
    page.get_by_role("link", name=re.compile("^Squarespace Commerce")).click()
    assert page.get_by_label("API base URL").count() == 0
    page.get_by_label("API key").fill(squarespace_sandbox.api_key)
    page.get_by_label("Earliest order date").fill("2024-01-15")
    page.get_by_role("button", name="Save", exact=True).click()
    point_at_sandbox(CartConnection.objects.get(merchant=merchant), squarespace_sandbox.base_url)
    page.get_by_role("button", name="Save and test connection").click()

    assert "Test connection: OK" in page.locator(".messages .success").last.inner_text()
    page.screenshot(path=str(screenshots_dir / "merchant-connection.png"), full_page=True)
    cart = CartConnection.objects.get(merchant=merchant)
    assert cart.last_test_ok is True
    assert str(cart.earliest_order_date) == "2024-01-15"
    assert cart.resolved_warehouse() == WMSConnection.objects.get(merchant=merchant)


@pytest.mark.browser
def test_a_wrong_api_key_shows_the_readable_answer(page, squarespace_sandbox):
    merchant = MerchantFactory()
    user = merchant_user(merchant, "browser-user")
    sign_in(page, user.username, PASSWORD)

    page.goto("/merchant/connections/cart/new/squarespace/")
    page.get_by_label("API key").fill("wrong-key-0042")
    page.get_by_role("button", name="Save", exact=True).click()
    point_at_sandbox(CartConnection.objects.get(merchant=merchant), squarespace_sandbox.base_url)
    page.get_by_role("button", name="Save and test connection").click()

    error = page.locator(".messages .error").inner_text()
    assert "Test connection failed" in error
    assert "401" in error
    assert "wrong-key-0042" not in page.content()


@pytest.mark.browser
def test_adding_an_alias_from_a_held_order_releases_it(page, wired, screenshots_dir):
    held = import_order(wired, "6001", sku="TEE-BLK")
    assert held.status == OrderStatus.ERROR
    user = merchant_user(wired.merchant, "browser-user")
    sign_in(page, user.username, PASSWORD)

    nav(page, "Orders")
    page.get_by_role("link", name="#6001").click()
    assert "The warehouse does not know SKU 'TEE-BLK'" in page.locator("#hold").inner_text()
    page.screenshot(path=str(screenshots_dir / "merchant-held-order.png"), full_page=True)
    page.locator("#alias-sku-1").fill("SKU-2")  # the order page's own alias form
    page.get_by_role("button", name="Save alias").click()

    page.wait_for_url(f"**/merchant/orders/{held.pk}/#hold")
    assert "Order #6001 released" in page.locator(".messages .success").inner_text()
    assert page.locator("#hold").count() == 0
    assert "SKU-2" in page.locator("#lines").inner_text()
    held.refresh_from_db()
    assert held.status == OrderStatus.NEW


@pytest.mark.browser
def test_a_csv_with_one_bad_row_is_refused_by_line_and_applies_nothing(page, db, tmp_path):
    merchant = MerchantFactory()
    # A warehouse that lists the SKUs (as last read), so that the aliases are checked and go through.
    WarehouseSKUListFactory(warehouse=WMSConnectionFactory(merchant=merchant), skus=["OLD", "NEW", "W-3"])
    SKUAlias.objects.create(merchant=merchant, cart_sku="KEEP-1", warehouse_sku="OLD")
    user = merchant_user(merchant, "browser-user")
    sign_in(page, user.username, PASSWORD)
    csv_file = tmp_path / "aliases.csv"
    csv_file.write_text(
        "cart_sku,warehouse_sku,note\n"  # line 1
        "KEEP-1,NEW,changed\n"  # line 2: good, but the file is bad as a whole
        "NEW-2,,missing its warehouse SKU\n"  # line 3: the bad row
        "NEW-3,W-3,\n"
    )

    nav(page, "SKU aliases")
    page.get_by_role("link", name="Import CSV").click()
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Import").click()

    errors = page.locator("#import-errors")
    assert "Nothing was imported" in errors.inner_text()
    assert "Line 3: warehouse_sku is empty." in errors.inner_text()
    assert {(a.cart_sku, a.warehouse_sku) for a in SKUAlias.objects.filter(merchant=merchant)} == {("KEEP-1", "OLD")}

    csv_file.write_text("cart_sku,warehouse_sku,note\nKEEP-1,NEW,changed\nNEW-3,W-3,\n")
    page.get_by_label("CSV file").set_input_files(str(csv_file))
    page.get_by_role("button", name="Import").click()

    assert "Imported: 1 added, 1 updated, 0 unchanged." in page.locator(".messages .success").inner_text()
    assert "NEW-3" in page.locator("#aliases").inner_text()
