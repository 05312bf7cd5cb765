"""Sync now and an order's Send now in a real browser with a real django-q2 worker: the page shows the
job's progress, then its summary with reasons; with no worker running, the pages say so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import OrderStatus, SKUAlias
from tests.admin_helpers import import_order
from tests.browser.conftest import sign_in
from tests.browser.test_admin_tenancy import sign_in_to_admin
from tests.portal.conftest import PASSWORD, merchant_user

# Every text the job panel shows, from the page's first paint on (a new page each navigation).
RECORD_PANEL = """
window.__panel = [];
document.addEventListener("DOMContentLoaded", () => {
  const panel = document.querySelector("#job");
  if (!panel) { return; }
  const note = () => window.__panel.push(panel.dataset.jobState + ": " + panel.innerText);
  note();
  new MutationObserver(note).observe(panel, { subtree: true, childList: true, characterData: true, attributes: true });
});
"""

SUMMARY = "imported 3, held 1: 1 unknown SKU; delivered 2"


def seed(wired) -> None:
    placed = timezone.now() - timedelta(hours=2)
    for number, sku in (("6001", "SKU-1"), ("6002", "SKU-2"), ("6003", "NOT-AT-WAREHOUSE")):
        wired.squarespace.add_order(
            order_number=number, created_on=placed, lines=[{"sku": sku, "quantity": 1, "price": "5.00", "name": "W"}]
        )


def sync_and_wait(page) -> str:
    page.get_by_role("button", name="Sync now", exact=True).click()
    panel = page.locator("#job")
    panel.wait_for()
    page.wait_for_function("document.querySelector('#job').dataset.jobState === 'finished'", timeout=60_000)
    assert page.get_by_role("button", name="Sync now", exact=True).is_enabled()
    return panel.inner_text()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 375])
def test_merchant_sync_now_runs_in_the_worker_and_ends_with_its_summary(page, wired, qcluster, width):
    seed(wired)
    page.set_viewport_size({"width": width, "height": 900})
    user = merchant_user(wired.merchant)
    sign_in(page, user.username, PASSWORD)
    page.goto(f"/merchant/connections/cart/{wired.cart.pk}/")
    assert page.locator("#worker-banner").count() == 0

    text = sync_and_wait(page)

    assert SUMMARY in text
    assert "nothing" not in text.lower()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_staff_sync_now_from_the_connection_page(page, wired, qcluster, admin_user):
    seed(wired)
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/admin/integrations/cartconnection/{wired.cart.pk}/change/")

    text = sync_and_wait(page)

    assert SUMMARY in text
    page.goto("/admin/")
    assert "pid" in page.locator("#worker-heartbeat").inner_text()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("width", [1280, 375])
def test_with_no_worker_the_page_says_queued_work_waits(page, wired, settings, width):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    page.set_viewport_size({"width": width, "height": 900})
    user = merchant_user(wired.merchant)
    sign_in(page, user.username, PASSWORD)
    page.goto(f"/merchant/connections/cart/{wired.cart.pk}/")
    assert "No worker is running: queued work waits" in page.locator("#worker-banner").inner_text()

    page.get_by_role("button", name="Sync now", exact=True).click()

    panel = page.locator("#job")
    assert "waiting for a worker" in panel.inner_text()
    assert page.get_by_role("button", name="Sync now", exact=True).is_disabled()
    assert page.locator("#worker-banner").is_visible()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("where", ["admin", "merchant"])
def test_send_now_from_an_order_page_shows_the_workers_progress_then_its_summary(
    page, wired, qcluster, admin_user, where
):
    held = import_order(wired, "6101", sku="TEE-BLK")
    SKUAlias.objects.create(merchant=wired.merchant, cart_sku="TEE-BLK", warehouse_sku="SKU-2")
    if where == "admin":
        sign_in_to_admin(page, admin_user)
        url = f"/admin/orders/order/{held.pk}/change/"
    else:
        sign_in(page, merchant_user(wired.merchant).username, PASSWORD)
        url = f"/merchant/orders/{held.pk}/"
    page.add_init_script(RECORD_PANEL)
    page.goto(url)

    page.get_by_role("button", name="Send now").click()  # re-checked here (released), then queued
    page.locator("#job").wait_for()
    page.wait_for_function("document.querySelector('#job').dataset.jobState === 'finished'", timeout=60_000)

    seen = page.evaluate("window.__panel")
    assert any(text.startswith(("queued: Send now Queued", "running: Send now Running")) for text in seen), seen
    assert "Send now: delivered 1 of 1." in page.locator("#job").inner_text()
    assert page.get_by_role("button", name="Send now").is_enabled()
    page.get_by_role("link", name="Show the order as it is now").click()
    page.wait_for_load_state()
    held.refresh_from_db()
    assert held.status == OrderStatus.AT_WMS and wired.bergen.order(held.cust_ref)["poNum"] == "6101"
    assert page.get_by_role("button", name="Send now").count() == 0  # at the warehouse: nothing left to send
