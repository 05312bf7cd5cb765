"""`manage.py bench_fleet` refuses what it cannot do honestly, with the reason (the run itself is a benchmark,
run by hand: docs/benchmark.md)."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from tests.factories import MerchantFactory


@pytest.mark.django_db
def test_a_database_with_other_merchants_is_refused():
    MerchantFactory(slug="acme")
    with pytest.raises(CommandError, match="1 merchant\\(s\\) besides the fleet's"):
        call_command("bench_fleet", "--merchants", "2", "--minutes", "1", "--no-webhooks")


@pytest.mark.django_db
@pytest.mark.parametrize("argument", [["--minutes", "0"], ["--minutes", "9"], ["--merchants", "0"]])
def test_out_of_range_arguments_are_refused(argument):
    options = {"--merchants": "2", "--minutes": "1"}
    options[argument[0]] = argument[1]
    with pytest.raises(CommandError, match="invalid"):
        call_command("bench_fleet", *[part for pair in options.items() for part in pair], "--no-webhooks")
