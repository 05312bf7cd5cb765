"""The merchant pages at a phone's width (375 px) and at desktop width, and staff's view as merchant."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from orders.models import SKUAlias
from tests.browser.conftest import TIMEOUT_MS, sign_in
from tests.factories import MerchantFactory, UserFactory, WarehouseSKUListFactory
from tests.portal.conftest import PASSWORD, merchant_user, objects_of

PHONE = {"width": 375, "height": 740}
DESKTOP = {"width": 1366, "height": 800}
MENU = ["Overview", "Orders", "SKU aliases", "Connections", "Send test order"]


@pytest.fixture
def phone(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport=PHONE, is_mobile=True, has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def shop(db):
    objects = objects_of(MerchantFactory(name="Narrow Goods Ltd", slug="narrow-goods"), "NARROW")
    merchant_user(objects.merchant, "phone-user")
    return objects


def page_overflow(page) -> int:
    """How many pixels the page is wider than the screen (0: no sideways scrolling)."""
    return page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")


def main_nav(page):
    return page.get_by_role("navigation", name="Main")


@pytest.mark.browser
def test_at_375_px_the_menu_is_folded_and_opens_to_every_page(phone, shop, screenshots_dir):
    sign_in(phone, "phone-user", PASSWORD)

    assert not main_nav(phone).is_visible()
    menu = phone.get_by_role("button", name="Menu")
    header_height = phone.locator("header.top").bounding_box()["height"]
    assert header_height < 740 / 10  # folded, the header takes a sliver of the screen, not a quarter
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    for name in MENU:
        assert main_nav(phone).get_by_role("link", name=name, exact=True).is_visible()
    brand = phone.get_by_role("link", name="Orderbridge").bounding_box()
    first = main_nav(phone).get_by_role("link", name="Overview", exact=True).bounding_box()
    assert first["y"] >= brand["y"] + brand["height"]  # opened below the bar, full width
    assert first["width"] > 375 / 2
    phone.screenshot(path=str(screenshots_dir / "merchant-375-menu.png"))
    main_nav(phone).get_by_role("link", name="SKU aliases", exact=True).click()
    phone.wait_for_url("**/merchant/aliases/")
    assert not main_nav(phone).is_visible()  # folded again on the next page


@pytest.mark.browser
def test_at_375_px_no_page_scrolls_sideways_and_table_actions_are_reachable(phone, shop, screenshots_dir):
    WarehouseSKUListFactory(warehouse=shop.wms, skus=["NARROW-WMS"])  # the warehouse lists it, as last read
    sign_in(phone, "phone-user", PASSWORD)
    paths = [
        "/merchant/",
        "/merchant/orders/",
        f"/merchant/orders/{shop.order.pk}/",
        "/merchant/aliases/",
        "/merchant/connections/",
        f"/merchant/connections/warehouse/{shop.wms.pk}/",
        "/merchant/orders/test/",
    ]
    for path in paths:
        phone.goto(path)
        assert page_overflow(phone) <= 0, f"{path} scrolls sideways by {page_overflow(phone)} px"

    phone.goto("/merchant/aliases/")
    delete = phone.locator("#aliases").get_by_role("link", name="delete")
    delete.scroll_into_view_if_needed()
    assert delete.is_visible()
    phone.goto("/merchant/orders/")
    add_alias = phone.get_by_role("link", name="add alias for NARROW-LINE-SKU")
    add_alias.scroll_into_view_if_needed()
    phone.screenshot(path=str(screenshots_dir / "merchant-375-orders.png"), full_page=True)
    add_alias.click()
    phone.get_by_label("Warehouse SKU").fill("NARROW-WMS")
    phone.get_by_role("button", name="Save alias").click()
    assert "Alias NARROW-LINE-SKU → NARROW-WMS saved." in phone.locator(".messages").inner_text()


@pytest.mark.browser
def test_at_desktop_width_the_menu_shows_without_a_button(page, shop):
    page.set_viewport_size(DESKTOP)
    sign_in(page, "phone-user", PASSWORD)

    assert not page.get_by_role("button", name="Menu").is_visible()
    for name in MENU:
        assert main_nav(page).get_by_role("link", name=name, exact=True).is_visible()
    page.goto("/merchant/connections/")
    assert page_overflow(page) <= 0
    assert "not connected yet" in page.locator("main").inner_text()
    assert page.evaluate("fetch('/favicon.ico').then(r => r.headers.get('content-type'))") == "image/svg+xml"


@pytest.mark.browser
def test_staff_view_as_merchant_read_only_and_back_to_admin(page, shop, screenshots_dir):
    staff = UserFactory(username="support", is_staff=True)
    staff.set_password(PASSWORD)
    staff.save()
    staff.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_as_merchant", "view_merchant", "change_merchant"])
    )
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("support")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/admin/integrations/merchant/{shop.merchant.pk}/change/")

    page.get_by_role("link", name="View as merchant (read only)").click()
    page.get_by_role("button", name="Start viewing as Narrow Goods Ltd").click()
    page.wait_for_url("**/merchant/")
    banner = page.locator("#view-as-banner")
    assert "Viewing as Narrow Goods Ltd (read only)" in banner.inner_text()
    page.screenshot(path=str(screenshots_dir / "view-as-merchant.png"), full_page=True)

    page.goto(f"/merchant/aliases/{shop.alias.pk}/delete/")
    page.get_by_role("button", name="Delete").click()
    assert "Nothing was changed: you are viewing as Narrow Goods Ltd (read only)" in page.locator("main").inner_text()
    assert SKUAlias.objects.filter(pk=shop.alias.pk).exists()

    page.locator("#view-as-banner").get_by_role("button", name="back to admin").click()
    page.wait_for_url(f"**/admin/integrations/merchant/{shop.merchant.pk}/change/")
    page.goto(f"/admin/integrations/merchant/{shop.merchant.pk}/history/")
    assert "Viewed the merchant pages as this merchant (read only)." in page.locator("#content").inner_text()
