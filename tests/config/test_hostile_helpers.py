"""The hostile-input tests' own checks can fail: a form is read as a browser submits it, and a stored
value PostgreSQL would refuse is found (on SQLite, which takes it)."""

from __future__ import annotations

import pytest
from django.db import connection

from orders.models import SKUAlias, SyncRun
from tests.factories import SKUAliasFactory
from tests.hostile import Assault, html_forms, unstorable_rows, with_choices, with_hostile

PAGE = """
<form method="post" action="save/" id="f">
  <input type="hidden" name="csrfmiddlewaretoken" value="t">
  <input name="sku" value="A-1"><input type="checkbox" name="active" checked><input type="checkbox" name="gone">
  <select name="kind"><option value="cart">Cart</option><option value="warehouse" selected>Warehouse</option></select>
  <textarea name="note">
hello</textarea>
  <button type="submit" name="action" value="test">Save and test</button><button type="button">no</button>
</form>
<form method="get"><input name="q"></form>
"""


def test_a_form_is_read_as_a_browser_submits_it():
    post, search = html_forms(PAGE, "/merchant/aliases/1/")

    assert (post.method, post.action, search.method, search.action) == (
        "post",
        "/merchant/aliases/1/save/",
        "get",
        "/merchant/aliases/1/",
    )
    assert post.pairs == [
        ("csrfmiddlewaretoken", "t"),
        ("sku", "A-1"),
        ("active", "on"),
        ("kind", "warehouse"),
        ("note", "hello"),
    ]
    assert post.targets == ["sku", "active", "gone", "kind", "note"]
    assert post.buttons == [("action", "test")]
    assert post.options == {"kind": ["cart", "warehouse"]}


def test_a_hostile_value_goes_in_one_field_or_every_field_and_selects_can_switch():
    [post, _] = html_forms(PAGE, "/p/")

    one = with_hostile(post.pairs, post.targets, Assault(b"\x00", everywhere=False, pick=2))
    every = with_hostile(post.pairs, post.targets, Assault(b"\x00", everywhere=True))
    switched = with_choices(post, post.pairs, Assault(b"x", everywhere=False, pick=0, choice=1))

    assert ("gone", b"\x00") in one and ("sku", "A-1") in one
    assert {name for name, value in every if value == b"\x00"} == set(post.targets)
    assert ("kind", "cart") in switched and ("kind", "warehouse") not in switched


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL refuses to store these at all")
def test_what_postgresql_would_refuse_is_found_when_sqlite_stored_it(db):
    merchant = SKUAliasFactory(cart_sku="A\x00B").merchant
    SKUAlias.objects.create(merchant=merchant, cart_sku="L" * 201, warehouse_sku="W")
    SyncRun.objects.create(kind=SyncRun.Kind.ORDERS, merchant=merchant, counts={"held\x00": 1})

    found = unstorable_rows()

    assert sorted(row.split(":")[0] for row in found) == [
        "orders.SKUAlias.cart_sku",
        "orders.SKUAlias.cart_sku",
        "orders.SyncRun.counts",
    ]
