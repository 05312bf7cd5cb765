"""Every registered ModelAdmin under hostile input: its list (search, filters, date drill-down,
ordering, pagination, the actions form) and its add and change forms.

The ModelAdmins come from the admin site's registry and their parameters and fields from their own
pages, so an admin or a field added later is driven too. No answer is a server error, a refusal
says why, and nothing PostgreSQL would refuse was stored (SQLite takes it).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.contrib import admin
from django.contrib.auth import SESSION_KEY
from django.db import transaction
from django.test import Client
from django.urls import reverse
from django_q.models import OrmQ
from hypothesis import HealthCheck, example, given, settings

from tests.config.test_admin_smoke import REGISTERED
from tests.config.test_admin_smoke import every_object as every_object  # a fixture
from tests.hostile import (
    NUL,
    Assault,
    HtmlForm,
    address,
    assaults,
    assert_refused_politely,
    html_forms,
    pinned,
    submit,
    submit_as_shown,
    unstorable_rows,
    with_hostile,
)

# Parameters every changelist reads besides its filters: search, ordering, page, all, popup, facets.
LIST_PARAMETERS = ["q", "o", "p", "e", "all", "_popup", "_to_field", "_facets", "_changelist_filters"]
# Parameters the add and change pages read besides the fields (which prefill the add form).
FORM_PARAMETERS = ["_changelist_filters", "_popup", "_to_field", "_saveasnew"]
LOOKUP_SUFFIXES = ["", "__in", "__gt", "__lte", "__range", "__isnull"]
VIEWS = ["changelist", "add", "change"]


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@dataclass
class AdminPage:
    """One admin page of a model as a clean visit found it: where, what it reads, what it posts."""

    path: str
    query_names: list[str]
    forms: list[HtmlForm]


def admin_page(client: Client, model, view: str, obj) -> AdminPage | None:
    path = _url(model, view, obj.pk) if view == "change" else _url(model, view)
    response = client.get(path)
    if response.status_code == 403:  # adding is not allowed for this model
        return None
    assert response.status_code == 200, path
    # The page's own forms (not the header's sign-out, nor buttons that post to other views).
    forms = [f for f in html_forms(response.content.decode(), path) if f.method == "post" and f.action == path]
    assert forms or view == "changelist", f"no form on {path}"
    if view == "changelist":
        cl = response.context["cl"]
        model_admin = admin.site._registry[model]
        filters = [name for spec in cl.filter_specs for name in spec.expected_parameters()]
        # Lookups the admin allows on a filtered field besides the ones its filter links use.
        lookups = [f"{f}{x}" for f in model_admin.list_filter if isinstance(f, str) for x in LOOKUP_SUFFIXES]
        hierarchy = model_admin.date_hierarchy
        dates = [f"{hierarchy}__{part}" for part in ("year", "month", "day")] if hierarchy else []
        return AdminPage(path, LIST_PARAMETERS + filters + lookups + dates, forms)
    fields = [name for form in forms for name in form.targets]
    return AdminPage(path, FORM_PARAMETERS + fields, forms)


def assert_still_signed_in(client: Client) -> None:
    """A page that signed staff out would leave the requests after it testing the sign-in page."""
    assert SESSION_KEY in client.session


def assail(client: Client, page: AdminPage, assault: Assault) -> None:
    assert_refused_politely(client.get(address(page.path, with_hostile([], page.query_names, assault))))
    for form in page.forms:
        assert_refused_politely(submit(client, form, assault))
    assert_still_signed_in(client)


def cases() -> list[tuple]:
    return [pytest.param(model, view, id=f"{model._meta.label}-{view}") for model in REGISTERED for view in VIEWS]


@pytest.fixture
def page(admin_client, every_object, model, view) -> AdminPage | None:
    return admin_page(admin_client, model, view, every_object[model])


@pytest.mark.parametrize("model, view", cases())
@settings(
    max_examples=3,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(assault=assaults)
@pinned
@example(assault=Assault(b"1\x00", everywhere=False, pick=2, choice=2))  # a real action on a row that is no key
@example(assault=Assault(b"", everywhere=True))  # an empty _to_field
def test_hostile_input_never_fails_an_admin_page_nor_stores_what_postgresql_refuses(
    admin_client, page, model, view, assault
):
    if page is None:
        return
    with transaction.atomic():
        assail(admin_client, page, assault)
        assert unstorable_rows() == []
        transaction.set_rollback(True)


@pytest.mark.parametrize("model, view", [c for c in cases() if c.values[1] == "change"])
def test_a_nul_in_any_one_field_of_an_admin_form_is_refused(admin_client, page, model, view):
    """One field hostile and the others as the change page shows them (valid): a field whose check
    is missing would reach the database."""
    if page is None:
        return
    for form in page.forms:
        for pick in range(len(form.targets)):
            with transaction.atomic():
                assert_refused_politely(submit(admin_client, form, Assault(NUL, everywhere=False, pick=pick)))
                assert unstorable_rows() == []
                transaction.set_rollback(True)
    assert_still_signed_in(admin_client)


# Change forms that cannot be saved as shown, and why (their one-field test then tests less).
UNSAVABLE_AS_SHOWN = {OrmQ: "django-q2's queue entry: its required lock time is shown empty"}


@pytest.mark.parametrize(
    "model, view", [c for c in cases() if c.values[1] == "change" and c.values[0] not in UNSAVABLE_AS_SHOWN]
)
def test_a_change_form_as_read_from_its_page_saves(admin_client, page, model, view, rf, admin_user):
    """What the field-by-field test relies on: the rest of the form, as read, is valid (a record's
    read-only page, e.g. a sync run's, refuses any save)."""
    request = rf.get("/")
    request.user = admin_user
    editable = admin.site._registry[model].has_change_permission(request, model.objects.first())
    with transaction.atomic():
        response = submit_as_shown(admin_client, page.forms[0])
        transaction.set_rollback(True)

    if not editable:
        assert response.status_code == 403
        return
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors


@pytest.mark.parametrize("model", [m for m in REGISTERED if admin.site._registry[m].autocomplete_fields])
@settings(max_examples=5, derandomize=True, database=None, deadline=None, suppress_health_check=list(HealthCheck))
@given(assault=assaults)
@pinned
def test_hostile_autocomplete_lookups_never_fail(admin_client, every_object, model, assault):
    for field_name in admin.site._registry[model].autocomplete_fields:
        pairs = [
            ("app_label", model._meta.app_label),
            ("model_name", model._meta.model_name),
            ("field_name", field_name),
            ("term", ""),
            ("page", "1"),
        ]
        hostile = with_hostile(pairs, [name for name, _ in pairs], assault)
        assert_refused_politely(admin_client.get(address(reverse("admin:autocomplete"), hostile)))


def test_every_registered_model_admin_is_driven():
    driven = {model for model, _view in (c.values for c in cases())}

    assert driven == set(admin.site._registry)
    assert len(driven) >= 15
