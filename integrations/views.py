"""The "Grant us API access" flow for OAuth platforms: start, and the platform's callback.

Two pages start it: the admin (staff, any connection) and the merchant pages (a merchant's member,
their own connections only). Both end at the one callback URL registered with the platform. The
state (`integrations.grants`) is signed, expires, works once, and is bound to the user who started
it, to the connection and to where it started; the callback checks again that this user may still
change that connection, queues the exchange of the code for tokens in the worker (a grant job, the code
encrypted until used) and sends them back there, where the page follows the job. What the platform
says in the callback (an `error_description`) is shown only as a short summary (`connectors.answers`).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from integrations.connectors.answers import summary
from integrations.grants import GrantRefused, grant_state_issue, grant_state_read, grant_state_take
from integrations.members import merchant_for
from integrations.models import CartConnection, Connection, WMSConnection
from integrations.services import ConnectionNotConfigured, oauth_authorization_url
from sync.jobs import job_queue
from sync.models import Job

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
        merchant = merchant_for(user)
        return merchant is not None and connection.merchant_id == merchant.pk
    opts = connection._meta
    return user.is_active and user.is_staff and user.has_perm(f"{opts.app_label}.change_{opts.model_name}")


def oauth_redirect(request: HttpRequest, *, connection: Connection, kind: str, origin: str) -> HttpResponse:
    """Send the user to the platform to grant us access; the caller has checked they may."""
    state = grant_state_issue(user=request.user, connection=connection, origin=origin)
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


def _refused(exc: GrantRefused) -> HttpResponse:
    return HttpResponse(str(exc), status=400, content_type="text/plain; charset=utf-8")


@require_GET
def oauth_callback(request: HttpRequest) -> HttpResponse:
    try:
        state = grant_state_read(request.GET.get("state", ""))
    except GrantRefused as exc:
        return _refused(exc)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), _login_url(state.get("origin")))
    try:
        grant = grant_state_take(payload=state, user=request.user)
    except GrantRefused as exc:
        return _refused(exc)
    connection, kind, origin = grant.connection, grant.kind, grant.origin
    if not _may_grant(request.user, connection, origin):
        raise Http404("No such connection.")  # as for any object of another merchant
    if request.GET.get("error"):
        reason = summary(request.GET.get("error_description")) or summary(request.GET["error"], 40) or "refused"
        messages.error(request, f"{connection.platform_label} did not grant access: {reason}")
    elif not request.GET.get("code"):
        messages.error(request, f"{connection.platform_label} came back without an authorization code: try again.")
    else:
        return _grant_queue(request, connection, _return_url(origin, kind, connection.pk))
    return HttpResponseRedirect(_return_url(origin, kind, connection.pk))


def _grant_queue(request: HttpRequest, connection: Connection, back: str) -> HttpResponse:
    """The code is exchanged for tokens in the worker (the platform is called there): a grant job,
    with the code encrypted until it is used, followed on the connection's page."""
    job = job_queue(
        kind=Job.Kind.GRANT,
        connection=connection,
        user=request.user,
        params={"redirect_uri": request.build_absolute_uri(reverse("oauth_callback"))},
        secret=request.GET["code"],
    )
    job.refresh_from_db()
    if job.finished:  # run inline (tasks run in the request: the test settings)
        getattr(messages, job.level or "info")(request, job.summary)
    else:
        label = connection.platform_label
        messages.info(request, f"{label} granted access: the worker now exchanges the code for tokens (job {job.pk}).")
    return HttpResponseRedirect(f"{back}?job={job.pk}#job")
