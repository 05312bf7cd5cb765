"""The "Grant us API access" flow for OAuth platforms: start, and the platform's callback."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from integrations.connectors.errors import ConnectorError
from integrations.models import CartConnection, Connection, WMSConnection
from integrations.services import ConnectionNotConfigured, oauth_authorization_url, oauth_complete

STATE_SALT = "orderbridge.oauth"
STATE_MAX_AGE = 15 * 60
MODELS: dict[str, type[Connection]] = {"cart": CartConnection, "warehouse": WMSConnection}


def _change_url(kind: str, pk: int) -> str:
    model = MODELS[kind]._meta
    return reverse(f"admin:{model.app_label}_{model.model_name}_change", args=[pk])


@staff_member_required
@require_POST
def oauth_start(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    connection = get_object_or_404(MODELS[kind], pk=pk)
    state = signing.dumps({"kind": kind, "pk": pk, "user": request.user.pk}, salt=STATE_SALT)
    try:
        url = oauth_authorization_url(
            connection=connection, redirect_uri=request.build_absolute_uri(reverse("oauth_callback")), state=state
        )
    except ConnectionNotConfigured as exc:
        messages.error(request, str(exc))
        return HttpResponseRedirect(_change_url(kind, pk))
    return HttpResponseRedirect(url)


@staff_member_required
@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    try:
        state = signing.loads(request.GET.get("state", ""), salt=STATE_SALT, max_age=STATE_MAX_AGE)
    except signing.BadSignature:
        return HttpResponse("This access grant link is invalid or has expired: start again.", status=400)
    if state.get("user") != request.user.pk or state.get("kind") not in MODELS:
        return HttpResponse("This access grant was started by someone else: start again.", status=400)
    kind, pk = state["kind"], state["pk"]
    connection = get_object_or_404(MODELS[kind], pk=pk)
    if request.GET.get("error"):
        reason = request.GET.get("error_description") or request.GET["error"]
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
    return HttpResponseRedirect(_change_url(kind, pk))
