"""Every registered ModelAdmin renders: changelist, search, each filter choice, add and change pages."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import timezone
from django_q.models import Failure, OrmQ, Schedule, Success, Task
from django_q.signing import SignedPackage

from integrations.models import CartConnection, Merchant, SyncOutcome, WebhookSubscription, WMSConnection
from inventory.models import CartInventoryLevel, StockLevel
from orders.models import (
    HoldCode,
    Order,
    OrderEvent,
    OrderStatus,
    Problem,
    Shipment,
    ShippingMethodMap,
    SkippedOrder,
    SKUAlias,
    SyncRun,
)
from sync.models import Job, WebhookNotification, WorkerHeartbeat
from tests.factories import (
    JobFactory,
    OrderLineFactory,
    ShippingMethodMapFactory,
    SKUAliasFactory,
    WebhookNotificationFactory,
    WebhookSubscriptionFactory,
    WorkerHeartbeatFactory,
)

REGISTERED = sorted(admin.site._registry, key=lambda model: model._meta.label)


def models_where(has) -> pytest.MarkDecorator:
    chosen = [model for model in REGISTERED if has(admin.site._registry[model])]
    return pytest.mark.parametrize("model", chosen, ids=lambda model: model._meta.label)


every_model = models_where(lambda model_admin: True)


@pytest.fixture
def every_object(admin_user) -> dict:
    """One saved object of every model the admin registers, keyed by model.

    Two merchants (each with a cart, a warehouse and an order) so that every related-object filter
    has choices to offer: the admin hides a filter with a single choice.
    """
    line = OrderLineFactory(cart_sku="TEE-BLK-M", warehouse_sku="TSHIRT-BLACK-M")
    OrderLineFactory(
        cart_sku="MUG",
        warehouse_sku="MUG-WHITE",
        order__status=OrderStatus.ERROR,
        order__hold_code=HoldCode.UNKNOWN_SKU,
        order__is_test=True,
    )
    order = line.order
    OrderEvent.objects.create(
        order=order, message="Imported from Squarespace Commerce.", code="imported", to_status=OrderStatus.NEW
    )
    cart, wms = order.cart_connection, order.warehouse
    Task.objects.create(
        id="b" * 32,
        name="failed-sync",
        func="orders.tasks.sync",
        group="orders",
        cluster="orderbridge",
        started=timezone.now(),
        stopped=timezone.now(),
        success=False,
        result="Traceback: boom",
    )
    Task.objects.create(
        id="a" * 32,
        name="nightly-sync",
        func="orders.tasks.sync",
        group="orders",
        cluster="orderbridge",
        started=timezone.now(),
        stopped=timezone.now(),
        success=True,
        result="done",
    )
    return {
        Job: JobFactory(cart_connection=cart, requested_by=admin_user, summary="Done: imported 1; delivered 1."),
        WorkerHeartbeat: WorkerHeartbeatFactory(),
        WebhookSubscription: WebhookSubscriptionFactory(connection=cart),
        WebhookNotification: WebhookNotificationFactory(cart_connection=cart, cart_order_id=order.cart_order_id),
        Merchant: order.merchant,
        CartConnection: cart,
        WMSConnection: wms,
        Order: order,
        SkippedOrder: SkippedOrder.objects.create(
            cart_connection=cart,
            cart_order_id="old-1",
            order_number="900",
            reason_code="too_old",
            reason="Placed before the connection's earliest order date: never imported.",
        ),
        SyncRun: SyncRun.objects.create(
            kind=SyncRun.Kind.ORDERS,
            merchant=order.merchant,
            cart_connection=cart,
            warehouse=wms,
            status=SyncOutcome.PARTIAL,
            counts={"imported": 1, "held": 1},
            finished_at=timezone.now(),
            error="Cart: something to read",
        ),
        Shipment: Shipment.objects.create(
            warehouse=wms,
            order=order,
            warehouse_shipment_id="SH-1",
            warehouse_order_id="77",
            cust_ref="REF-1",
            carrier="UPS",
            service="Ground",
            tracking_numbers=["1Z999"],
            tracking_url="https://ups.example/1Z999",
            shipped_at=timezone.now(),
            lines=[{"sku": "TSHIRT-BLACK-M", "quantity": 1, "line_no": 1}],
        ),
        StockLevel: StockLevel.objects.create(
            warehouse=wms, warehouse_sku="TSHIRT-BLACK-M", available=7, on_hand=9, read_at=timezone.now()
        ),
        CartInventoryLevel: CartInventoryLevel.objects.create(
            cart_connection=cart,
            cart_item_key="variant-1",
            cart_sku="TEE-BLK-M",
            warehouse_sku="TSHIRT-BLACK-M",
            computed_quantity=7,
            pushed_quantity=7,
            read_at=timezone.now(),
            pushed_at=timezone.now(),
        ),
        Problem: Problem.objects.create(
            key=f"order:{order.pk}:unknown_sku",
            merchant=order.merchant,
            cart_connection=cart,
            warehouse=wms,
            order=order,
            reason_code="unknown_sku",
            message="Order #1000 held: unknown SKU",
            last_seen_at=timezone.now(),
        ),
        ShippingMethodMap: ShippingMethodMapFactory(warehouse=wms),
        SKUAlias: SKUAliasFactory(merchant=order.merchant, cart_sku="TEE-BLK-M", warehouse_sku="TSHIRT-BLACK-M"),
        User: admin_user,
        Group: Group.objects.create(name="operations"),
        Schedule: Schedule.objects.create(
            name="orders every 5 minutes",
            func="orders.tasks.sync",
            schedule_type=Schedule.MINUTES,
            minutes=5,
            cluster="orderbridge",
        ),
        Success: Success.objects.get(),
        Failure: Failure.objects.get(),
        OrmQ: OrmQ.objects.create(
            key="orderbridge",
            payload=SignedPackage.dumps(
                {"id": "c" * 32, "name": "queued-sync", "func": "orders.tasks.sync", "args": (), "kwargs": {}}
            ),
        ),
    }


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_registered_model_has_an_object_to_show(every_object):
    assert set(REGISTERED) <= set(every_object), "add a sample object for the newly registered model"


@every_model
def test_changelist_renders_and_lists_the_object(admin_client, every_object, model):
    response = admin_client.get(_url(model, "changelist"))

    assert response.status_code == 200
    assert response.context["cl"].result_count >= 1


@models_where(lambda model_admin: model_admin.search_fields)
def test_changelist_search_renders(admin_client, every_object, model):
    response = admin_client.get(_url(model, "changelist"), {"q": "1"})

    assert response.status_code == 200


@models_where(lambda model_admin: model_admin.list_filter)
def test_every_list_filter_choice_renders(admin_client, every_object, model):
    changelist = _url(model, "changelist")
    cl = admin_client.get(changelist).context["cl"]
    query_strings = [choice["query_string"] for spec in cl.filter_specs for choice in spec.choices(cl)]
    assert len(cl.filter_specs) == len(admin.site._registry[model].list_filter)

    for query_string in query_strings:
        response = admin_client.get(changelist + query_string)
        assert response.status_code == 200, query_string  # a bad filter redirects to ?e=1


@every_model
def test_add_page_renders_where_adding_is_allowed(admin_client, every_object, model, rf, admin_user):
    request = rf.get("/")
    request.user = admin_user
    allowed = admin.site._registry[model].has_add_permission(request)

    response = admin_client.get(_url(model, "add"))

    assert response.status_code == (200 if allowed else 403)


@every_model
def test_change_page_renders(admin_client, every_object, model):
    obj = every_object[model]

    response = admin_client.get(_url(model, "change", obj.pk))

    assert response.status_code == 200


@models_where(lambda model_admin: model_admin.autocomplete_fields)
def test_autocomplete_lookups_answer(admin_client, every_object, model):
    """Every autocomplete answers with every row, or (merchant-scoped) the rows of the merchant it names."""
    model_admin = admin.site._registry[model]
    for field_name in model_admin.autocomplete_fields:
        target = model._meta.get_field(field_name).related_model
        query = {
            "app_label": model._meta.app_label,
            "model_name": model._meta.model_name,
            "field_name": field_name,
            "term": "",
        }
        expected = target.objects.all()
        if field_name in getattr(model_admin, "merchant_scoped_autocompletes", ()):
            query["merchant"] = every_object[model].merchant_id
            expected = expected.filter(merchant_id=every_object[model].merchant_id)
        response = admin_client.get(reverse("admin:autocomplete"), query)
        assert response.status_code == 200
        assert len(response.json()["results"]) == expected.count() > 0
