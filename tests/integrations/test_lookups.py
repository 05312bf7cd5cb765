"""A number no integer column holds, compared with an integer column or a foreign key, answers as
the column would (SQLite could not bind it: the page failed), on both databases."""

from __future__ import annotations

from orders.models import SKUAlias
from tests.factories import SKUAliasFactory

HUGE = 10**30


def test_in_leaves_out_what_no_column_holds(db):
    alias = SKUAliasFactory()

    assert list(SKUAlias.objects.filter(pk__in=[HUGE, alias.pk, -HUGE])) == [alias]
    assert list(SKUAlias.objects.filter(pk__in=[HUGE])) == []
    assert list(SKUAlias.objects.filter(merchant__in=[str(HUGE), alias.merchant_id])) == [alias]


def test_a_foreign_key_compared_with_a_number_beyond_its_range(db):
    alias = SKUAliasFactory()

    assert list(SKUAlias.objects.filter(merchant=HUGE)) == []
    assert list(SKUAlias.objects.filter(merchant=str(-HUGE))) == []
    assert list(SKUAlias.objects.filter(merchant__gt=HUGE)) == []
    assert list(SKUAlias.objects.filter(merchant__gte=-HUGE)) == [alias]
    assert list(SKUAlias.objects.filter(merchant__lt=HUGE)) == [alias]
    assert list(SKUAlias.objects.filter(merchant__lte=-HUGE)) == []
    assert list(SKUAlias.objects.filter(merchant=alias.merchant_id)) == [alias]
