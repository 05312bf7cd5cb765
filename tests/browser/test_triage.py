"""Support staff's triage in headless Chromium at 1366 px: the dashboard puts the failing merchant on
the first screen, the held-orders and problems lists fit without scrolling sideways, and the
autocomplete filters (and the dashboard's counts) lead to the filtered lists."""

from __future__ import annotations

import pytest

from orders.models import HoldCode, OrderStatus
from tests.factories import OrderFactory, ProblemFactory
from tests.orders.triage_helpers import FAILING, HEALTHY, merchants_of_every_severity

LAPTOP = {"width": 1366, "height": 768}


@pytest.fixture
def laptop(browser, live_server, admin_user):
    """A page 1366 × 768, signed in to the admin."""
    context = browser.new_context(base_url=live_server.url, viewport=LAPTOP)
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto("/admin/login/")
    page.fill("#id_username", admin_user.username)
    page.fill("#id_password", "password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")
    try:
        yield page
    finally:
        context.close()


def no_sideways_scroll(page) -> bool:
    """Neither the page nor the list's own box (Django's `.results` scrolls by itself) scrolls sideways."""
    return page.evaluate(
        """document.documentElement.scrollWidth <= window.innerWidth
        && [...document.querySelectorAll('#changelist .results')].every(r => r.scrollWidth <= r.clientWidth)"""
    )


@pytest.mark.browser
def test_the_failing_merchant_is_on_the_dashboards_first_screen(laptop, db, screenshots_dir):
    carts = merchants_of_every_severity()

    laptop.goto("/admin/")

    first = laptop.locator("details.ob-merchant").first
    assert first.get_attribute("data-severity") == "failing"
    assert carts[FAILING[0]].merchant.name in first.locator("summary").inner_text()
    box = first.bounding_box()
    assert box["y"] < LAPTOP["height"], f"the failing merchant starts at {box['y']} px"
    healthy = laptop.locator(f"#merchant-{carts[HEALTHY[0]].merchant_id}")
    assert healthy.get_attribute("open") is None, "a healthy merchant is folded"
    healthy.locator("summary").click()
    assert healthy.get_attribute("open") is not None, "and opens on a click"
    laptop.screenshot(path=str(screenshots_dir / "admin-dashboard-1366.png"))


@pytest.mark.browser
def test_a_dashboard_count_opens_the_list_it_counts(laptop, db):
    merchants_of_every_severity()

    laptop.goto("/admin/")
    laptop.locator("#ops-summary a", has_text="held").click()

    laptop.wait_for_url("**/admin/orders/order/?status__exact=error")
    rows = laptop.locator("#result_list tbody tr")
    assert rows.count() == 1
    assert "held: Shipping method not mapped" in rows.first.inner_text()


@pytest.mark.browser
def test_the_held_orders_list_shows_status_without_scrolling_sideways(laptop, db, screenshots_dir):
    for n in range(8):
        OrderFactory(
            status=OrderStatus.ERROR,
            hold_code=HoldCode.REFERENCE_TAKEN,
            hold_reason="The reference is already used at the warehouse by another order: " + "details " * 30,
            cust_ref=f"REF-LONG-REFERENCE-{n:04}",
            cart_connection__merchant__name=f"A merchant with a rather long trading name number {n}",
            cart_connection__name="Main store with a long label",
        )

    laptop.goto("/admin/orders/order/?status__exact=error")

    assert no_sideways_scroll(laptop)
    status = laptop.locator("#result_list td.field-status_display").first
    box = status.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= LAPTOP["width"]
    assert status.inner_text().startswith("held: Reference taken at the warehouse")
    assert "details details" in status.locator("span").get_attribute("title"), "the whole reason on hover"
    laptop.screenshot(path=str(screenshots_dir / "admin-held-orders-1366.png"))


@pytest.mark.browser
def test_problems_are_one_line_each_with_the_whole_message_on_hover(laptop, db):
    long_message = "The warehouse refused the order: " + "the ship-to line is too long for its form. " * 12
    for _ in range(5):
        ProblemFactory(message=long_message)

    laptop.goto("/admin/orders/problem/")

    assert no_sideways_scroll(laptop)
    rows = laptop.locator("#result_list tbody tr")
    heights = [rows.nth(i).bounding_box()["height"] for i in range(rows.count())]
    assert max(heights) < 50, f"rows {heights} px tall"
    message = rows.first.locator("td.field-message_short span")
    assert message.get_attribute("title") == long_message


@pytest.mark.browser
def test_the_merchant_filter_is_an_autocomplete_that_filters(laptop, db):
    mine = OrderFactory(merchant__name="Harbor Goods", cart_connection__merchant__name="Harbor Goods")
    for n in range(5):
        OrderFactory(cart_connection__merchant__name=f"Other shop {n}")

    laptop.goto("/admin/orders/order/")
    laptop.locator("#filter-merchant__id__exact + .select2 .select2-selection").click()
    laptop.locator(".select2-search__field").fill("Harbor")
    laptop.locator(".select2-results__option", has_text="Harbor Goods").click()

    laptop.wait_for_url(f"**merchant__id__exact={mine.merchant_id}")
    rows = laptop.locator("#result_list tbody tr")
    assert rows.count() == 1 and mine.order_number in rows.first.inner_text()
    assert "Harbor Goods" in laptop.locator("#filter-merchant__id__exact + .select2").inner_text()
    assert laptop.locator("#changelist-filter a", has_text="Other shop").count() == 0
