"""The admin's first page is the operations dashboard: last syncs, health, held and stuck orders,
problems and a chart; in a fixed number of queries however many orders there are."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.models import CartConnection, SyncOutcome
from orders.dashboard import CHART_DAYS, dashboard_get
from orders.models import HoldCode, Order, OrderStatus, Shipment, SyncRun
from tests.admin_helpers import import_order
from tests.factories import CartConnectionFactory, MerchantFactory
from tests.orders.helpers import ago, seed


@pytest.fixture
def busy(wired):
    """A merchant with one order delivered long ago (stuck), two held, and a failed shipments run."""
    seed(wired.squarespace, "1001")
    seed(wired.squarespace, "2002", shipping_method="Express")
    held = import_order(wired, "2001", sku="TEE-BLK")
    assert held.hold_code == HoldCode.UNKNOWN_SKU
    Order.objects.filter(order_number="1001").update(delivered_at=ago(hours=wired.cart.stuck_after_hours + 5))
    SyncRun.objects.create(
        kind=SyncRun.Kind.SHIPMENTS,
        merchant=wired.merchant,
        warehouse=wired.wms,
        status=SyncOutcome.FAILED,
        failure_kind="temporary",
        finished_at=timezone.now(),
        error="Warehouse: Bergen Logistics answered 502 at /inventory/trackings\nsecond line",
    )
    return wired


def page_of(admin_client) -> str:
    response = admin_client.get("/admin/")
    assert response.status_code == 200
    assert "admin/dashboard/index.html" in [t.name for t in response.templates]
    return response.content.decode()


def test_the_dashboard_shows_each_connection_its_last_syncs_holds_stuck_orders_and_problems(admin_client, busy):
    page = page_of(admin_client)

    assert busy.merchant.name in page
    for heading in ("Health", "Orders sync", "Shipments sync", "Inventory sync", "Held", "Stuck"):
        assert f'<th scope="col">{heading}</th>' in page
    assert "3 imported" in page and "1 delivered" in page and "2 held" in page, "what the last orders run did"
    assert "succeeded with problems" in page
    assert "Bergen Logistics answered 502 at /inventory/trackings" in page, "the last shipments run's error"
    assert "temporary (retried with backoff)" in page
    assert "unknown SKU" in page and "unmapped shipping method" in page
    assert f"hold_code__exact={HoldCode.UNKNOWN_SKU}" in page
    assert "#1001" in page, "the stuck order"
    assert f"over {busy.cart.stuck_after_hours} h" in page
    assert f"merchant__id__exact={busy.merchant.pk}&amp;status__exact=open" in page
    assert "2 open problems" in page
    assert "Orders per day, last 14 days" in page
    assert 'id="content-main"' in page and "app-orders" in page, "the app list stays below"


def test_the_held_and_stuck_links_open_the_matching_orders(admin_client, busy):
    dashboard = dashboard_get()
    [cart_view] = [c for m in dashboard.merchants for c in m.connections if c.side == "cart"]
    links = {reason.code: reason.url for reason in cart_view.held}

    held = admin_client.get(links[HoldCode.UNKNOWN_SKU])
    stuck = admin_client.get(cart_view.stuck_url)
    every_held = admin_client.get(cart_view.held_url)

    assert held.status_code == stuck.status_code == every_held.status_code == 200
    assert [o.order_number for o in held.context["cl"].result_list] == ["2001"]
    assert [o.order_number for o in stuck.context["cl"].result_list] == ["1001"]
    assert sorted(o.order_number for o in every_held.context["cl"].result_list) == ["2001", "2002"]


def test_a_blocked_connection_shows_why_and_an_unhealthy_one_its_failures(admin_client, busy):
    CartConnection.objects.filter(pk=busy.cart.pk).update(
        blocked_reason="Stopped until a person acts (needs a person): 401: the API key was refused",
        consecutive_failures=4,
        unhealthy=True,
    )
    busy.wms.consecutive_failures = 1
    busy.wms.next_attempt_at = timezone.now() + timedelta(minutes=2)
    busy.wms.save()

    page = page_of(admin_client)

    assert "blocked</span>" in page
    assert "401: the API key was refused" in page
    assert "1 failure in a row" in page
    assert "next attempt" in page


def test_merchants_that_need_a_person_come_first(admin_client, busy):
    MerchantFactory(name="Aardvark Supplies")

    dashboard = dashboard_get()

    assert [m.merchant.name for m in dashboard.merchants] == [busy.merchant.name, "Aardvark Supplies"]
    assert dashboard.held_count == 2 and dashboard.stuck_count == 1


def test_the_chart_counts_orders_imported_and_shipped_per_day(db):
    cart = CartConnectionFactory()
    orders = make_orders(cart, 30)
    today, two_days_ago = timezone.localdate(), timezone.localdate() - timedelta(days=2)

    chart = {day.day: day for day in next(m for m in dashboard_get().merchants if m.merchant == cart.merchant).chart}

    assert len(chart) == CHART_DAYS and max(chart) == today
    expected = {day: 0 for day in chart}
    for order in Order.objects.filter(pk__in=[o.pk for o in orders]):
        if timezone.localdate(order.created_at) in expected:
            expected[timezone.localdate(order.created_at)] += 1
    assert {day: view.imported for day, view in chart.items()} == expected
    shipped = Shipment.objects.filter(order__in=orders, shipped_at__date=two_days_ago).values("order").distinct()
    assert chart[two_days_ago].shipped == shipped.count() > 0
    top = max(max(d.imported, d.shipped) for d in chart.values())
    assert max(max(d.imported_pct, d.shipped_pct) for d in chart.values()) == 100
    assert all(d.imported_pct == round(100 * d.imported / top) for d in chart.values())


def test_staff_only(client, db):
    user = User.objects.create_user("clerk", password="pw-clerk-1234", is_staff=False)
    client.force_login(user)

    response = client.get("/admin/")

    assert response.status_code == 302 and "/login/" in response["Location"]


def make_orders(cart: CartConnection, count: int) -> list[Order]:
    """`count` orders of every status, spread over 20 days, a third of them with a parcel; in bulk."""
    statuses = [OrderStatus.NEW, OrderStatus.ERROR, OrderStatus.AT_WMS, OrderStatus.SHIPPED, OrderStatus.CONFIRMED]
    holds = [HoldCode.UNKNOWN_SKU, HoldCode.UNMAPPED_SHIPPING, HoldCode.MISSING_ADDRESS]
    now = timezone.now()
    first = Order.objects.filter(cart_connection=cart).count()
    orders = Order.objects.bulk_create(
        Order(
            merchant_id=cart.merchant_id,
            cart_connection=cart,
            warehouse_id=cart.warehouse_id,
            cart_order_id=f"bulk-{cart.pk}-{first + n}",
            order_number=f"B{cart.pk}-{first + n}",
            status=statuses[n % len(statuses)],
            hold_code=holds[n % len(holds)] if statuses[n % len(statuses)] == OrderStatus.ERROR else "",
            delivered_at=now - timedelta(hours=n) if statuses[n % len(statuses)] != OrderStatus.NEW else None,
        )
        for n in range(count)
    )
    for n, order in enumerate(orders):
        order.created_at = now - timedelta(days=n % 20, minutes=n)
    Order.objects.bulk_update(orders, ["created_at"])
    Shipment.objects.bulk_create(
        Shipment(
            warehouse_id=cart.warehouse_id,
            order=order,
            warehouse_shipment_id=f"SH-{order.pk}",
            shipped_at=now - timedelta(days=(n // 3) % 3),
            tracking_numbers=[f"1Z{order.pk}"],
        )
        for n, order in enumerate(orders)
        if n % 3 == 0
    )
    return orders


def test_the_query_count_does_not_grow_with_the_orders(admin_client, django_assert_max_num_queries):
    carts = [CartConnectionFactory(stuck_after_hours=hours) for hours in (24, 72, 72)]
    for cart in carts:
        make_orders(cart, 5)
        for kind in SyncRun.Kind.values:
            SyncRun.objects.create(kind=kind, merchant=cart.merchant, cart_connection=cart, finished_at=timezone.now())
    with CaptureQueriesContext(connection) as few:
        page_of(admin_client)

    for cart in carts:
        make_orders(cart, 200)
        for _ in range(20):
            SyncRun.objects.create(kind="orders", merchant=cart.merchant, cart_connection=cart, status="failed")
    with django_assert_max_num_queries(19), CaptureQueriesContext(connection) as many:
        page = page_of(admin_client)

    assert len(many) == len(few), [q["sql"][:150] for q in many.captured_queries]
    assert page.count("over 24 h") == 1 and page.count("over 72 h") == 2, "every cart has stuck orders"
