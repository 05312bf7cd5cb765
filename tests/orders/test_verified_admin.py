"""What the admin shows of read-back: each sync run's Verified and Unverified counts, in the list and
on the run's page, and a shipment the cart does not show under a status a person can read."""

from __future__ import annotations

from django.urls import reverse

from orders.models import Shipment, SyncRun
from tests.factories import ShipmentFactory, SyncRunFactory


def test_the_run_list_shows_verified_and_unverified_and_zero_for_a_run_that_counts_none(admin_client):
    counted = SyncRunFactory(
        kind=SyncRun.Kind.SHIPMENTS, counts={"shipments_pushed": 9, "verified": 7, "unverified": 2}
    )
    older = SyncRunFactory(counts={"imported": 3})

    page = admin_client.get(reverse("admin:orders_syncrun_changelist"))

    assert page.status_code == 200
    html = page.content.decode()
    assert ">Verified<" in html and ">Unverified<" in html
    rows = {row.pk: row for row in page.context["cl"].result_list}
    model_admin = page.context["cl"].model_admin
    assert (model_admin.verified(rows[counted.pk]), model_admin.unverified(rows[counted.pk])) == (7, 2)
    assert (model_admin.verified(rows[older.pk]), model_admin.unverified(rows[older.pk])) == (0, 0)


def test_the_run_page_shows_verified_and_unverified(admin_client):
    run = SyncRunFactory(kind=SyncRun.Kind.SHIPMENTS, counts={"verified": 41, "unverified": 3})

    page = admin_client.get(reverse("admin:orders_syncrun_change", args=[run.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert "Verified" in html and "41" in html and "Unverified" in html


def test_an_unverified_shipment_reads_as_sent_but_not_shown_by_the_cart(admin_client):
    parcel = ShipmentFactory(
        push_status=Shipment.PushStatus.UNVERIFIED,
        last_push_error="Sent tracking 1Z1; the cart's order shows no tracking number.",
    )

    order_page = admin_client.get(reverse("admin:orders_order_change", args=[parcel.order_id]))
    listing = admin_client.get(reverse("admin:orders_shipment_changelist"), {"push_status": "unverified"})

    assert order_page.status_code == 200 and listing.status_code == 200
    assert "sent, but not shown by the cart" in order_page.content.decode()
    assert "the cart&#x27;s order shows no tracking number" in order_page.content.decode()
    assert list(listing.context["cl"].result_list) == [parcel]
