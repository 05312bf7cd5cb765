"""The dashboard at fleet size: every merchant's severity and the fleet's counts whatever the number of
merchants, the cards only for the merchants shown (those needing a look, at most a page of them, then the
healthy ones while they are few), and the rest named with links to the lists that hold them."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders import dashboard
from orders.dashboard import dashboard_get
from tests.factories import CartConnectionFactory, MerchantFactory
from tests.orders.test_dashboard_triage import FOLD, page_of
from tests.orders.triage_helpers import FAILING, HEALTHY, NEEDS_A_LOOK, merchants_of_every_severity


@pytest.fixture
def carts(db):
    return merchants_of_every_severity()


def quiet_merchants(count: int) -> None:
    for n in range(count):
        merchant = MerchantFactory(name=f"Quiet {n:03d}", slug=f"quiet-{n}")
        CartConnectionFactory(merchant=merchant, warehouse__merchant=merchant)


def test_beyond_a_few_healthy_merchants_they_are_counted_and_linked_not_listed(admin_client, carts, monkeypatch):
    monkeypatch.setattr(dashboard, "HEALTHY_LISTED", 3)
    quiet_merchants(2)  # four healthy in all: over the three listed

    page = page_of(admin_client)

    folds = re.findall(FOLD, page)
    assert len(folds) == len(FAILING + NEEDS_A_LOOK), "only the merchants needing a look have a card"
    assert "4 healthy merchants, not listed" in page and 'href="/admin/integrations/merchant/"' in page


def test_beyond_a_page_needing_a_look_the_most_severe_are_shown_and_the_rest_counted(admin_client, carts, monkeypatch):
    monkeypatch.setattr(dashboard, "MERCHANTS_SHOWN", 4)

    board = dashboard_get()
    page = page_of(admin_client)

    assert [m.merchant.name for m in board.merchants] == FAILING + NEEDS_A_LOOK[:1] + HEALTHY
    assert board.needing_look == 6 and board.needing_look_not_shown == 2
    assert "2 more merchants need a look, not shown here" in page
    # The fleet's counts still count every merchant, shown or not.
    assert board.waiting_count == 1 and board.stuck_count >= 1 and board.held_count >= 1
    assert board.failing_carts + board.failing_warehouses == 2


def test_the_query_count_does_not_grow_with_the_merchants(admin_client, carts):
    with CaptureQueriesContext(connection) as few:
        page_of(admin_client)
    quiet_merchants(60)  # over HEALTHY_LISTED: no longer listed

    with CaptureQueriesContext(connection) as many:
        page = page_of(admin_client)

    assert len(many.captured_queries) <= len(few.captured_queries)
    assert "62 healthy merchants, not listed" in page
