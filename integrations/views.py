"""The "Grant us API access" flow for OAuth platforms: start, and the platform's callback.

Two pages start it: the admin (staff, any connection) and the merchant pages (a merchant's member,
their own connections only). Both end at the one callback URL registered with the platform. The
state is signed, expires, and is bound to the user who started it and to where it started; the
callback checks again that this user may still change that connection, then sends them back there.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from integrations.connectors.answers import summary
from integrations.connectors.errors import ConnectorError
from integrations.models import CartConnection, Connection, WMSConnection
from integrations.services import ConnectionNotConfigured, oauth_authorization_url, oauth_complete

STATE_SALT = "orderbridge.oauth"
STATE_MAX_AGE = 15 * 60
MODELS: dict[str, type[Connection]] = {"cart": CartConnection, "warehouse": WMSConnection}
ADMIN, PORTAL = "admin", "portal"


def _change_url(kind: str, pk: int) -> str:
    model = MODELS[kind]._meta
    return reverse(f"admin:{model.app_label}_{model.model_name}_change", args=[pk])


def _return_url(origin: str, kind: str, pk: int) -> str:
    if origin == PORTAL:
        return reverse("portal:connection_edit", args=[kind, pk])
    return _change_url(kind, pk)


def _login_url(origin: str) -> str:
    return reverse("portal:login") if origin == PORTAL else reverse("admin:login")


def _may_grant(user, connection: Connection, origin: str) -> bool:
    """Staff may grant for any connection from the admin; a merchant's member for their own."""
    if origin == PORTAL:
        from portal.scope import merchant_for  # the merchant pages sit on top of this app

        merchant = merchant_for(user)
        return merchant is not None and connection.merchant_id == merchant.pk
    opts = connection._meta
    return user.is_active and user.is_staff and user.has_perm(f"{opts.app_label}.change_{opts.model_name}")


def oauth_redirect(request: HttpRequest, *, connection: Connection, kind: str, origin: str) -> HttpResponse:
    """Send the user to the platform to grant us access; the caller has checked they may."""
    state = signing.dumps(
        {"kind": kind, "pk": connection.pk, "user": request.user.pk, "origin": origin}, salt=STATE_SALT
    )
    try:
        url = oauth_authorization_url(
            connection=connection, redirect_uri=request.build_absolute_uri(reverse("oauth_callback")), state=state
        )
    except ConnectionNotConfigured as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(_return_url(origin, kind, connection.pk))
    return HttpResponseRedirect(url)


@staff_member_required
@require_POST
def oauth_start(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    if kind not in MODELS:
        return HttpResponse("Unknown connection kind.", status=404)
    connection = get_object_or_404(MODELS[kind], pk=pk)
    if not _may_grant(request.user, connection, ADMIN):
        return HttpResponse("You may not change this connection.", status=403)
    return oauth_redirect(request, connection=connection, kind=kind, origin=ADMIN)


@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    try:
        state = signing.loads(request.GET.get("state", ""), salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.BadSignature:
        return HttpResponse("This access grant link is invalid or has expired: start again.", status=400)
    origin = state.get("origin", ADMIN)
    if origin not in (ADMIN, PORTAL) or state.get("kind") not in MODELS:
        return HttpResponse("This access grant link is invalid: start again.", status=400)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), _login_url(origin))
    if state.get("user") != request.user.pk:
        return HttpResponse("This access grant was started by someone else: start again.", status=400)
    kind, pk = state["kind"], state["pk"]
    connection = get_object_or_404(MODELS[kind], pk=pk)
    if not _may_grant(request.user, connection, origin):
        raise Http404("No such connection.")  # as for any object of another merchant
    if request.GET.get("error"):
        reason = summary(request.GET.get("error_description")) or summary(request.GET["error"], 40) or "refused"
        messages.error(request, f"{connection.platform_label} did not grant access: {reason}")
    elif not request.GET.get("code"):
        messages.error(request, f"{connection.platform_label} came back without an authorization code: try again.")
    else:
        try:
            oauth_complete(
                connection=connection,
                code=request.GET["code"],
                redirect_uri=request.build_absolute_uri(reverse("oauth_callback")),
            )
        except (ConnectorError, ConnectionNotConfigured) as exc:
            messages.error(request, f"Access was not granted: {exc}")
        else:
            messages.success(request, f"Access granted: {connection.platform_label} tokens stored (encrypted).")
    return HttpResponseRedirect(_return_url(origin, kind, pk))
