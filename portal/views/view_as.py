"""View as merchant: staff see a merchant's pages as the merchant does, read only.

Started from the admin's merchant page (a confirmation, then a POST), ended with "back to admin".
Both are written to the admin's log on the merchant (its History), with the user. While it lasts,
`portal.scope.merchant_required` serves that merchant's pages and refuses every change.
"""

from __future__ import annotations

from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_POST

from integrations.models import Merchant
from portal.scope import VIEW_AS_SESSION_KEY, may_view_as, viewed_merchant


def _log(request: HttpRequest, merchant: Merchant, message: str) -> None:
    LogEntry.objects.log_actions(
        user_id=request.user.pk, queryset=[merchant], action_flag=CHANGE, change_message=message, single_object=True
    )


def view_as_start(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), reverse("admin:login"))
    if not may_view_as(request.user):
        response = render(request, "portal/view_as_refused.html", status=403)
        add_never_cache_headers(response)
        return response
    merchant = get_object_or_404(Merchant, pk=pk)
    if request.method == "POST":
        request.session[VIEW_AS_SESSION_KEY] = merchant.pk
        _log(request, merchant, "Viewed the merchant pages as this merchant (read only).")
        return HttpResponseRedirect(reverse("portal:home"))
    response = render(request, "portal/view_as_start.html", {"viewed": merchant})
    add_never_cache_headers(response)
    return response


@require_POST
def view_as_stop(request: HttpRequest) -> HttpResponse:
    """Back to the admin, on the page of the merchant that was viewed."""
    merchant = viewed_merchant(request) if request.user.is_authenticated else None
    request.session.pop(VIEW_AS_SESSION_KEY, None)
    if merchant is None:
        return HttpResponseRedirect(reverse("admin:index"))
    _log(request, merchant, "Stopped viewing the merchant pages as this merchant.")
    return HttpResponseRedirect(reverse("admin:integrations_merchant_change", args=[merchant.pk]))
