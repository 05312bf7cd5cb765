"""The admin's lists built for work: status first, labels in words, autocomplete filters that scale to
any number of merchants and connections, and history (sync runs, skipped orders, shipments,
problems) shown read-only."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib import admin
from django.db.models import ForeignKey
from django.urls import reverse
from django.utils import timezone

from config.admin_filters import AutocompleteFilter
from integrations.models import CartConnection, Merchant, SyncOutcome, WMSConnection
from orders.models import HoldCode, Order, OrderStatus, Problem, Shipment, SkippedOrder, SyncRun
from tests.factories import (
    CartConnectionFactory,
    OrderChangeFactory,
    OrderFactory,
    ProblemFactory,
    ShipmentFactory,
    SkippedOrderFactory,
    SyncRunFactory,
)

LISTED_MODELS = [Order, Problem, SyncRun, SkippedOrder, Shipment, CartConnection, WMSConnection, Merchant]
HISTORY = [SyncRun, SkippedOrder, Shipment, Problem]


def changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def table_header(page: str) -> str:
    start = page.index('<table id="result_list">')
    return page[start : page.index("</thead>", start)]


def url(model, view: str, pk: int) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=[pk])


@pytest.mark.parametrize("model", LISTED_MODELS, ids=lambda m: m._meta.label)
def test_no_list_filter_is_a_sidebar_list_of_merchants_or_connections(model):
    model_admin = admin.site._registry[model]
    for entry in model_admin.list_filter:
        if isinstance(entry, str):
            field = model._meta.get_field(entry)
            assert not isinstance(field, ForeignKey), f"{entry}: a foreign key filters by autocomplete"


def test_a_thousand_merchants_are_not_listed_in_the_sidebar_but_searched(admin_client, db):
    Merchant.objects.bulk_create(Merchant(name=f"Shop {n:04}", slug=f"shop-{n:04}") for n in range(1000))
    order = OrderFactory()

    page = admin_client.get(changelist(Order)).content.decode()

    assert page.count("merchant__id__exact=") == 0, "no link per merchant"
    assert 'id="filter-merchant__id__exact"' in page and 'data-ajax--url="/admin/autocomplete/"' in page
    assert 'data-model-name="order"' in page and 'data-field-name="merchant"' in page
    assert "select2" in page
    assert page.index("admin/js/jquery.init.js") < page.index("integrations/admin/autocomplete_filter.js"), (
        "the filter's script runs after django.jQuery exists"
    )
    found = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "orders", "model_name": "order", "field_name": "merchant", "term": order.merchant.name},
    ).json()["results"]
    assert [r["id"] for r in found] == [str(order.merchant.pk)]


def test_an_autocomplete_filter_filters_and_shows_its_choice(admin_client, db):
    mine, theirs = OrderFactory(), OrderFactory()

    response = admin_client.get(changelist(Order), {"cart_connection__id__exact": mine.cart_connection_id})

    assert list(response.context["cl"].result_list) == [mine]
    assert theirs not in response.context["cl"].result_list
    page = response.content.decode()
    assert f'<option value="{mine.cart_connection_id}" selected>{mine.cart_connection}</option>' in page


def test_an_autocomplete_filter_refuses_a_value_that_is_no_key(admin_client, db):
    OrderFactory()

    response = admin_client.get(changelist(Order), {"merchant__id__exact": "abc"})

    assert response.status_code == 302 and "e=1" in response["Location"]


def test_the_problem_list_says_each_reason_in_words_and_clips_the_message(admin_client, db):
    message = "Map the cart's shipping method 'Express Overnight' to a warehouse code. " + "More detail. " * 40
    ProblemFactory(reason_code=HoldCode.UNMAPPED_SHIPPING, message=message)

    response = admin_client.get(changelist(Problem))
    page = response.content.decode()

    assert "Shipping method not mapped" in page
    assert ">unmapped_shipping<" not in page
    assert f'title="{message.replace(chr(39), "&#x27;")}"' in page, "the whole message on hover"
    assert 'class="ob-clip ob-clip-message"' in page
    header = table_header(page)
    assert header.index("column-status_and_reason") < header.index("column-message_short"), "status first"
    assert "open</span> Shipping method not mapped" in page


def test_the_problem_reason_filter_offers_words(admin_client, db):
    ProblemFactory(reason_code=HoldCode.UNMAPPED_SHIPPING)
    ProblemFactory(reason_code="failing")

    response = admin_client.get(changelist(Problem), {"reason_code": HoldCode.UNMAPPED_SHIPPING})

    assert [p.reason_code for p in response.context["cl"].result_list] == [HoldCode.UNMAPPED_SHIPPING]
    assert "Connection failing" in response.content.decode()


def test_a_sync_run_reads_as_a_sentence_not_json(admin_client, db):
    SyncRunFactory(counts={"imported": 3, "held": 2, "delivered": 1, "skipped": 0, "verified": 1})
    SyncRunFactory(status=SyncOutcome.SUCCEEDED, counts={})
    SyncRunFactory(status=SyncOutcome.FAILED, counts={}, error="Bergen answered 502\nsecond line")

    page = admin_client.get(changelist(SyncRun)).content.decode()

    assert "3 imported, 1 delivered, 2 held" in page
    assert "{&quot;" not in page and '{"imported"' not in page
    assert "nothing new" in page
    assert page.count("nothing new") == 1, "a failed run never reads as having nothing to do"
    assert "Bergen answered 502" in page and 'title="Bergen answered 502\nsecond line"' in page


@pytest.mark.parametrize("model", [CartConnection, Merchant, Order, Problem, SyncRun], ids=lambda m: m._meta.label)
def test_lists_show_no_red_cross_for_a_harmless_no(admin_client, db, model):
    order = OrderFactory(is_test=False)
    ProblemFactory(cart_connection=order.cart_connection)
    SyncRunFactory(cart_connection=order.cart_connection)

    page = admin_client.get(changelist(model)).content.decode()

    assert "icon-no.svg" not in page and "icon-yes.svg" not in page


def test_the_connection_list_puts_health_first_in_words(admin_client, db):
    healthy = CartConnectionFactory(name="Quiet store")
    failing = CartConnectionFactory(name="Loud store", consecutive_failures=2)
    CartConnection.objects.filter(pk=failing.pk).update(consecutive_failures=2)

    response = admin_client.get(changelist(CartConnection))
    page = response.content.decode()

    assert "failing: 2 in a row" in page and ">healthy<" in page
    header = table_header(page)
    assert header.index("column-health") < header.index("column-__str__")
    needing = admin_client.get(changelist(CartConnection), {"health": "attention"}).context["cl"].result_list
    assert list(needing) == [failing] and healthy not in needing


@pytest.mark.parametrize("model", HISTORY, ids=lambda m: m._meta.label)
def test_history_is_read_only(admin_client, db, model):
    obj = {
        SyncRun: SyncRunFactory,
        SkippedOrder: SkippedOrderFactory,
        Shipment: ShipmentFactory,
        Problem: ProblemFactory,
    }[model]()

    page = admin_client.get(url(model, "change", obj.pk))
    posted = admin_client.post(url(model, "change", obj.pk), {"_save": "Save"})
    deleted = admin_client.post(url(model, "delete", obj.pk), {"post": "yes"})
    add = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
    added = admin_client.get(add)

    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="_save"' not in html and 'name="_continue"' not in html
    assert "deletelink" not in html
    assert posted.status_code == deleted.status_code == added.status_code == 403
    assert model.objects.filter(pk=obj.pk).exists()
    listed = admin_client.get(changelist(model)).content.decode()
    assert f'href="{add}"' not in listed and 'value="delete_selected"' not in listed


def test_problems_can_still_be_resolved_from_the_list(admin_client, db):
    problem = ProblemFactory()

    admin_client.post(
        changelist(Problem), {"action": "resolve_problems", "_selected_action": [problem.pk], "index": "0"}
    )

    problem.refresh_from_db()
    assert problem.status == Problem.Status.RESOLVED


def test_the_stuck_filter_finds_orders_over_their_connections_own_threshold(admin_client, db):
    quick = CartConnectionFactory(stuck_after_hours=24)
    slow = CartConnectionFactory(stuck_after_hours=72)
    two_days_ago = timezone.now() - timedelta(hours=48)
    late = OrderFactory(cart_connection=quick, status=OrderStatus.AT_WMS, delivered_at=two_days_ago)
    OrderFactory(cart_connection=slow, status=OrderStatus.AT_WMS, delivered_at=two_days_ago)
    OrderFactory(cart_connection=quick, status=OrderStatus.SHIPPED, delivered_at=two_days_ago)

    response = admin_client.get(changelist(Order), {"stuck": "1"})

    assert list(response.context["cl"].result_list) == [late]


def test_every_autocomplete_filters_related_admin_can_search(db):
    for model, model_admin in admin.site._registry.items():
        for entry in model_admin.list_filter:
            if isinstance(entry, type) and issubclass(entry, AutocompleteFilter):
                related = model._meta.get_field(entry.field_name).related_model
                assert admin.site._registry[related].search_fields, f"{model.__name__}.{entry.field_name}"


def test_the_order_list_marks_a_hold_window_a_change_to_pass_on_and_a_change_not_applied(admin_client, db):
    waiting = OrderFactory(order_number="7201", status=OrderStatus.NEW)
    Order.objects.filter(pk=waiting.pk).update(hold_until=timezone.now() + timedelta(minutes=30))
    pending = OrderFactory(order_number="7202", status=OrderStatus.AT_WMS)
    OrderChangeFactory(order=pending)
    late = OrderFactory(order_number="7203", status=OrderStatus.AT_WMS)
    ProblemFactory(
        cart_connection=late.cart_connection, order=late, key=f"order:{late.pk}:c", reason_code="change_not_applied"
    )
    OrderFactory(order_number="7204", status=OrderStatus.AT_WMS)

    page = admin_client.get(changelist(Order)).content.decode()

    rows = {n: next(row for row in page.split("<tr") if n in row) for n in ("7201", "7202", "7203", "7204")}
    assert "hold window until" in rows["7201"] and "change to pass on" not in rows["7201"]
    assert "change to pass on" in rows["7202"] and "hold window" not in rows["7202"]
    assert "change not applied" in rows["7203"] and "to pass on" not in rows["7203"]
    assert not any(mark in rows["7204"] for mark in ("hold window", "change to pass on", "change not applied"))
