"""The merchant pages say "connected" only after a passing test, and what each last sync did."""

from __future__ import annotations

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from integrations.models import SyncOutcome
from orders.models import SyncRun
from tests.admin_helpers import messages_of
from tests.factories import SyncRunFactory


def failed_test(connection, message: str = "401 Unauthorized: the API key was refused.") -> None:
    type(connection).objects.filter(pk=connection.pk).update(
        last_test_at=timezone.now(), last_test_ok=False, last_test_message=message
    )


def test_a_failed_test_reads_not_connected_everywhere_the_connection_is_shown(client, mine):
    failed_test(mine.wms)

    pages = [
        client.get(reverse("portal:home")).content.decode(),
        client.get(reverse("portal:connection_list")).content.decode(),
        client.get(reverse("portal:connection_edit", args=["warehouse", mine.wms.pk])).content.decode(),
    ]

    for page in pages:
        assert '<span class="badge bad">not connected</span>' in page
        assert "Test connection failed: 401 Unauthorized" in page


def test_a_never_tested_connection_is_not_called_connected(client, mine):
    page = client.get(reverse("portal:connection_list")).content.decode()

    assert '<span class="badge warn">not connected yet</span>' in page
    assert '<span class="badge ok">connected</span>' not in page


def test_saving_and_testing_with_a_refused_key_never_says_connected(wired_client, wired):
    type(wired.cart).objects.filter(pk=wired.cart.pk).update(last_test_ok=None)
    wired.cart.set_credentials({"api_key": "wrong-key-0042"})
    wired.cart.save()

    response = wired_client.post(reverse("portal:connection_test", args=["cart", wired.cart.pk]), follow=True)

    [(level, text)] = messages_of(response)
    assert level == "error"
    assert text.startswith("Squarespace Commerce is not connected. Test connection failed:")
    assert "401" in text
    page = response.content.decode()
    assert '<span class="badge bad">not connected</span>' in page
    assert "untested-permissions" not in page


def test_a_passing_test_says_connected_and_what_it_could_not_check(wired_client, wired):
    response = wired_client.post(reverse("portal:connection_test", args=["cart", wired.cart.pk]), follow=True)

    page = response.content.decode()
    assert '<span class="badge ok">connected</span>' in page
    assert 'id="untested-permissions"' in page
    assert "Orders and Inventory “Read and Write”" in page


def test_the_last_sync_says_what_each_kind_of_run_did(client, mine):
    earlier = timezone.now() - timedelta(minutes=5)
    SyncRunFactory(
        cart_connection=mine.cart, warehouse=None, finished_at=earlier, counts={"imported": 6, "held": 4, "pages": 1}
    )
    SyncRunFactory(cart_connection=mine.cart, warehouse=None, kind=SyncRun.Kind.SHIPMENTS, counts={})

    page = client.get(reverse("portal:home")).content.decode()

    assert "<strong>Orders:</strong> imported 6, held 4 " in page
    assert "<strong>Tracking:</strong> found nothing to do" in page
    assert "nothing new" not in page
    assert "pages" not in page


def test_a_failed_run_gives_its_reason_not_nothing_to_do(client, mine):
    SyncRunFactory(
        cart_connection=mine.cart,
        warehouse=None,
        status=SyncOutcome.FAILED,
        counts={},
        error="Squarespace refused the API key (401): enter a new key.\nmore detail",
    )

    page = client.get(reverse("portal:connection_edit", args=["cart", mine.cart.pk])).content.decode()

    assert "<strong>Orders:</strong> failed: Squarespace refused the API key (401): enter a new key." in page
    assert "found nothing to do" not in page


def test_a_partial_run_shows_its_counts_and_its_problem(client, mine):
    SyncRunFactory(
        cart_connection=mine.cart,
        warehouse=None,
        status=SyncOutcome.PARTIAL,
        counts={"imported": 2, "delivered": 1},
        error="1 order not delivered: the warehouse timed out.",
    )

    page = client.get(reverse("portal:home")).content.decode()

    assert "imported 2, delivered 1 (succeeded with problems: 1 order not delivered: the warehouse timed out.)" in page
