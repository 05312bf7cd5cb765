"""No parcel missed because of a time zone: a warehouse writing its ship dates in its own time, behind
UTC (Los Angeles) or ahead of it (Auckland), against the Bergen sandbox. With the zone not set, every
parcel shipped after the last run is read by the next one, and none is counted or pushed twice; with
it set, the window is the normal one and the parcels' times are right."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from integrations.models import WMSConnection
from integrations.zones import TIME_ZONE_UNSET_NOTE
from orders.models import OrderStatus, Shipment
from orders.services.tracking.shipments import shipment_window
from sandbox.bergen import BergenSandbox
from tests.admin_helpers import form_values
from tests.factories import WMSConnectionFactory
from tests.orders.tracking_helpers import ago, deliver, fulfillment_posts, package, run_shipments
from tests.portal.conftest import client_of, merchant_user

ZONES = ["America/Los_Angeles", "Pacific/Auckland"]


@pytest.fixture(params=ZONES)
def zoned(request, wired):
    """The wired merchant, its warehouse a Bergen sandbox writing every time in `request.param`."""
    with BergenSandbox(time_zone=request.param) as sandbox:
        for sku in ("SKU-1", "SKU-2"):
            sandbox.add_item(sku, on_hand=50)
        wired.wms.api_base_url = sandbox.base_url
        wired.wms.settings = {**wired.wms.settings, "account_web_address": sandbox.base_url}
        wired.wms.save()
        yield dataclasses.replace(wired, bergen=sandbox)


def ship_after_the_last_run(zoned) -> tuple[datetime, list[datetime]]:
    """Two orders shipped after a run that read up to two hours ago: one a second after it, one a
    minute ago. Returns (the last run's watermark, the real ship times)."""
    first, second = deliver(zoned, "5001"), deliver(zoned, "5002")
    watermark = ago(hours=2).replace(microsecond=0)
    zoned.wms.shipment_watermark = watermark
    zoned.wms.save(update_fields=["shipment_watermark"])
    times = [watermark + timedelta(seconds=1), ago(minutes=1).replace(microsecond=0)]
    zoned.bergen.ship_order(first.cust_ref, [package("1ZEARLY", ("SKU-1", 1))], ship_date=times[0])
    zoned.bergen.ship_order(second.cust_ref, [package("1ZLATE", ("SKU-1", 1))], ship_date=times[1])
    return watermark, times


def shipped_at_the_warehouse(sandbox: BergenSandbox) -> set[str]:
    """Every tracking number the warehouse's own store lists: what the runs must have read."""
    return {row["trackingNumber"] for row in sandbox.tracking}


def test_with_the_zone_not_set_every_parcel_shipped_after_the_last_run_is_read_by_the_next(zoned):
    watermark, _ = ship_after_the_last_run(zoned)
    # Read as UTC, one of the two lies outside the plain window: Los Angeles writes the early one
    # seven hours before the watermark, Auckland the late one thirteen hours after now.
    plain = (watermark - timedelta(seconds=settings.ORDER_IMPORT_OVERLAP_SECONDS), timezone.now())
    written = [datetime.fromisoformat(row["shipDate"]).replace(tzinfo=UTC) for row in zoned.bergen.tracking]
    assert not all(plain[0] <= moment < plain[1] for moment in written)

    warehouse_run, cart_run = run_shipments(zoned)

    assert warehouse_run.counts["shipments"] == 2, warehouse_run.error
    assert {n for s in Shipment.objects.filter(warehouse=zoned.wms) for n in s.tracking_numbers} == (
        shipped_at_the_warehouse(zoned.bergen)
    )
    assert warehouse_run.window_start == watermark - timedelta(seconds=settings.ORDER_IMPORT_OVERLAP_SECONDS, hours=12)
    zoned.wms.refresh_from_db()
    assert warehouse_run.window_end - zoned.wms.shipment_watermark == timedelta(hours=14)
    assert zoned.wms.shipment_watermark < timezone.now()  # advanced by real time only
    assert cart_run.counts["shipments_pushed"] == 2, cart_run.error


def test_parcels_read_again_by_the_wide_window_are_neither_counted_nor_pushed_twice(zoned):
    ship_after_the_last_run(zoned)
    run_shipments(zoned)

    again, cart_again = run_shipments(zoned)

    assert again.counts.get("shipments", 0) == 0
    assert again.counts["known"] == 2  # both still inside the widened window, recognised by id
    assert cart_again.counts.get("shipments_pushed", 0) == 0
    assert Shipment.objects.filter(warehouse=zoned.wms).count() == 2
    assert len(fulfillment_posts(zoned.squarespace)) == 2
    assert set(zoned.wms.orders.values_list("status", flat=True)) == {OrderStatus.CONFIRMED}


def test_with_the_zone_set_the_window_is_the_normal_one_and_the_times_are_right(zoned):
    zoned.wms.time_zone = zoned.bergen.zone.key
    zoned.wms.save()
    watermark, times = ship_after_the_last_run(zoned)

    warehouse_run, _ = run_shipments(zoned)

    zoned.wms.refresh_from_db()
    assert warehouse_run.counts["shipments"] == 2, warehouse_run.error
    assert warehouse_run.window_start == watermark - timedelta(seconds=settings.ORDER_IMPORT_OVERLAP_SECONDS)
    assert warehouse_run.window_end == zoned.wms.shipment_watermark
    stored = {s.tracking_numbers[0]: s.shipped_at for s in Shipment.objects.filter(warehouse=zoned.wms)}
    assert stored == {"1ZEARLY": times[0], "1ZLATE": times[1]}


def test_the_window_widens_by_26_hours_until_the_zone_is_set(db):
    now = timezone.now()
    warehouse = WMSConnectionFactory(shipment_watermark=now - timedelta(hours=1))
    lag, overlap = (
        timedelta(seconds=s) for s in (settings.ORDER_IMPORT_LAG_SECONDS, settings.ORDER_IMPORT_OVERLAP_SECONDS)
    )

    unset = shipment_window(warehouse=warehouse, now=now)
    warehouse.time_zone = "Asia/Tokyo"
    known = shipment_window(warehouse=warehouse, now=now)

    assert (unset.since, unset.until, unset.read_up_to) == (
        now - timedelta(hours=13) - overlap,
        now - lag + timedelta(hours=14),
        now - lag,
    )
    assert (known.since, known.until, known.read_up_to) == (now - timedelta(hours=1) - overlap, now - lag, now - lag)
    assert (unset.until - unset.since) - (known.until - known.since) == timedelta(hours=26)


def test_the_admin_and_the_merchant_page_say_the_zone_is_not_set_until_it_is(wired, admin_client):
    merchant = client_of(merchant_user(wired.merchant))
    admin_url = reverse("admin:integrations_wmsconnection_change", args=[wired.wms.pk])
    portal_url = reverse("portal:connection_edit", args=["warehouse", wired.wms.pk])

    assert TIME_ZONE_UNSET_NOTE in admin_client.get(admin_url).content.decode()
    assert TIME_ZONE_UNSET_NOTE in merchant.get(portal_url).content.decode()

    WMSConnection.objects.filter(pk=wired.wms.pk).update(time_zone="Europe/Amsterdam")

    assert TIME_ZONE_UNSET_NOTE not in admin_client.get(admin_url).content.decode()
    assert TIME_ZONE_UNSET_NOTE not in merchant.get(portal_url).content.decode()


def test_the_merchant_sets_the_warehouse_time_zone_from_a_list_of_known_names(wired):
    merchant = client_of(merchant_user(wired.merchant))
    url = reverse("portal:connection_edit", args=["warehouse", wired.wms.pk])
    data = form_values(merchant.get(url).content.decode(), "connection-form")

    refused = merchant.post(url, {**data, "time_zone": ["Mars/Olympus_Mons"]})
    wired.wms.refresh_from_db()
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert wired.wms.time_zone == ""

    merchant.post(url, {**data, "time_zone": ["Pacific/Auckland"]})
    wired.wms.refresh_from_db()
    assert wired.wms.time_zone == "Pacific/Auckland"
    assert wired.wms.zone is not None and wired.wms.time_zone_note == ""
