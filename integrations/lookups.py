"""`in` on an integer column leaves out the values no integer column can hold.

Since Django 5.0, `exact`, `gt`, `lt` and the like answer a value beyond the column's range as
matching nothing (or everything) rather than sending it; `in` still sends it, and SQLite cannot bind
an integer past 64 bits (OverflowError). A number typed in a form or an address (a multiple choice,
an admin filter, the admin's selected rows) then failed the page. Out-of-range values match no
row, so leaving them out answers the same.
"""

from __future__ import annotations

from django.db.models.lookups import In


class IntegerFieldIn(In):
    def process_rhs(self, compiler, connection):
        if self.rhs_is_direct_value():
            low, high = connection.ops.integer_field_range(self.lhs.output_field.get_internal_type())
            self.rhs = [value for value in self.rhs if not _beyond(value, low, high)]
        return super().process_rhs(compiler, connection)


def _beyond(value, low: int | None, high: int | None) -> bool:
    if not isinstance(value, int):
        return False
    return (low is not None and value < low) or (high is not None and value > high)
