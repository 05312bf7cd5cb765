"""Two real qcluster workers, sharing PostgreSQL, syncing the same merchant: each order once.

Runs with the ORM broker and with the Redis broker. The sandboxes run in this test process; the
workers and the task producer are separate processes using the test database.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from orders.models import Order, OrderStatus

ROOT = Path(__file__).resolve().parents[2]
ORDERS = 40


def _redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=0.5):
            return True
    except OSError:
        return False


def _env(broker: str) -> dict[str, str]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "Q_WORKERS": "2",
        "DELIVERY_CONCURRENCY": "2",
    }
    env.pop("REDIS_URL", None)
    if broker == "redis":
        env["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    return env


def _manage(env: dict[str, str], *args: str, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "manage.py", *args], cwd=ROOT, env=env, **kwargs)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("broker", ["orm", "redis"])
def test_two_workers_deliver_each_order_once(broker, wired):
    if connection.vendor != "postgresql":
        pytest.skip("several workers on several machines share PostgreSQL; run with DATABASE_URL=postgres://…")
    if broker == "redis" and not _redis_up():
        pytest.skip("no Redis on 127.0.0.1:6379")
    placed = timezone.now() - timedelta(hours=1)
    address = {
        "firstName": "Ada",
        "lastName": "L",
        "address1": "1 St",
        "city": "Newark",
        "state": "NJ",
        "countryCode": "US",
        "postalCode": "07102",
    }
    for number in range(ORDERS):
        wired.squarespace.add_order(
            order_number=str(5000 + number),
            created_on=placed,
            modified_on=placed,
            lines=[{"sku": "SKU-1", "quantity": 1, "price": "1.00", "name": "One"}],
            shipping_address=address,
        )
    env = _env(broker)
    workers = [_manage(env, "qcluster", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        # Many sync tasks for the same connection, enqueued at once: the workers race for them.
        enqueue = (
            "from django_q.tasks import async_task\n"
            f"for _ in range(12): async_task('orders.tasks.sync_orders_task', {wired.cart.pk}, False)\n"
        )
        producer = _manage(env, "shell", "-c", enqueue, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert producer.wait(timeout=60) == 0, producer.stderr.read().decode()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if Order.objects.filter(cart_connection=wired.cart, status=OrderStatus.AT_WMS).count() == ORDERS:
                break
            time.sleep(0.5)
        time.sleep(2)  # let any straggling task finish its run
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()

    assert Order.objects.filter(cart_connection=wired.cart).count() == ORDERS
    assert Order.objects.filter(cart_connection=wired.cart, status=OrderStatus.AT_WMS).count() == ORDERS
    assert wired.bergen.duplicate_count() == 0
    assert sorted(wired.bergen.orders_by_reference()) == sorted(
        Order.objects.filter(cart_connection=wired.cart).values_list("cust_ref", flat=True)
    )
    assert all(len(found) == 1 for found in wired.bergen.orders_by_reference().values())
