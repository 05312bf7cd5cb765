"""`bench_dashboard` seeds a fleet and measures the admin's first page: the cards it counts are the
page's own, and it refuses a database with other merchants."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tests.factories import MerchantFactory


@pytest.mark.django_db
def test_it_measures_the_page_with_only_the_merchants_needing_a_look_as_cards():
    out = StringIO()
    call_command("bench_dashboard", merchants=60, failing=2, holding=3, json=True, stdout=out)

    figures = json.loads(out.getvalue().splitlines()[-1])
    assert figures["merchants"] == 60
    assert figures["merchant_cards"] == 5, "55 healthy merchants are over the listed few: counted, not carded"
    assert figures["queries"] > 0 and figures["page_seconds"] > 0


@pytest.mark.django_db
def test_it_refuses_a_database_with_other_merchants():
    MerchantFactory(slug="a-real-shop")

    with pytest.raises(CommandError, match="throwaway database"):
        call_command("bench_dashboard", merchants=5, failing=0, holding=0, stdout=StringIO())
