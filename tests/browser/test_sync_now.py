"""Sync now in a real browser with a real django-q2 worker: the page shows the job's progress, then
its summary with reasons; with no worker running, the pages say so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.browser.conftest import sign_in
from tests.portal.conftest import PASSWORD, merchant_user

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
