"""Integer comparisons with a number no integer column holds answer as the column would.

Since Django 5.0, `exact`, `gt`, `lt` and the like on an integer column answer a value beyond the
column's range as matching nothing (or everything) instead of sending it. `in`, and every lookup
through a foreign key (`merchant=`, `merchant__in=`), still send it, and SQLite cannot bind an
integer past 64 bits (OverflowError). A number typed in a form or an address (an admin list filter,
a multiple choice such as a group's permissions, the rows of an admin action) then failed the page.
Registered by the integrations app for every integer column and foreign key.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet, FullResultSet
from django.db.models import ForeignObject, IntegerField
from django.db.models.fields.related_lookups import (
    RelatedExact,
    RelatedGreaterThan,
    RelatedGreaterThanOrEqual,
    RelatedIn,
    RelatedLessThan,
    RelatedLessThanOrEqual,
)
from django.db.models.lookups import In


def _integer_range(lookup, connection) -> tuple[int | None, int | None] | None:
    """The values the lookup's column holds, if it is an integer column or a foreign key to one."""
    field = getattr(lookup.lhs, "output_field", None)
    if isinstance(field, ForeignObject):
        if len(field.foreign_related_fields) != 1:
            return None
        field = field.foreign_related_fields[0]
    if not isinstance(field, IntegerField):
        return None
    return connection.ops.integer_field_range(field.get_internal_type())


def _side(value, bounds: tuple[int | None, int | None]) -> int:
    """-1 below the range, 1 above it, 0 within it (or not a number)."""
    low, high = bounds
    if not isinstance(value, int):
        return 0
    if low is not None and value < low:
        return -1
    return 1 if high is not None and value > high else 0


class _RangeChecked:
    below = above = EmptyResultSet

    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value() and (bounds := _integer_range(self, connection)):
            side = _side(self.rhs, bounds)
            if side:
                raise self.below if side < 0 else self.above
        return super().process_rhs(compiler, connection)


class _InRangeOnly:
    """`in`: a value beyond the range matches no row, so it is left out."""

    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value() and (bounds := _integer_range(self, connection)):
            self.rhs = [value for value in self.rhs if not _side(value, bounds)]
        return super().process_rhs(compiler, connection)


class IntegerIn(_InRangeOnly, In):
    pass


class ForeignKeyIn(_InRangeOnly, RelatedIn):
    pass


class ForeignKeyExact(_RangeChecked, RelatedExact):
    pass


class ForeignKeyGreaterThan(_RangeChecked, RelatedGreaterThan):
    below = FullResultSet


class ForeignKeyGreaterThanOrEqual(_RangeChecked, RelatedGreaterThanOrEqual):
    below = FullResultSet


class ForeignKeyLessThan(_RangeChecked, RelatedLessThan):
    above = FullResultSet


class ForeignKeyLessThanOrEqual(_RangeChecked, RelatedLessThanOrEqual):
    above = FullResultSet


def range_checked_lookups_register() -> None:
    IntegerField.register_lookup(IntegerIn)
    for lookup in (
        ForeignKeyIn,
        ForeignKeyExact,
        ForeignKeyGreaterThan,
        ForeignKeyGreaterThanOrEqual,
        ForeignKeyLessThan,
        ForeignKeyLessThanOrEqual,
    ):
        ForeignObject.register_lookup(lookup)
