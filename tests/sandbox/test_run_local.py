"""`make run`: the long-running sandboxes keep their records across a restart, the demo merchants are
created once and reach them, and the supervisor (`run_local`) leaves no process behind on Ctrl-C.

The commands run as real processes on the test database (a file copy of the in-memory SQLite one, or
the PostgreSQL test database), on free loopback ports, with their state file in a temporary directory.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.db import connections

from integrations.models import CartConnection, Merchant, WMSConnection
from integrations.services import connection_test
from orders.models import Order, OrderStatus
from sandbox.bergen import BergenSandbox
from sandbox.local import SIDES, local_sides
from sandbox.management.commands.run_local import group_members
from sandbox.management.commands.serve_sandboxes import READY
from sandbox.state import StateFile, StateFileError, decode, encode, sandbox_restore, sandbox_snapshot
from sync.cycle import cart_connection_sync_orders

ROOT = Path(__file__).resolve().parents[2]
REL_ORDER = "http://api.3plCentral.com/rels/orders/order"


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


def database_url() -> str:
    db = connections["default"].settings_dict
    if connections["default"].vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def local_env(shared_database, tmp_path) -> dict[str, str]:
    """The environment of a `make run` on this test database, on free ports."""
    ports = free_ports(len(SIDES) + 1)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.test_settings",
        "DATABASE_URL": database_url(),
        "PYTHONUNBUFFERED": "1",
        "PORT": str(ports[-1]),
        "SANDBOX_STATE_FILE": str(tmp_path / "sandboxes.json"),
    }
    env.update({f"SANDBOX_PORT_{name.upper()}": str(port) for name, port in zip(SIDES, ports, strict=False)})
    return env


class Process:
    """A manage.py command as a child process, its output in a file."""

    def __init__(self, env: dict[str, str], log: Path, *command: str) -> None:
        self.log = log
        self._out = log.open("w")
        self.process = subprocess.Popen(
            [sys.executable, "manage.py", *command], cwd=ROOT, env=env, stdout=self._out, stderr=subprocess.STDOUT
        )

    def output(self) -> str:
        return self.log.read_text()

    def wait_for(self, text: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while text not in self.output():
            assert self.process.poll() is None, f"exited {self.process.returncode}:\n{self.output()}"
            assert time.monotonic() < deadline, f"no {text!r} after {seconds} s:\n{self.output()}"
            time.sleep(0.1)

    def stop(self, signum: int = signal.SIGTERM, seconds: float = 30) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signum)
        try:
            return self.process.wait(seconds)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            self._out.close()


def web_answers(url: str, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=5).ok:
                return True
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    return False


def bergen_references(base_url: str) -> set[str]:
    """The referenceNums of every order the Bergen sandbox holds, read through its own API."""
    token = requests.post(
        f"{base_url}/AuthServer/api/Token",
        auth=("sandbox-user", "sandbox-pass"),
        json={"grant_type": "client_credentials"},
        timeout=5,
    ).json()["access_token"]
    answer = requests.get(
        f"{base_url}/orders",
        params={"pgsiz": 100, "pgnum": 1},
        headers={"Authorization": f"Bearer {token}", "Accept": "application/hal+json"},
        timeout=5,
    )
    answer.raise_for_status()
    return {order["referenceNum"] for order in answer.json().get("_embedded", {}).get(REL_ORDER, [])}


def test_a_sandboxs_records_come_back_equal_from_the_state_file(tmp_path):
    sides = local_sides(dict.fromkeys(SIDES, 0))
    for side in sides.values():
        side.seed()
    sides["bergen"].sandbox.store_order(
        {
            "customerIdentifier": {"name": "DEMO"},
            "facilityIdentifier": {"name": "NJ"},
            "referenceNum": "REF-1",
            "shipTo": {"name": "Ada", "address1": "1 Way", "city": "Newark", "zip": "07102", "country": "US"},
            "orderItems": [{"itemIdentifier": {"sku": "MUG-WHITE"}, "qty": 1}],
        }
    )
    state = StateFile(tmp_path / "state.json")
    assert state.save({name: side.sandbox for name, side in sides.items()}) is True
    assert state.save({name: side.sandbox for name, side in sides.items()}) is False  # nothing changed

    stored = StateFile(tmp_path / "state.json").load()
    for name, side in local_sides(dict.fromkeys(SIDES, 0)).items():
        sandbox_restore(side.sandbox, stored[name])
        assert sandbox_snapshot(side.sandbox) == sandbox_snapshot(sides[name].sandbox), name
    restored = BergenSandbox()
    sandbox_restore(restored, stored["bergen"])
    assert list(restored.orders_by_reference()) == ["REF-1"]


def test_the_state_file_creates_no_object_from_outside_the_sandboxes(tmp_path):
    assert decode(encode({(1, 2): {"a"}})) == {(1, 2): {"a"}}
    with pytest.raises(StateFileError, match="only the sandboxes' own record classes"):
        decode({"$object": "subprocess.Popen", "$state": {}})
    broken = tmp_path / "state.json"
    broken.write_text("{not json")
    with pytest.raises(StateFileError, match="delete it to start"):
        StateFile(broken).load()


def test_orders_at_the_warehouse_survive_a_restart_and_the_demo_merchant_is_created_once(local_env, tmp_path):
    first = Process(local_env, tmp_path / "first.log", "serve_sandboxes", "--save-every", "0.2")
    try:
        first.wait_for(READY)
        assert "Demo merchant demo created" in first.output()
        cart = CartConnection.objects.get(merchant__slug="demo")
        run = cart_connection_sync_orders(connection=cart)
        delivered = set(
            Order.objects.filter(cart_connection=cart, status=OrderStatus.AT_WMS).values_list("cust_ref", flat=True)
        )
        assert run.counts["delivered"] == len(delivered) >= 3, run.counts
        bergen_url = cart.warehouse.api_base_url
        assert bergen_references(bergen_url) == delivered
    finally:
        assert first.stop(signal.SIGTERM) == 0, first.output()
    assert "Sandbox records saved" in first.output() or Path(local_env["SANDBOX_STATE_FILE"]).exists()

    second = Process(local_env, tmp_path / "second.log", "serve_sandboxes")
    try:
        second.wait_for(READY)
        assert "bergen sandbox at" in second.output() and "(records restored)" in second.output()
        assert "Demo merchant" not in second.output()  # neither created again nor re-pointed
        assert bergen_references(bergen_url) == delivered
        assert Merchant.objects.filter(slug__startswith="demo").count() == 3
        assert CartConnection.objects.filter(merchant__slug="demo").count() == 1
        assert WMSConnection.objects.filter(merchant__slug="demo").count() == 1
        # Every wired connection's Test connection passes against the running sandboxes.
        wired = [*CartConnection.objects.all(), *WMSConnection.objects.all()]
        assert len(wired) == 6
        for connection in wired:
            result = connection_test(connection=connection)
            assert result.ok, f"{connection}: {result.message}"
    finally:
        assert second.stop(signal.SIGINT) == 0, second.output()


def test_run_local_stops_every_process_it_started_on_sigint(local_env, tmp_path):
    supervisor = Process(local_env, tmp_path / "run.log", "run_local", "--stop-timeout", "20")
    try:
        supervisor.wait_for("Orderbridge is running at", seconds=90)
        groups = [int(line.rsplit(" ", 1)[1]) for line in supervisor.output().splitlines() if "process group" in line]
        assert len(groups) == 3, supervisor.output()
        assert web_answers(f"http://127.0.0.1:{local_env['PORT']}/admin/login/"), supervisor.output()
        started = {group: group_members(group) for group in groups}
        assert all(started.values()), started
        assert sum(len(members) for members in started.values()) > 3  # the worker's own processes too
        assert "user admin, password orderbridge-demo" in supervisor.output()
    finally:
        code = supervisor.stop(signal.SIGINT, seconds=60)
    assert code == 0, supervisor.output()
    assert {group: group_members(group) for group in groups} == {group: [] for group in groups}
    assert "Stopped: sandboxes, worker and web server." in supervisor.output()
