"""What the admin does with parameters and values it was not written for, made a refusal instead
of a server error, for every ModelAdmin.

Django's admin assumes well-formed requests in a few places: an empty `_to_field` is looked up
as a field named "" (the change page fails); the date drill-down computes the next year, month or
day in Python (a year past 9998 or a huge number overflows); a `__range` filter, which no admin
link makes, is sent as one text whose characters become the query's parameters; the rows selected
for an action are filtered by their submitted keys as they are (a key that is not a number
raises); an autocomplete field shown again with a submitted value that is no key filters the
related model by that value (which raises instead of showing the form's "Select a valid choice").
"""

from __future__ import annotations

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import TO_FIELD_VAR
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.http import HttpRequest

from integrations.storable import unstorable_reason

# The date drill-down parameters (`<field>__year` ...) and the values its arithmetic can take.
DATE_PART_RANGES = {"__year": (1, 9998), "__month": (1, 12), "__day": (1, 31)}


def admin_parameters_problem(request: HttpRequest, model: type[Model] | None) -> str | None:
    """What is wrong with an admin request's parameters (`model`: the page's, if a ModelAdmin's),
    for a person; None when nothing is."""
    for params in (request.GET, request.POST):
        if TO_FIELD_VAR in params and not params[TO_FIELD_VAR]:
            return f"the parameter {TO_FIELD_VAR!r} is empty."
    if model is not None and any(not _is_key(model, v) for v in request.POST.getlist(ACTION_CHECKBOX_NAME)):
        return "a selected row is not one of this list's."
    for name, values in request.GET.lists():
        for value in values:
            if name.endswith("__range"):
                return f"the list cannot filter by {name!r}: use __gte and __lt instead."
            if problem := _date_part_problem(name, value):
                return problem
    return None


def _date_part_problem(name: str, value: str) -> str | None:
    for suffix, (low, high) in DATE_PART_RANGES.items():
        if not name.endswith(suffix):
            continue
        try:
            number = int(value)
        except ValueError:
            return None  # not a number: the admin refuses it itself
        if not low <= number <= high:
            return f"the parameter {name!r} in the address must be between {low} and {high}."
    return None


def _is_key(model: type[Model], value: str) -> bool:
    try:
        model._meta.pk.to_python(value)
    except ValidationError:
        return False
    return unstorable_reason(value) is None


class KeyCheckedAutocompleteSelect(AutocompleteSelect):
    """Shows a submitted value that is not a key of the related model as no choice (the form says
    "Select a valid choice"), instead of filtering the related model by it."""

    def optgroups(self, name, value, attr=None):
        return super().optgroups(name, [v for v in value if self._is_key(v)], attr)

    def _is_key(self, value) -> bool:
        try:
            self.choices.field.to_python(value)
        except ValidationError:
            return False
        return True


class KeyCheckedAutocompleteMixin:
    """For a ModelAdmin or inline with `autocomplete_fields`: their widgets check a value is a key first."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = KeyCheckedAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
