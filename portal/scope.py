"""The one place the merchant pages enforce who sees what.

`merchant_required` wraps every merchant page (applied once, in `portal/urls.py`): it sends
anonymous visitors to the login page, refuses users who are not tied to an active merchant, and
sets `request.merchant`. Every query of the pages goes through `scoped()`, which filters a model
by the path from it to its merchant; an id of another merchant's object is then simply not found
(404), never "forbidden" (which would confirm that it exists).

Staff with the permission `integrations.view_as_merchant` may see a merchant's pages as the merchant
does ("view as merchant", started from the admin's merchant page): then `request.merchant` is that
merchant, `request.viewing_as` is true, and every request that could change something is refused
here, before any view runs, with a page that says why.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from django.contrib.auth.views import redirect_to_login
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers

from integrations.members import merchant_for
from integrations.models import CartConnection, Merchant, WMSConnection
from orders.models import Order, OrderEvent, OrderLine, Shipment, ShippingMethodMap, SKUAlias, SyncRun
from sync.models import Job, Reconciliation

M = TypeVar("M", bound=Model)

VIEW_AS_SESSION_KEY = "portal_view_as_merchant_id"
VIEW_AS_PERMISSION = "integrations.view_as_merchant"
READ_ONLY_METHODS = ("GET", "HEAD", "OPTIONS")

# Model -> the lookup from it to its merchant. A model missing here cannot be queried by the pages.
MERCHANT_PATHS: dict[type[Model], str] = {
    CartConnection: "merchant",
    WMSConnection: "merchant",
    ShippingMethodMap: "warehouse__merchant",
    SKUAlias: "merchant",
    Order: "merchant",
    OrderLine: "order__merchant",
    OrderEvent: "order__merchant",
    Shipment: "order__merchant",
    Reconciliation: "merchant",
    SyncRun: "merchant",
    Job: "merchant",
}


def scoped(model: type[M], merchant: Merchant) -> QuerySet[M]:
    """`model`'s rows that belong to `merchant`: the only way the pages read or change data."""
    return model._default_manager.filter(**{MERCHANT_PATHS[model]: merchant})


def get_scoped_or_404(model: type[M], merchant: Merchant, **lookup) -> M:
    return get_object_or_404(scoped(model, merchant), **lookup)


def merchant_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Login required, then a merchant required; sets `request.merchant`. Pages are never cached."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:login"))
        viewed = viewed_merchant(request)
        merchant = viewed or merchant_for(request.user)
        request.viewing_as = viewed is not None
        if merchant is None:
            response = render(request, "portal/no_merchant.html", status=403)
        elif viewed is not None and request.method not in READ_ONLY_METHODS:
            request.merchant = merchant
            response = render(request, "portal/read_only.html", {"back": request.headers.get("Referer")}, status=403)
        else:
            request.merchant = merchant
            response = view(request, *args, **kwargs)
        add_never_cache_headers(response)
        return response

    wrapped.merchant_scoped = True  # checked by the tests for every merchant page
    return wrapped


def may_view_as(user) -> bool:
    """Whether `user` may see merchants' pages as they do: staff with the permission, never a merchant's user."""
    return bool(user.is_authenticated and user.is_active and user.is_staff and user.has_perm(VIEW_AS_PERMISSION))


def viewed_merchant(request: HttpRequest) -> Merchant | None:
    """The merchant this staff session views as, or None; asked on every request, so taking the
    permission away (or staff status) ends it at once."""
    merchant_id = request.session.get(VIEW_AS_SESSION_KEY)
    if merchant_id is None or not may_view_as(request.user):
        return None
    return Merchant.objects.filter(pk=merchant_id).first()
