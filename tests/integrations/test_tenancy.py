"""One merchant per row, in the models: every link between merchant-owned rows is refused across
merchants in model validation (`full_clean`) and on save, whatever saves it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.forms import modelform_factory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from integrations.models import CartConnection, Merchant, WMSConnection
from integrations.tenancy import CrossMerchantLink, tenancy_audit
from orders.models import Order, OrderEvent, Problem, Shipment, SyncRun
from orders.services.bulk import rows_insert
from tests.factories import (
    CartConnectionFactory,
    MerchantFactory,
    OrderFactory,
    OrderLineFactory,
    ShippingMethodMapFactory,
    WMSConnectionFactory,
)


@dataclass
class Side:
    """One merchant's cart, warehouse, order and sync run."""

    merchant: Merchant
    cart: CartConnection
    wms: WMSConnection
    order: Order
    run: SyncRun


def side(slug: str) -> Side:
    cart = CartConnectionFactory(merchant=MerchantFactory(slug=slug, name=slug.title()))
    order = OrderFactory(cart_connection=cart)
    run = SyncRun.objects.create(kind="orders", merchant=cart.merchant, cart_connection=cart, warehouse=cart.warehouse)
    return Side(cart.merchant, cart, cart.warehouse, order, run)


@pytest.fixture
def mine(db) -> Side:
    return side("mine")


@pytest.fixture
def theirs(db) -> Side:
    return side("theirs")


def _cart(m: Side, t: Side) -> CartConnection:
    return CartConnection(
        merchant=m.merchant, platform="squarespace", warehouse=t.wms, earliest_order_date="2024-01-01"
    )


def _order(field: str) -> Callable[[Side, Side], Order]:
    def build(m: Side, t: Side) -> Order:
        values = {"merchant": m.merchant, "cart_connection": m.cart, "warehouse": m.wms}
        values[field] = getattr(t, {"cart_connection": "cart", "warehouse": "wms"}[field])
        return Order(cart_order_id="X-1", order_number="X-1", **values)

    return build


def _run(field: str) -> Callable[[Side, Side], SyncRun]:
    def build(m: Side, t: Side) -> SyncRun:
        values = {"merchant": m.merchant, "cart_connection": m.cart, "warehouse": m.wms}
        values[field] = getattr(t, {"cart_connection": "cart", "warehouse": "wms"}[field])
        return SyncRun(kind="orders", **values)

    return build


def _problem(field: str) -> Callable[[Side, Side], Problem]:
    def build(m: Side, t: Side) -> Problem:
        values = {"merchant": m.merchant, "cart_connection": m.cart, "warehouse": m.wms, "order": m.order}
        values[field] = getattr(t, {"cart_connection": "cart", "warehouse": "wms", "order": "order"}[field])
        return Problem(key=f"test:{field}", reason_code="x", message="x", last_seen_at=timezone.now(), **values)

    return build


def _shipment(m: Side, t: Side) -> Shipment:
    return Shipment(warehouse=m.wms, order=t.order, warehouse_shipment_id="S-1")


def _event(m: Side, t: Side) -> OrderEvent:
    return OrderEvent(order=m.order, sync_run=t.run, message="x")


# (what is built, the field that names the other merchant's row)
CROSS_LINKS = [
    pytest.param(_cart, "warehouse", id="cart-connection.warehouse"),
    pytest.param(_order("cart_connection"), "cart_connection", id="order.cart_connection"),
    pytest.param(_order("warehouse"), "warehouse", id="order.warehouse"),
    pytest.param(_run("cart_connection"), "cart_connection", id="sync-run.cart_connection"),
    pytest.param(_run("warehouse"), "warehouse", id="sync-run.warehouse"),
    pytest.param(_problem("cart_connection"), "cart_connection", id="problem.cart_connection"),
    pytest.param(_problem("warehouse"), "warehouse", id="problem.warehouse"),
    pytest.param(_problem("order"), "order", id="problem.order"),
    pytest.param(_shipment, "order", id="shipment.order"),
    pytest.param(_event, "sync_run", id="order-event.sync_run"),
]


@pytest.mark.parametrize(("build", "field"), CROSS_LINKS)
def test_full_clean_refuses_another_merchants_row_on_its_field(mine, theirs, build, field):
    row = build(mine, theirs)

    with pytest.raises(ValidationError) as refused:
        row.full_clean()

    assert "belongs to another merchant" in " ".join(refused.value.message_dict[field])


@pytest.mark.parametrize(("build", "field"), CROSS_LINKS)
def test_save_refuses_another_merchants_row(mine, theirs, build, field):
    row = build(mine, theirs)
    model = type(row)
    before = model.objects.count()

    with pytest.raises(CrossMerchantLink) as refused:
        row.save()

    assert field in refused.value.message_dict
    assert model.objects.count() == before


@pytest.mark.parametrize(("build", "field"), CROSS_LINKS)
def test_the_same_rows_of_one_merchant_are_accepted(mine, theirs, build, field):
    row = build(mine, mine)

    row.full_clean(validate_unique=False, validate_constraints=False)
    row.save()

    assert type(row).objects.filter(pk=row.pk).exists()


def test_objects_create_refuses_a_cart_connection_wired_to_their_warehouse(mine, theirs):
    with pytest.raises(CrossMerchantLink, match=rf"Warehouse connection #{theirs.wms.pk} belongs to another merchant"):
        CartConnection.objects.create(
            merchant=mine.merchant, platform="squarespace", warehouse=theirs.wms, earliest_order_date="2024-01-01"
        )

    assert not CartConnection.objects.filter(merchant=mine.merchant, warehouse=theirs.wms).exists()


def test_saving_a_stored_cart_connection_with_their_warehouse_is_refused(mine, theirs):
    cart = CartConnection.objects.get(pk=mine.cart.pk)  # as a shell would read it
    cart.warehouse_id = theirs.wms.pk

    with pytest.raises(CrossMerchantLink):
        cart.save()
    with pytest.raises(CrossMerchantLink):
        cart.save(update_fields=["warehouse"])

    assert CartConnection.objects.get(pk=mine.cart.pk).warehouse_id == mine.wms.pk


def test_ids_given_without_objects_are_checked_too(mine, theirs):
    with pytest.raises(CrossMerchantLink):
        Problem.objects.create(
            key="ids",
            merchant_id=mine.merchant.pk,
            order_id=theirs.order.pk,
            cart_connection_id=mine.cart.pk,
            reason_code="x",
            message="x",
            last_seen_at=timezone.now(),
        )


def test_a_warehouse_used_by_its_merchants_cart_cannot_move_to_another_merchant(mine, theirs):
    wms = WMSConnection.objects.get(pk=mine.wms.pk)
    wms.merchant = theirs.merchant

    with pytest.raises(ValidationError) as refused:
        wms.full_clean()
    assert "cannot move to another merchant" in " ".join(refused.value.message_dict["merchant"])
    assert "cart connections" in " ".join(refused.value.message_dict["merchant"])
    with pytest.raises(CrossMerchantLink):
        wms.save()

    assert WMSConnection.objects.get(pk=mine.wms.pk).merchant_id == mine.merchant.pk


def test_a_cart_connection_with_orders_cannot_move_to_another_merchant(mine, theirs):
    cart = CartConnection.objects.get(pk=mine.cart.pk)
    cart.merchant, cart.warehouse = theirs.merchant, theirs.wms

    with pytest.raises(CrossMerchantLink, match="orders"):
        cart.save()

    assert CartConnection.objects.get(pk=mine.cart.pk).merchant_id == mine.merchant.pk


def test_a_connection_nothing_refers_to_may_move_to_another_merchant(mine, theirs):
    spare = WMSConnectionFactory(merchant=mine.merchant, name="spare")
    spare = WMSConnection.objects.get(pk=spare.pk)
    spare.merchant = theirs.merchant

    spare.full_clean()
    spare.save()

    assert WMSConnection.objects.get(pk=spare.pk).merchant_id == theirs.merchant.pk


def test_a_form_without_the_field_shows_the_refusal_on_the_whole_form(mine, theirs):
    """A ModelForm that does not show the link (the admin's read-only pages) still refuses, without
    naming a field it does not have."""
    CartConnection.objects.filter(pk=mine.cart.pk).update(warehouse=theirs.wms)
    form_class = modelform_factory(CartConnection, fields=["name"])

    form = form_class({"name": "renamed"}, instance=CartConnection.objects.get(pk=mine.cart.pk))

    assert not form.is_valid()
    assert "belongs to another merchant" in " ".join(form.errors[NON_FIELD_ERRORS])


def test_saving_a_row_read_from_the_database_reads_no_related_row(mine):
    """The check costs nothing when the links are not changed: one UPDATE, no lookup."""
    order = Order.objects.get(pk=mine.order.pk)
    order.hold_reason = "changed"

    with CaptureQueriesContext(connection) as queries:
        order.save()

    assert len(queries) == 1, [q["sql"] for q in queries]


def test_a_new_link_is_checked_in_one_query(mine):
    order = Order.objects.get(pk=mine.order.pk)
    order.cart_connection_id, order.warehouse_id = mine.cart.pk, mine.wms.pk
    order.merchant_id = mine.merchant.pk
    order._tenancy_stored = None  # as if built by hand: every link is checked

    with CaptureQueriesContext(connection) as queries:
        order.save()

    lookups = [q for q in queries if q["sql"].lstrip().upper().startswith("SELECT")]
    assert len(lookups) == 2  # the related rows' merchants (one query), the stored merchant (moved?)


def test_the_bulk_writer_refuses_a_batch_with_another_merchants_row(mine, theirs):
    good = Order(merchant=mine.merchant, cart_connection=mine.cart, warehouse=mine.wms, cart_order_id="B-1")
    bad = Order(merchant_id=mine.merchant.pk, cart_connection_id=mine.cart.pk, warehouse_id=theirs.wms.pk)
    bad.cart_order_id = "B-2"

    with pytest.raises(CrossMerchantLink):
        rows_insert(Order, [good, bad])

    assert not Order.objects.filter(cart_order_id__in=["B-1", "B-2"]).exists()


def test_the_audit_names_rows_made_by_bypassing_save(mine, theirs, capsys):
    CartConnection.objects.filter(pk=mine.cart.pk).update(warehouse=theirs.wms)
    Order.objects.filter(pk=mine.order.pk).update(warehouse=theirs.wms)

    found = tenancy_audit()

    assert set(found) == {"integrations.cartconnection", "orders.order"}
    assert found["integrations.cartconnection"]["count"] == 1
    assert (
        f"#{mine.cart.pk}: Warehouse connection #{theirs.wms.pk} belongs"
        in found["integrations.cartconnection"]["rows"][0]
    )
    with pytest.raises(CommandError, match="2 row"):
        call_command("tenancy_audit")
    assert f"#{mine.order.pk}" in capsys.readouterr().out


def test_the_audit_of_consistent_rows_finds_nothing(mine, theirs, capsys):
    call_command("tenancy_audit")

    assert "Every row links rows of its own merchant only" in capsys.readouterr().out


def test_the_factories_make_rows_of_one_merchant(db):
    line = OrderLineFactory()
    ShippingMethodMapFactory()
    order = line.order

    assert order.merchant_id == order.cart_connection.merchant_id == order.warehouse.merchant_id
    assert tenancy_audit() == {}
