"""The dashboard as a triage list: merchants in order of severity (failing, then held, waiting or stuck,
then healthy), only those needing a look open, every count a link to the list it counts, orders waiting
to be sent shown, and a failed run read as failed with its reason."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlparse

import pytest
from django.utils import timezone

from orders.dashboard import FAILING as SEVERE
from orders.dashboard import HEALTHY as FINE
from orders.dashboard import NEEDS_A_LOOK as LOOK
from orders.dashboard import dashboard_get
from orders.models import SyncRun
from tests.factories import SyncRunFactory
from tests.orders.triage_helpers import FAILED_RUN_ERROR, FAILING, HEALTHY, NEEDS_A_LOOK, merchants_of_every_severity

FOLD = r'<details class="module ob-merchant[^"]*" id="merchant-(\d+)" data-severity="([^"]+)"( open)?>'


@pytest.fixture
def carts(db):
    return merchants_of_every_severity()


def page_of(admin_client) -> str:
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    return response.content.decode()


def test_merchants_come_failing_first_then_those_to_look_at_then_healthy(carts):
    dashboard = dashboard_get()

    assert [m.merchant.name for m in dashboard.merchants] == FAILING + NEEDS_A_LOOK + HEALTHY
    assert [m.severity for m in dashboard.merchants] == [SEVERE] * 3 + [LOOK] * 3 + [FINE] * 2


def test_the_page_shows_them_in_that_order_with_only_those_needing_a_look_open(admin_client, carts):
    page = page_of(admin_client)

    folds = re.findall(FOLD, page)
    names = {str(cart.merchant_id): name for name, cart in carts.items()}
    assert [names[pk] for pk, _, _ in folds] == FAILING + NEEDS_A_LOOK + HEALTHY
    assert [severity for _, severity, _ in folds] == ["failing"] * 3 + ["needs a look"] * 3 + ["healthy"] * 2
    assert [bool(is_open) for _, _, is_open in folds] == [True] * 6 + [False] * 2
    assert "2 healthy merchants folded at the end" in page


def test_a_failed_run_reads_as_failed_with_its_reason_never_nothing_to_do(admin_client, carts):
    SyncRunFactory(cart_connection=carts["Alpha Quiet"], status="failed", counts={}, error="")

    page = page_of(admin_client)

    assert "nothing to do" not in page
    xray = page[page.index(f'id="merchant-{carts["Xray Failed Run"].merchant_id}"') :]
    xray = xray[: xray.index("</details>")]
    assert ">failed</a>" in xray and FAILED_RUN_ERROR in xray
    assert "failed: no reason recorded" in page, "a failure without an error still says it failed"
    assert "nothing new" not in xray


def test_orders_waiting_to_be_sent_are_shown_and_linked(admin_client, carts):
    dashboard = dashboard_get()
    mike = next(m for m in dashboard.merchants if m.merchant.name == "Mike Waiting")
    [cart_view] = [c for c in mike.connections if c.side == "cart"]

    assert mike.waiting_count == cart_view.waiting_count == dashboard.waiting_count == 1
    listed = admin_client.get(cart_view.waiting_url).context["cl"].result_list
    assert [o.status for o in listed] == ["new"]
    assert "1</strong> waiting" in page_of(admin_client)


def listed_count(admin_client, url: str) -> int:
    response = admin_client.get(url)
    assert response.status_code == 200, url
    return response.context["cl"].result_count


def test_every_summary_count_links_to_a_list_of_as_many(admin_client, carts):
    dashboard = dashboard_get()
    links = dashboard.links
    page = page_of(admin_client)

    expected = {
        "held": dashboard.held_count,
        "waiting": dashboard.waiting_count,
        "stuck": dashboard.stuck_count,
        "failing_carts": dashboard.failing_carts,
        "failing_warehouses": dashboard.failing_warehouses,
    }
    assert expected == {"held": 1, "waiting": 1, "stuck": 1, "failing_carts": 1, "failing_warehouses": 1}
    for name, count in expected.items():
        assert listed_count(admin_client, links[name]) == count, name
        assert f'href="{links[name].replace("&", "&amp;")}"><strong>{count}</strong>' in page, name


def test_each_merchants_counts_link_to_its_own_filtered_lists(admin_client, carts):
    dashboard = dashboard_get()
    for m in dashboard.merchants:
        for url, count in ((m.held_url, m.held_count), (m.stuck_url, m.stuck_count), (m.waiting_url, m.waiting_count)):
            assert parse_qs(urlparse(url).query)["merchant__id__exact"] == [str(m.merchant.pk)]
            assert listed_count(admin_client, url) == count, (m.merchant.name, url)
        for c in m.connections:
            if c.side == "cart":
                assert f"cart_connection__id__exact={c.connection.pk}" in c.stuck_url
                assert listed_count(admin_client, c.stuck_url) == c.stuck_count


def test_a_run_with_nothing_new_says_so(admin_client, carts):
    SyncRun.objects.filter(cart_connection=carts["Zulu Quiet"]).update(counts={}, finished_at=timezone.now())

    page = page_of(admin_client)

    zulu = page[page.index(f'id="merchant-{carts["Zulu Quiet"].merchant_id}"') :]
    assert "nothing new" in zulu[: zulu.index("</details>")]
