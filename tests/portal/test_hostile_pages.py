"""Every page outside the admin (the merchant pages, sign-in, the OAuth flow) under hostile input.

The pages are read from the URLconf, their forms from the pages themselves, so a page or a field
added later is driven too. Each page is fetched with hostile query strings and each of its forms
posted with hostile values (in every field at once, or in one), as the merchant it belongs to, and
the pages outside the merchant scope also as a visitor and as staff. No answer is a server error,
a refusal says why, and nothing PostgreSQL would refuse was stored (SQLite takes it).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from hypothesis import HealthCheck, given, settings

from integrations.connectors.registry import CART_CONNECTORS, WAREHOUSE_CONNECTORS
from integrations.models import MerchantMembership
from orders.models import HoldCode, OrderStatus
from portal.views.connections import KINDS
from tests.factories import (
    CartConnectionFactory,
    JobFactory,
    MerchantFactory,
    OrderFactory,
    OrderLineFactory,
    ShippingMethodMapFactory,
    SKUAliasFactory,
    WMSConnectionFactory,
)
from tests.hostile import (
    NUL,
    URLENCODED,
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

# Every object of the merchant has this pk, so that any `<int:pk>` of any page finds one.
WORLD_PK = 4242
PARAMETERS = {
    "pk": [WORLD_PK],
    "kind": sorted(KINDS),
    "platform": sorted({*CART_CONNECTORS, *WAREHOUSE_CONNECTORS}),
    "token": ["no-such-webhook-token"],
}
# Query parameters pages read without a form (search, filters, pagination, redirects, OAuth).
QUERY_NAMES = ["q", "page", "status", "connection", "next", "cart_sku", "state", "code", "error", "error_description"]
FORM_NAMES = ["next", "action", "q"]  # posted to a page no form of ours posts to


@dataclass(frozen=True)
class Case:
    name: str
    path: str
    identity: str  # "merchant", "visitor" or "staff"

    def __str__(self) -> str:
        return f"{self.identity}:{self.path}"


def non_admin_patterns() -> list[tuple[str, URLPattern]]:
    """(qualified name, pattern) of every named URL of the project but the admin's."""
    found = []

    def walk(patterns, namespace: str) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                if p.namespace != "admin":
                    walk(p.url_patterns, f"{namespace}{p.namespace}:" if p.namespace else namespace)
            elif p.name:
                found.append((namespace + p.name, p))

    walk(get_resolver().url_patterns, "")
    return found


def cases() -> list[Case]:
    found = []
    for name, pattern in non_admin_patterns():
        params = list(pattern.pattern.converters)
        missing = [p for p in params if p not in PARAMETERS]
        assert not missing, f"{name}: give the URL parameter {missing[0]} candidate values in PARAMETERS"
        merchant_page = getattr(pattern.callback, "merchant_scoped", False)
        identities = ["merchant"] if merchant_page else ["visitor", "merchant", "staff"]
        for values in itertools.product(*(PARAMETERS[p] for p in params)):
            path = reverse(name, kwargs=dict(zip(params, values, strict=True)))
            found += [Case(name, path, identity) for identity in identities]
    return found


CASES = cases()


def world() -> dict[str, User]:
    """A merchant with one of everything (each with pk WORLD_PK, an order held for an unknown SKU),
    its user, and a staff user."""
    merchant = MerchantFactory(name="Hostile Tests Ltd", slug="hostile-tests")
    wms = WMSConnectionFactory(pk=WORLD_PK, merchant=merchant)
    cart = CartConnectionFactory(pk=WORLD_PK, merchant=merchant, warehouse=wms)
    order = OrderFactory(
        pk=WORLD_PK,
        cart_connection=cart,
        status=OrderStatus.ERROR,
        hold_code=HoldCode.UNKNOWN_SKU,
        hold_reason="The warehouse does not know SKU 'TEE-BLK': add an SKU alias.",
    )
    OrderLineFactory(order=order, cart_sku="TEE-BLK", warehouse_sku="TEE-BLK")
    SKUAliasFactory(pk=WORLD_PK, merchant=merchant, cart_sku="MUG", warehouse_sku="MUG-WHITE")
    ShippingMethodMapFactory(pk=WORLD_PK, warehouse=wms, cart_method="Express", ship_code="UPS:Next Day Air")
    JobFactory(pk=WORLD_PK, cart_connection=cart)
    merchant_user = User.objects.create_user("hostile-merchant", password="pw-hostile-merchant-1")
    MerchantMembership.objects.create(user=merchant_user, merchant=merchant)
    staff = User.objects.create_superuser("hostile-staff", password="pw-hostile-staff-1")
    return {"merchant": merchant_user, "staff": staff}


def client_as(identity: str, users: dict[str, User]) -> Client:
    client = Client()
    if identity in users:
        client.force_login(users[identity])
    return client


@dataclass
class Catalogue:
    """What a clean visit of every page found: its status, and the forms that post to each path."""

    status: dict[Case, int]
    forms: dict[tuple[str, str], list[HtmlForm]]  # (identity, action path) -> forms

    def forms_to(self, case: Case) -> list[HtmlForm]:
        return self.forms.get((case.identity, case.path), [])


@pytest.fixture(scope="module")
def catalogue(django_db_setup, django_db_blocker) -> Catalogue:
    """Every page visited once, cleanly, in a world rolled back afterwards (the tests build the same)."""
    status: dict[Case, int] = {}
    forms: dict[tuple[str, str], list[HtmlForm]] = {}
    with django_db_blocker.unblock(), transaction.atomic():
        users = world()
        clients = {identity: client_as(identity, users) for identity in ("visitor", "merchant", "staff")}
        for case in CASES:
            response = clients[case.identity].get(case.path)
            status[case] = response.status_code
            if response.status_code == 200 and response["Content-Type"].startswith("text/html"):
                for form in html_forms(response.content.decode(), case.path):
                    known = forms.setdefault((case.identity, form.action), [])
                    if all((f.method, f.controls) != (form.method, form.controls) for f in known):
                        known.append(form)
        transaction.set_rollback(True)
    return Catalogue(status, forms)


def test_every_page_is_found_and_reached(catalogue):
    names = {case.name for case in CASES}
    reached = {case.name for case, status in catalogue.status.items() if status != 404}

    assert len(names) >= 25
    assert names - reached == set(), "give these pages an object with pk WORLD_PK in world()"


def test_forms_are_found_for_the_pages_that_post(catalogue):
    posting = {action for (_, action), forms in catalogue.forms.items() if any(f.method == "post" for f in forms)}

    assert {reverse("portal:alias_import"), reverse("portal:test_order"), reverse("portal:login")} <= posting
    assert reverse("portal:connection_edit", args=["warehouse", WORLD_PK]) in posting


def assail(client: Client, case: Case, catalogue: Catalogue, assault: Assault) -> None:
    forms = catalogue.forms_to(case)
    query_names = QUERY_NAMES + [name for f in forms if f.method == "get" for name in f.targets]
    assert_refused_politely(client.get(address(case.path, with_hostile([], query_names, assault))))
    posted = [f for f in forms if f.method == "post"]
    for form in posted:
        assert_refused_politely(submit(client, form, assault))
    if not posted:
        body = urlencode([(name, assault.value) for name in FORM_NAMES])
        assert_refused_politely(client.post(case.path, body, content_type=URLENCODED))


@pytest.mark.parametrize("case", CASES, ids=str)
@settings(
    max_examples=3,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(assault=assaults)
@pinned
def test_hostile_query_strings_and_forms_never_fail_a_page_nor_store_what_postgresql_refuses(
    db, catalogue, case, assault
):
    if catalogue.status[case] == 404:
        return  # a parameter combination the page does not have (a platform of the other kind)
    with transaction.atomic():
        users = world()
        assail(client_as(case.identity, users), case, catalogue, assault)
        assert unstorable_rows() == []
        transaction.set_rollback(True)


# The pages of one stored object: their forms show it, so with one field hostile the rest is valid.
OBJECT_CASES = [c for c in CASES if c.identity == "merchant" and str(WORLD_PK) in c.path]


@pytest.mark.parametrize("case", OBJECT_CASES, ids=str)
def test_a_nul_in_any_one_field_of_a_form_is_refused(db, catalogue, case):
    """One field hostile and the others as the page shows them (valid): a field whose check is
    missing would reach the database."""
    users = world()
    client = client_as(case.identity, users)
    for form in [f for f in catalogue.forms_to(case) if f.method == "post"]:
        for pick in range(len(form.targets)):
            assert_refused_politely(submit(client, form, Assault(NUL, everywhere=False, pick=pick)))
    assert unstorable_rows() == []


EDIT_PAGES = [("portal:alias_edit", [WORLD_PK]), *(("portal:connection_edit", [kind, WORLD_PK]) for kind in KINDS)]


@pytest.mark.parametrize("name, args", EDIT_PAGES)
def test_an_edit_form_as_read_from_its_page_saves(db, catalogue, name, args):
    """What the field-by-field test relies on: the rest of the form, as read, is valid."""
    users = world()
    path = reverse(name, args=args)
    [form] = [f for f in catalogue.forms.get(("merchant", path), []) if f.method == "post"]

    response = submit_as_shown(client_as("merchant", users), form)

    assert response.status_code == 302, response.context and response.context["form"].errors
