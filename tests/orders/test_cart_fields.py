"""What we keep of the cart's payload is JSON both databases accept: no NUL characters (PostgreSQL
refuses them in text), no NaN or infinities (not JSON at all), and what is not JSON as its repr."""

from __future__ import annotations

import json
import math

import pytest

from orders.models import Order
from orders.services.translation.cart_fields import jsonable
from tests.factories import OrderFactory


def test_a_clean_payload_is_kept_as_it_is_with_the_text_its_check_made():
    payload = {"id": "A1", "lines": [{"qty": 2, "price": 9.5}], "note": None}

    kept = jsonable(payload)

    assert kept == payload and kept["lines"] is payload["lines"]
    assert json.loads(kept.json_text) == payload  # what the bulk insert stores instead of encoding it again
    assert jsonable([1, "two"]) == [1, "two"]


def test_nul_characters_are_taken_out_of_keys_and_values():
    assert jsonable({"na\x00me": ["Ada\x00", {"x": "y\x00"}]}) == {"name": ["Ada", {"x": "y"}]}


def test_nan_and_infinities_are_kept_as_text_and_the_rest_untouched():
    kept = jsonable({"id": math.inf, "total": [-math.inf, math.nan, 1.5], "name": "Ada\x00"})

    assert kept == {"id": "inf", "total": ["-inf", "nan", 1.5], "name": "Ada"}
    json.dumps(kept, allow_nan=False)  # strict JSON now


def test_what_is_not_json_is_kept_as_its_repr():
    circular: list = []
    circular.append(circular)

    assert jsonable({"when": object}) == repr({"when": object})
    assert jsonable(circular) == "[[...]]"


@pytest.mark.django_db
def test_a_payload_with_an_infinity_is_stored_and_read_back():
    order = OrderFactory(cart_payload=jsonable({"id": math.inf, "n": "1"}))

    assert Order.objects.get(pk=order.pk).cart_payload == {"id": "inf", "n": "1"}
