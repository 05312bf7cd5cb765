"""The admin's cart connection page in headless Chromium: the warehouse autocomplete offers only the
warehouses of the merchant chosen on the page, and follows when the merchant changes."""

from __future__ import annotations

import pytest

from tests.factories import MerchantFactory, WMSConnectionFactory


def sign_in_to_admin(page, user) -> None:
    page.goto("/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", "password")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/")


def choose(page, field: str, text: str) -> None:
    page.locator(f"#id_{field} + .select2 .select2-selection").click()
    page.locator(".select2-search__field").fill(text)
    page.locator(".select2-results__option", has_text=text).first.click()


def warehouse_offers(page) -> list[str]:
    page.locator("#id_warehouse + .select2 .select2-selection").click()
    options = page.locator(".select2-results__option")
    options.first.wait_for()
    page.wait_for_function("!document.querySelector('.select2-results__option.loading-results')")
    texts = [text.strip() for text in options.all_inner_texts()]
    page.keyboard.press("Escape")
    return texts


@pytest.mark.browser
def test_the_warehouse_autocomplete_offers_the_chosen_merchants_warehouses(page, admin_user, screenshots_dir):
    mine = MerchantFactory(name="Mine Goods", slug="mine-goods")
    theirs = MerchantFactory(name="Their Goods", slug="their-goods")
    for name in ("North depot", "South depot"):
        WMSConnectionFactory(merchant=mine, name=name)
    WMSConnectionFactory(merchant=theirs, name="Their depot")
    sign_in_to_admin(page, admin_user)
    page.goto("/admin/integrations/cartconnection/add/")

    assert warehouse_offers(page) == ["No results found"]  # no merchant chosen yet

    choose(page, "merchant", "Mine Goods")
    offered = warehouse_offers(page)
    assert sorted(offered) == [
        "Mine Goods · Bergen Logistics (North depot)",
        "Mine Goods · Bergen Logistics (South depot)",
    ]

    choose(page, "warehouse", "North depot")
    assert page.locator("#id_warehouse").input_value() != ""
    choose(page, "merchant", "Their Goods")
    assert page.locator("#id_warehouse").input_value() == ""  # what was chosen for the other merchant is gone
    assert warehouse_offers(page) == ["Their Goods · Bergen Logistics (Their depot)"]
    page.screenshot(path=str(screenshots_dir / "admin-cart-warehouse.png"), full_page=True)
