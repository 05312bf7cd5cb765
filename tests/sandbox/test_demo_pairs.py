"""Every pair the setup guides name runs the whole cycle end to end against the sandboxes."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from orders.models import Order, OrderStatus, Shipment

PAIRS = [
    ("squarespace", "bergen"),
    ("tradegecko", "bergen"),
    ("quickbooks_commerce", "bergen"),
    ("overstock", "tradegecko"),
    ("squarespace", "tradegecko"),
]


def demo(cart: str, wms: str) -> dict:
    out = StringIO()
    call_command("demo", "--cart", cart, "--wms", wms, "--json", stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("cart", "wms"), PAIRS)
def test_each_pair_runs_the_whole_cycle_once(cart, wms):
    first = demo(cart, wms)

    reconciled = first.pop("reconcile")
    assert all(isinstance(value, int) for value in first.values())
    # Ended with a reconciliation while the sandboxes were up: every cart order accounted for.
    assert reconciled["connections"] == 1 and reconciled["unreadable"] == 0
    assert reconciled["gaps"] == 0, reconciled
    assert reconciled["delivered_once"] == first["delivered"]
    assert first["imported"] >= 5
    assert first["delivered"] == first["warehouse_orders"] >= 3
    assert first["held"] >= 1
    assert first["warehouse_duplicates"] == 0
    assert first["shipments_pushed"] >= 3  # including the order shipped in two parcels
    assert first["tracking_duplicates"] == 0
    if cart == "overstock":  # its inventory upload is unconfirmed: off until a person turns it on
        assert first["inventory_pushed"] == 0
    else:
        assert first["inventory_pushed"] >= 1
    held = Order.objects.filter(cart_connection__platform=cart, status=OrderStatus.ERROR)
    assert "unknown_sku" in set(held.values_list("hold_code", flat=True))
    two_parcels = Order.objects.get(cart_connection__platform=cart, order_number="1001")
    assert Shipment.objects.filter(order=two_parcels).count() == 2
    assert two_parcels.status == OrderStatus.CONFIRMED

    again = demo(cart, wms)

    assert again["imported"] == 0
    assert again["delivered"] == 0
    assert again["warehouse_duplicates"] == 0
