"""List filters that scale to any number of merchants and connections: a search box (the admin's own
autocomplete, select2 over `admin:autocomplete`) instead of a sidebar link for every row.

Django's own autocomplete rather than django-admin-autocomplete-filter: that package's last release
(0.7.1, 2021) declares Django 2.0, rewrites the ModelAdmin class's Media on every request, and puts
the value from the address into a query unchecked (a non-number is a server error). The view and
select2 used here ship with Django and are kept up with it; the filter is these few lines.

Each filter keeps the parameter the admin's own related filter used (`<field>__id__exact`), so the
dashboard's links and any bookmarked list keep working.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.widgets import AutocompleteSelect

SCRIPT = "integrations/admin/autocomplete_filter.js"
STYLE = "integrations/admin/lists.css"


class AutocompleteFilter(admin.SimpleListFilter):
    """A filter on a foreign key, chosen by typing: the related model's admin must have search_fields."""

    template = "admin/filters/autocomplete.html"
    field_name = ""

    def __init__(self, request, params, model, model_admin):
        self.parameter_name = f"{self.field_name}__id__exact"
        super().__init__(request, params, model, model_admin)
        field = model._meta.get_field(self.field_name)
        self.title = self.title or field.verbose_name
        self.choice_field = forms.ModelChoiceField(
            queryset=field.related_model._default_manager.all(),
            widget=AutocompleteSelect(field, model_admin.admin_site, attrs={"data-width": "100%"}),
            required=False,
        )

    def lookups(self, request, model_admin):
        return ()

    def has_output(self) -> bool:
        return True

    def chosen_id(self) -> int | None:
        value = self.value()
        if value in (None, ""):
            return None
        if not value.isdigit():
            raise IncorrectLookupParameters(f"{self.parameter_name} must be a number")
        return int(value)

    def queryset(self, request, queryset):
        chosen = self.chosen_id()
        return queryset if chosen is None else queryset.filter(**{self.parameter_name: chosen})

    def rendered_widget(self) -> str:
        return self.choice_field.widget.render(
            self.parameter_name,
            self.chosen_id(),
            attrs={"id": f"filter-{self.parameter_name}", "class": "ob-filter-autocomplete"},
        )

    def choices(self, changelist):
        # The template needs no choices; "all" is the select's own clear button.
        return []


def autocomplete_filter(field_name: str, title: str = "") -> type[AutocompleteFilter]:
    """A filter class for `list_filter` that filters by `field_name` (a foreign key), chosen by typing."""
    name = f"{field_name.title().replace('_', '')}AutocompleteFilter"
    return type(name, (AutocompleteFilter,), {"field_name": field_name, "title": title})


class AutocompleteFiltersMixin:
    """For a ModelAdmin's list: the lists' compact style and, with autocomplete filters, select2 and
    the script that applies a choice."""

    @property
    def media(self):
        fields = [f.field_name for f in self.list_filter if isinstance(f, type) and issubclass(f, AutocompleteFilter)]
        media = super().media + forms.Media(css={"screen": [STYLE]})
        if fields:
            widget = AutocompleteSelect(self.model._meta.get_field(fields[0]), self.admin_site)
            media += widget.media + forms.Media(js=["admin/js/jquery.init.js", SCRIPT])
        return media
