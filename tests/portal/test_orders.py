"""The merchant's orders: list and filters, detail, retry, payload preview, send a test order."""

from __future__ import annotations

import html
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.models import HoldCode, Order, OrderChange, OrderStatus, Shipment, WarehouseSKUList
from sync.models import Job
from tests.admin_helpers import form_values, import_order, messages_of
from tests.factories import (
    CartConnectionFactory,
    OrderChangeFactory,
    OrderFactory,
    OrderLineFactory,
    ProblemFactory,
    SKUAliasFactory,
)
from tests.portal.conftest import import_orders


def listed(response) -> list[str]:
    return [order.order_number for order in response.context["page"]]


class TestList:
    def test_shows_status_and_hold_reason(self, client, mine):
        OrderFactory(cart_connection=mine.cart, order_number="7001", status=OrderStatus.AT_WMS)

        response = client.get(reverse("portal:order_list"))

        page = response.content.decode()
        assert listed(response) == ["7001", "MINE-1001"]
        assert "held: unknown SKU" in page
        assert "The warehouse does not know SKU &#x27;MINE-LINE-SKU&#x27;" in page
        assert "at warehouse" in page

    def test_marks_the_hold_window_a_change_to_pass_on_and_a_change_not_applied(self, client, mine):
        waiting = OrderFactory(cart_connection=mine.cart, order_number="7101", status=OrderStatus.NEW)
        Order.objects.filter(pk=waiting.pk).update(hold_until=timezone.now() + timedelta(minutes=30))
        pending = OrderFactory(cart_connection=mine.cart, order_number="7102", status=OrderStatus.AT_WMS)
        OrderChangeFactory(order=pending)
        late = OrderFactory(cart_connection=mine.cart, order_number="7103", status=OrderStatus.AT_WMS)
        OrderChangeFactory(order=late, status=OrderChange.Status.TOO_LATE)
        ProblemFactory(
            cart_connection=mine.cart, order=late, key=f"order:{late.pk}:change", reason_code="change_not_applied"
        )
        OrderFactory(cart_connection=mine.cart, order_number="7104", status=OrderStatus.AT_WMS)

        response = client.get(reverse("portal:order_list"))

        rows = {o.order_number: o for o in response.context["page"]}
        marks = {n: (o.in_hold_window, o.change_pending, o.change_not_applied) for n, o in rows.items()}
        assert marks["7101"] == (True, False, False)
        assert marks["7102"] == (False, True, False)
        assert marks["7103"] == (False, False, True)
        assert marks["7104"] == (False, False, False)
        page = response.content.decode()
        assert page.count("hold window until") == 1
        assert page.count("change to pass on</span>") == 1
        assert page.count("change not applied</span>") == 1

    def test_filters_by_status_cart_and_search(self, client, mine):
        other_cart = CartConnectionFactory(merchant=mine.merchant, warehouse=mine.wms, name="Outlet")
        OrderLineFactory(order__cart_connection=other_cart, order__order_number="8001", cart_sku="MUG-1")
        OrderFactory(cart_connection=mine.cart, order_number="8002", status=OrderStatus.SHIPPED, cust_ref="R-8002")
        url = reverse("portal:order_list")

        assert listed(client.get(url, {"status": "error"})) == ["MINE-1001"]
        assert listed(client.get(url, {"connection": other_cart.pk})) == ["8001"]
        assert listed(client.get(url, {"q": "8002"})) == ["8002"]
        assert listed(client.get(url, {"q": "r-8002"})) == ["8002"]
        assert listed(client.get(url, {"q": "MUG-1"})) == ["8001"]
        assert listed(client.get(url, {"q": "MUG-1", "status": "shipped"})) == []

    def test_is_paginated_and_keeps_the_filters(self, client, mine):
        for n in range(60):
            OrderFactory(cart_connection=mine.cart, order_number=f"P{n:03}", status=OrderStatus.AT_WMS)
        url = reverse("portal:order_list")

        first = client.get(url, {"status": "at_wms"})
        second = client.get(url, {"status": "at_wms", "page": 2})

        assert len(listed(first)) == 50
        assert len(listed(second)) == 10
        assert "?status=at_wms&amp;page=2" in first.content.decode()


class TestDetail:
    def test_shows_lines_history_and_shipments(self, client, mine):
        order = mine.order
        order.events.create(message="Imported from Squarespace Commerce (order #MINE-1001).", code="imported")
        Shipment.objects.create(
            warehouse=mine.wms,
            order=order,
            warehouse_shipment_id="S-1",
            carrier="UPS",
            tracking_numbers=["1Z999"],
            tracking_url="https://ups.example/1Z999",
            shipped_at=timezone.now(),
        )

        page = client.get(reverse("portal:order_detail", args=[order.pk])).content.decode()

        assert "MINE-LINE-SKU" in page
        assert "Imported from Squarespace Commerce" in page
        assert '<a href="https://ups.example/1Z999" target="_blank" rel="noopener">1Z999</a>' in page
        assert "Retry now" in page
        assert reverse("portal:order_payload", args=[order.pk]) in page

    def test_a_delivered_order_offers_no_retry(self, client, mine):
        order = OrderFactory(cart_connection=mine.cart, status=OrderStatus.AT_WMS)

        page = client.get(reverse("portal:order_detail", args=[order.pk])).content.decode()

        assert "Retry now" not in page

    def test_an_unmapped_shipping_hold_links_to_the_warehouses_mappings(self, client, mine):
        order = OrderFactory(
            cart_connection=mine.cart,
            status=OrderStatus.ERROR,
            hold_code=HoldCode.UNMAPPED_SHIPPING,
            hold_reason="Shipping method 'Express Plus' has no warehouse code.",
            orig_ship_code="Express Plus",
        )

        page = client.get(reverse("portal:order_detail", args=[order.pk])).content.decode()

        link = reverse("portal:connection_edit", args=["warehouse", mine.wms.pk]) + "?cart_method=Express+Plus#shipping"
        assert link in page
        assert 'id="mapping-form"' in page and "<code>Express Plus</code>" in page
        mapping_page = client.get(link.removesuffix("#shipping")).content.decode()
        assert 'name="cart_method" value="Express Plus"' in mapping_page


class TestRetry:
    def test_retry_releases_a_held_order_once_its_cause_is_fixed_and_send_now_delivers_it_in_the_worker(
        self, wired_client, wired, django_capture_on_commit_callbacks
    ):
        held = import_order(wired, "9001", sku="TEE-BLK")
        wired.bergen.add_item("TEE-BLK", on_hand=5)
        WarehouseSKUList.objects.filter(warehouse=wired.wms).update(skus=["SKU-1", "TEE-BLK"])

        response = wired_client.post(reverse("portal:order_retry", args=[held.pk]), follow=True)

        [(level, text)] = messages_of(response)
        assert level == "success" and text.startswith("Order #9001 released: it passes every check now")
        held.refresh_from_db()
        assert held.status == OrderStatus.NEW
        assert wired.bergen.orders == []  # a retry sends nothing in the request

        with django_capture_on_commit_callbacks(execute=True):
            response = wired_client.post(reverse("portal:order_send", args=[held.pk]), follow=True)

        assert messages_of(response)[0][1] == "Send now: delivered 1 of 1."  # the job's summary (run inline)
        held.refresh_from_db()
        assert held.status == OrderStatus.AT_WMS
        assert wired.bergen.order(held.cust_ref)["poNum"] == "9001"

    def test_retry_keeps_it_held_while_the_cause_is_not_fixed(self, wired_client, wired):
        held = import_order(wired, "9002", sku="TEE-BLK")

        response = wired_client.post(reverse("portal:order_retry", args=[held.pk]), follow=True)

        [(level, text)] = messages_of(response)
        assert level == "warning"
        assert text.startswith("Order #9002 is still held: The warehouse does not know SKU 'TEE-BLK'")
        assert wired.bergen.orders == []

    def test_retry_is_post_only(self, client, mine):
        assert client.get(reverse("portal:order_retry", args=[mine.order.pk])).status_code == 405


class TestPayloadPreview:
    def test_a_pending_order_is_previewed_with_todays_aliases(self, wired_client, wired):
        held = import_order(wired, "9101", sku="TEE-BLK")
        SKUAliasFactory(merchant=wired.merchant, cart_sku="TEE-BLK", warehouse_sku="SKU-9")  # the order stays held

        response = wired_client.get(reverse("portal:order_payload", args=[held.pk]))

        payload = json.loads(response.context["payload_json"])
        assert payload["poNum"] == "9101"
        assert payload["referenceNum"] == held.cust_ref
        assert payload["orderItems"] == [{"itemIdentifier": {"sku": "SKU-9"}, "qty": 1}]
        assert payload["routingInfo"] == {"carrier": "UPS", "mode": "Ground"}
        assert "would receive if the order were sent now" in response.content.decode()
        held.refresh_from_db()
        assert held.status == OrderStatus.ERROR  # a preview changes nothing

    def test_a_delivered_order_shows_what_was_sent(self, wired_client, wired):
        [order] = import_orders(wired, ["9102"])
        assert order.status == OrderStatus.AT_WMS

        response = wired_client.get(reverse("portal:order_payload", args=[order.pk]))

        payload = json.loads(response.context["payload_json"])
        sent = wired.bergen.order(order.cust_ref)
        assert payload["referenceNum"] == sent["referenceNum"]
        assert payload["orderItems"][0]["itemIdentifier"] == {"sku": "SKU-1"}
        assert "What was sent to Bergen Logistics" in response.content.decode()

    def test_an_unusable_warehouse_connection_is_explained(self, client, mine):
        mine.wms.set_credentials({})
        mine.wms.save()

        response = client.get(reverse("portal:order_payload", args=[mine.order.pk]))

        assert "cannot format orders" in response.content.decode()


def sample_order_form(client) -> dict[str, list[str]]:
    return form_values(client.get(reverse("portal:test_order")).content.decode(), "test-order-form")


def test_order_job() -> Job:
    """The one test-order job (the test settings run it inline, as the worker would)."""
    [job] = Job.objects.filter(kind=Job.Kind.TEST_ORDER)
    return job


test_order_job.__test__ = False  # a helper, not a test


class TestSendTestOrder:
    def test_the_form_renders_with_a_test_address_and_the_mapped_methods(self, wired_client, wired):
        page = wired_client.get(reverse("portal:test_order")).content.decode()
        data = sample_order_form(wired_client)

        assert data["cart_connection"] == [str(wired.cart.pk)]
        assert data["ship_name"] == ["TEST ORDER do not ship"]
        assert '<option value="Standard">' in page

    def test_a_good_test_order_is_delivered_and_clearly_marked(self, wired_client, wired):
        data = sample_order_form(wired_client)
        data.update({"lines-0-sku": ["SKU-1"], "lines-0-quantity": ["2"], "ship_method": ["Standard"]})

        response = wired_client.post(reverse("portal:test_order"), data, follow=True)

        order = Order.objects.get(is_test=True)
        today = timezone.localdate().strftime("%Y%m%d")
        assert order.order_number == f"TEST-{today}-1"
        assert order.status == OrderStatus.AT_WMS
        job = test_order_job()
        assert response.redirect_chain[-1][0] == f"{reverse('portal:test_order')}?job={job.pk}#job"
        assert job.order_ids == [order.pk] and job.level == "success"
        assert job.summary == f"Test order TEST-{today}-1: Delivered to Bergen Logistics as TEST-{today}-1."
        assert job.summary in html.unescape(response.content.decode()), "the page shows how it went"
        sent = wired.bergen.order(f"TEST-{today}-1")
        assert sent["poNum"] == f"TEST-{today}-1"
        assert sent["shipTo"]["name"] == "TEST ORDER do not ship"
        assert [(i["itemIdentifier"]["sku"], i["qty"]) for i in sent["orderItems"]] == [("SKU-1", 2)]

    def test_an_unknown_sku_is_shown_as_held_with_the_reason_and_an_alias_to_add(self, wired_client, wired):
        data = sample_order_form(wired_client)
        data.update({"lines-0-sku": ["NOPE-1"], "lines-0-quantity": ["1"], "ship_method": ["Standard"]})

        response = wired_client.post(reverse("portal:test_order"), data, follow=True)

        job = test_order_job()
        assert job.level == "error"
        assert "was not delivered. Held: The warehouse does not know SKU 'NOPE-1'" in job.summary
        assert job.summary in html.unescape(response.content.decode())
        order = Order.objects.get(is_test=True)
        page = wired_client.get(reverse("portal:order_detail", args=[order.pk])).content.decode()
        assert f"{reverse('portal:alias_create')}?cart_sku=NOPE-1" in page, "its page offers the fix"
        assert order.status == OrderStatus.CANCELED  # closed: no sync sends it later
        assert wired.bergen.orders == []

    def test_an_unmapped_shipping_method_is_shown_as_held(self, wired_client, wired):
        data = sample_order_form(wired_client)
        data.update({"lines-0-sku": ["SKU-1"], "lines-0-quantity": ["1"], "ship_method": ["Teleport"]})

        response = wired_client.post(reverse("portal:test_order"), data, follow=True)

        job = test_order_job()
        assert job.level == "error" and "Shipping method 'Teleport' has no warehouse code" in job.summary
        assert response.status_code == 200

    def test_the_request_only_queues_it_and_the_page_follows_the_job(self, wired_client, wired, settings):
        settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}  # a real worker would take it later
        data = sample_order_form(wired_client)
        data.update({"lines-0-sku": ["SKU-1"], "lines-0-quantity": ["2"], "ship_method": ["Standard"]})
        wired.bergen.reset()

        response = wired_client.post(reverse("portal:test_order"), data, follow=True)

        assert wired.bergen.requests == [], "the warehouse is called by the worker, not in the request"
        job = test_order_job()
        assert job.state == Job.State.QUEUED and job.params["lines"] == [{"sku": "SKU-1", "quantity": 2}]
        page = response.content.decode()
        assert "Queued: waiting for a worker" in page and "data-job-button disabled" in page

    def test_another_merchants_job_is_not_followed(self, wired_client, wired, theirs):
        other = Job.objects.create(kind=Job.Kind.TEST_ORDER, merchant=theirs.merchant, summary="THEIR SECRET SUMMARY")

        page = wired_client.get(f"{reverse('portal:test_order')}?job={other.pk}").content.decode()

        assert "THEIR SECRET SUMMARY" not in page and 'id="job"' not in page

    @pytest.mark.parametrize(
        "lines, error",
        [
            ({}, "Give at least one SKU."),
            ({"lines-0-sku": ["SKU-1"], "lines-0-quantity": ["0"]}, "greater than or equal to 1"),
        ],
    )
    def test_the_form_needs_a_sku_and_a_quantity(self, client, mine, lines, error):
        data = sample_order_form(client)
        data.update(lines)

        response = client.post(reverse("portal:test_order"), data)

        assert response.status_code == 200
        assert error in response.content.decode()
        assert not Order.objects.filter(is_test=True).exists()
