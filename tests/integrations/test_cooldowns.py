"""A platform's 429 cooldown binds every run: stored per platform account, so that a command started
by hand, a run in another thread or process and an admin *Retry now* send nothing inside it (counted
at the sandboxes, which record every request), and it ends when due."""

from __future__ import annotations

import html
import json
import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from integrations.accounts import connection_account_refresh
from integrations.cooldowns import AccountCooldown, cooldown_key, cooldown_record, cooldown_until
from integrations.models import PlatformCooldown, SyncOutcome
from orders.models import Order, OrderStatus
from sync.cycle import cart_connection_sync_orders
from tests.admin_helpers import messages_of
from tests.factories import CartConnectionFactory
from tests.orders.helpers import ORDERS_PATH, ago, cooldowns_end, order_posts, seed, sync


def sync_orders_command(*args: str) -> tuple[dict, str]:
    """`manage.py sync_orders --json`: its one run's result, and what it said on stderr."""
    out, err = StringIO(), StringIO()
    call_command("sync_orders", "--json", *args, stdout=out, stderr=err)
    [run] = json.loads(out.getvalue())["runs"]
    return run, err.getvalue()


def test_a_cooldown_one_run_got_from_the_cart_stops_a_command_started_afterwards(wired):
    seed(wired.squarespace, "1001")
    wired.squarespace.fail_next(status=429, headers={"Retry-After": "900"}, path_contains=ORDERS_PATH)
    first = sync(wired.cart)
    assert first.status == SyncOutcome.THROTTLED
    until = cooldown_until(cooldown_key(wired.cart))
    assert until is not None and until > timezone.now()
    requests = len(wired.squarespace.requests)

    run, _ = sync_orders_command()

    assert len(wired.squarespace.requests) == requests  # nothing sent inside the cooldown
    assert run["status"] == SyncOutcome.THROTTLED
    assert f"nothing is sent to it until {until:%Y-%m-%d %H:%M}" in run["error"]
    assert not Order.objects.exists()


def test_the_cooldown_ends_when_due(wired):
    seed(wired.squarespace, "1001")
    cooldown_record(cooldown_key(wired.cart), seconds=900, reason="429")
    assert sync_orders_command()[0]["status"] == SyncOutcome.THROTTLED

    cooldowns_end()
    run, _ = sync_orders_command()

    assert run["status"] == SyncOutcome.SUCCEEDED and run["counts"]["delivered"] == 1
    assert len(order_posts(wired.bergen)) == 1


def test_a_warehouse_cooldown_stops_the_sends_of_a_command_not_its_import(wired):
    seed(wired.squarespace, "1001")
    wired.bergen.fail_next(1, status=429, headers={"Retry-After": "120"}, path_contains="/orders", method="POST")
    assert sync(wired.cart).status == SyncOutcome.THROTTLED
    seed(wired.squarespace, "1002", created_on=ago(minutes=4))
    requests = len(wired.bergen.requests)

    run, _ = sync_orders_command()

    assert len(wired.bergen.requests) == requests  # not even the SKU list or a token
    assert run["status"] == SyncOutcome.THROTTLED and "Warehouse: Bergen" in run["error"]
    assert run["counts"]["imported"] == 1
    orders = Order.objects.filter(cart_connection=wired.cart)
    assert [(o.status, o.claimed_by, o.delivery_uncertain) for o in orders] == [(OrderStatus.NEW, "", False)] * 2


def test_a_short_cooldown_is_waited_out_with_a_message(wired, settings):
    settings.HTTP_MAX_THROTTLE_WAIT_SECONDS = 1.0
    seed(wired.squarespace, "1001")
    cooldown_record(cooldown_key(wired.wms), seconds=0.3, reason="429")

    out, err = StringIO(), StringIO()
    call_command("sync_orders", stdout=out, stderr=err)

    assert "Bergen Logistics asked us to slow down: waiting" in err.getvalue()
    assert "succeeded" in out.getvalue()
    assert len(order_posts(wired.bergen)) == 1


def test_an_admin_retry_during_the_cooldown_sends_nothing_and_says_why(wired, admin_client):
    seed(wired.squarespace, "1001")
    wired.bergen.fail_next(1, status=500, path_contains="/orders", method="POST")
    sync(wired.cart)  # its send failed: it waits for a retry
    order = Order.objects.get(cart_connection=wired.cart)
    cooldown_record(cooldown_key(wired.wms), seconds=600, reason="429")
    requests = len(wired.bergen.requests)

    response = admin_client.post(
        reverse("admin:orders_order_changelist"),
        {"action": "retry_orders", "_selected_action": [order.pk]},
        follow=True,
    )

    assert len(wired.bergen.requests) == requests
    [(level, text)] = messages_of(response)
    text = html.unescape(text)
    assert level == "warning" and "1 wait for the warehouse's rate limit" in text
    assert "nothing is sent to it until" in text, "the job's summary says until when"
    order.refresh_from_db()
    assert order.status == OrderStatus.NEW and not order.claimed_by
    event = order.events.get(code="rate_limited")
    assert "nothing is sent to it until" in event.message


def run_in_thread(target) -> tuple[threading.Thread, list]:
    done: list = []

    def run():
        try:
            done.append(target())
        finally:
            connections.close_all()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, done


def wait_for(condition, what: str, seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.02)


def hold_second_page(cart) -> tuple[threading.Event, threading.Event]:
    """The cart's answer to the second page of orders waits until the returned event is set."""
    asked, let_go = threading.Event(), threading.Event()
    answer = cart.before_dispatch

    def slow(request):
        if ORDERS_PATH in request.path and request.param("cursor"):
            asked.set()
            let_go.wait(10)
        return answer(request)

    cart.before_dispatch = slow
    return asked, let_go


@pytest.mark.django_db(transaction=True)
def test_a_run_already_going_stops_sending_when_another_process_records_a_warehouse_cooldown(wired, settings):
    settings.DELIVERY_CONCURRENCY = 1
    for number in range(4):
        seed(wired.squarespace, str(1001 + number), created_on=ago(minutes=5, seconds=-number))
    wired.squarespace.page_size = 2
    asked, let_go = hold_second_page(wired.squarespace)
    thread, done = run_in_thread(lambda: cart_connection_sync_orders(connection=wired.cart))
    try:
        assert asked.wait(10)
        wait_for(lambda: len(order_posts(wired.bergen)) == 2, "the first page's two sends")
        wired.wms.refresh_from_db()  # as another process reads it: the run has learned its account
        cooldown_record(cooldown_key(wired.wms), seconds=600, reason="429 seen by another worker")
    finally:
        let_go.set()
        thread.join(30)

    [run] = done
    assert len(order_posts(wired.bergen)) == 2  # the first page's, sent before the cooldown
    assert run.status == SyncOutcome.THROTTLED and "nothing is sent to it until" in run.error
    assert run.counts["imported"] == 4 and run.counts["delivered"] == 2 and run.counts["not_sent"] == 2


@pytest.mark.django_db(transaction=True)
def test_a_run_already_going_stops_reading_a_cart_another_process_saw_throttled(wired, settings):
    # The cooldown is seen at the run's next take from the budget: tokens it already holds (at most
    # BUDGET_LOCAL_TOKENS, for a second) are still spent. One at a time here, so each page takes anew.
    settings.BUDGET_LOCAL_TOKENS = 1
    for number in range(6):
        seed(wired.squarespace, str(1001 + number), created_on=ago(minutes=5, seconds=-number))
    wired.squarespace.page_size = 2
    asked, let_go = hold_second_page(wired.squarespace)
    thread, done = run_in_thread(lambda: cart_connection_sync_orders(connection=wired.cart))
    try:
        assert asked.wait(10)
        cooldown_record(cooldown_key(wired.cart), seconds=600, reason="429 seen by another worker")
    finally:
        let_go.set()
        thread.join(30)

    [run] = done
    assert len(wired.squarespace.requests_to(ORDERS_PATH)) == 2  # no third page inside the cooldown
    assert run.status == SyncOutcome.THROTTLED and "Cart: Squarespace" in run.error
    assert run.counts["imported"] == 4


def test_a_429_one_sending_thread_got_stops_the_others_at_once_and_is_stored_by_the_runs_thread(db):
    cooldown = AccountCooldown("bergen:test:1")
    seen: list[float] = []

    def sender():  # a concurrent send: it never touches the database
        cooldown.started(120, "429 from a send")
        seen.append(cooldown.remaining())

    thread = threading.Thread(target=sender)
    thread.start()
    thread.join(10)

    assert seen and seen[0] > 100
    assert not PlatformCooldown.objects.exists()  # stored by the run's own thread, at its next look
    assert cooldown.remaining() > 100
    assert cooldown_until("bergen:test:1") is not None


def test_sync_inventory_during_a_warehouse_cooldown_reads_nothing_and_pushes_no_stale_levels(wired):
    cooldown_record(cooldown_key(wired.wms), seconds=600, reason="429")
    out = StringIO()

    call_command("sync_inventory", "--json", stdout=out)

    runs = json.loads(out.getvalue())["runs"]
    assert [(r["side"], r["status"]) for r in runs] == [("warehouse", SyncOutcome.THROTTLED)]
    assert "nothing is sent to it until" in runs[0]["error"]
    assert wired.bergen.requests == [] and wired.squarespace.requests == []


def test_a_cooldown_recorded_before_the_account_was_known_binds_the_account_once_learned(wired):
    provisional = cooldown_key(wired.cart)
    assert provisional == f"cartconnection:{wired.cart.pk}"  # the factory's row: no account yet
    cooldown_record(provisional, seconds=900, reason="429")

    connection_account_refresh(wired.cart, reconfigured=False)  # Squarespace names it from its API key

    assert cooldown_key(wired.cart) != provisional
    assert cooldown_until(cooldown_key(wired.cart)) == cooldown_until(provisional)
    other = CartConnectionFactory(
        merchant=wired.merchant,
        warehouse=wired.wms,
        api_base_url=wired.squarespace.base_url,
        sandbox_tooling=True,
        credentials_values={"api_key": wired.squarespace.api_key},
    )
    connection_account_refresh(other, reconfigured=False)
    assert cooldown_key(other) == cooldown_key(wired.cart)  # the same store: the same cooldown
    assert cooldown_until(cooldown_key(other)) is not None
