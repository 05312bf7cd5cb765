"""django-q2 schedules follow the connections: one per active cart connection and kind, plus the globals."""

from __future__ import annotations

from django.core.management import call_command
from django.urls import reverse
from django_q.models import Schedule

from integrations.models import CartConnection
from sync.schedules import GLOBAL, PREFIX, schedule_name, schedules_reconcile
from tests.admin_helpers import form_values
from tests.factories import CartConnectionFactory


def ours() -> dict[str, Schedule]:
    return {s.name: s for s in Schedule.objects.filter(name__startswith=PREFIX)}


def test_one_schedule_per_active_cart_and_kind_at_its_interval_plus_the_globals(db):
    cart = CartConnectionFactory(orders_every_minutes=7, shipments_every_minutes=20, inventory_every_minutes=90)

    counts = schedules_reconcile()

    schedules = ours()
    assert set(schedules) == set(GLOBAL) | {schedule_name(k, cart.pk) for k in ("orders", "shipments", "inventory")}
    assert counts == {"created": 9, "updated": 0, "deleted": 0, "unchanged": 0}
    orders = schedules[schedule_name("orders", cart.pk)]
    assert (orders.func, orders.args, orders.schedule_type, orders.minutes, orders.repeats) == (
        "orders.tasks.sync_orders_task",
        f"({cart.pk},)",
        Schedule.MINUTES,
        7,
        -1,
    )
    assert schedules[schedule_name("shipments", cart.pk)].minutes == 20
    assert schedules[schedule_name("inventory", cart.pk)].minutes == 90
    assert schedules[f"{PREFIX}sweep"].func == "orders.tasks.sweep_task"
    assert schedules[f"{PREFIX}sweep"].minutes == 1
    daily = schedules[f"{PREFIX}reconcile"]
    assert (daily.func, daily.schedule_type, daily.minutes) == ("sync.tasks.reconcile_task", Schedule.MINUTES, 24 * 60)


def test_running_it_again_changes_nothing(db):
    CartConnectionFactory()
    schedules_reconcile()
    before = {name: (s.pk, s.minutes, s.next_run) for name, s in ours().items()}

    counts = schedules_reconcile()

    assert counts == {"created": 0, "updated": 0, "deleted": 0, "unchanged": 9}
    assert {name: (s.pk, s.minutes, s.next_run) for name, s in ours().items()} == before


def test_changing_an_interval_updates_only_that_schedule(db):
    cart = CartConnectionFactory()
    schedules_reconcile()
    CartConnection.objects.filter(pk=cart.pk).update(orders_every_minutes=2)

    counts = schedules_reconcile()

    assert counts["updated"] == 1 and counts["created"] == 0 and counts["deleted"] == 0
    assert ours()[schedule_name("orders", cart.pk)].minutes == 2


def test_deactivating_a_connection_deletes_its_schedules(db):
    cart, other = CartConnectionFactory(), CartConnectionFactory()
    schedules_reconcile()
    CartConnection.objects.filter(pk=cart.pk).update(active=False)

    counts = schedules_reconcile()

    assert counts["deleted"] == 3
    assert not any(name.endswith(f":cart:{cart.pk}") for name in ours())
    assert schedule_name("orders", other.pk) in ours()


def test_deactivating_the_merchant_deletes_its_schedules(db):
    cart = CartConnectionFactory()
    schedules_reconcile()
    cart.merchant.active = False
    cart.merchant.save()

    schedules_reconcile()

    assert set(ours()) == set(GLOBAL)


def test_a_cart_that_does_not_sync_inventory_has_no_inventory_schedule(db):
    cart = CartConnectionFactory(inventory_sync_enabled=False)

    schedules_reconcile()

    assert schedule_name("inventory", cart.pk) not in ours()
    assert schedule_name("orders", cart.pk) in ours()


def test_creating_a_connection_creates_its_schedules_once_committed(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        cart = CartConnectionFactory()

    assert schedule_name("orders", cart.pk) in ours()
    assert set(GLOBAL) <= set(ours())


def test_deactivating_a_connection_through_save_deletes_its_schedules(db, django_capture_on_commit_callbacks):
    cart = CartConnectionFactory()
    schedules_reconcile()

    with django_capture_on_commit_callbacks(execute=True):
        cart.active = False
        cart.save()

    assert schedule_name("orders", cart.pk) not in ours()


def test_an_interval_edited_in_the_admin_reaches_the_schedule(admin_client, db, django_capture_on_commit_callbacks):
    cart = CartConnectionFactory()
    schedules_reconcile()
    url = reverse("admin:integrations_cartconnection_change", args=[cart.pk])
    data = form_values(admin_client.get(url).content.decode(), "cartconnection_form")
    assert data["orders_every_minutes"] == ["5"], "the change page shows the interval"
    data["orders_every_minutes"] = ["3"]
    data["stuck_after_hours"] = ["48"]

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    cart.refresh_from_db()
    assert (cart.orders_every_minutes, cart.stuck_after_hours) == (3, 48)
    assert ours()[schedule_name("orders", cart.pk)].minutes == 3


def test_setup_schedules_prints_its_counts(db, capsys):
    CartConnectionFactory()

    call_command("setup_schedules")
    call_command("setup_schedules")

    out = capsys.readouterr().out.splitlines()
    assert out == [
        "schedules: 9 created, 0 updated, 0 deleted, 0 unchanged",
        "schedules: 0 created, 0 updated, 0 deleted, 9 unchanged",
    ]
