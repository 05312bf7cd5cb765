"""Connect a cart or a warehouse: choose the platform, fill in its fields, test, grant access.

"Test connection" tests what is saved: the form's buttons save first, then test (or go on to
the platform's access grant), so a person sees the answer for exactly what is stored. Test
connection and Sync now run in the worker (`sync.jobs`): the connection's page polls the job
(`job_status_view`) and shows its progress, then its summary.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from integrations.accounts import connection_account_refresh, shared_account_warning
from integrations.connectors.base import Connector, OAuthConnector
from integrations.connectors.registry import CART_CONNECTORS, WAREHOUSE_CONNECTORS
from integrations.history import (
    ADDITION,
    CHANGE,
    DELETION,
    connection_change_record,
    connection_form_changes,
    connection_history,
    mapping_change_record,
)
from integrations.models import CartConnection, Connection, WMSConnection
from integrations.views import PORTAL, oauth_redirect
from integrations.webhooks import webhooks_status
from orders.models import ShippingMethodMap
from orders.services.aliases import person_name
from orders.services.delivery.holds import shipping_mapping_saved, warehouse_settings_saved
from portal.forms import ShippingMethodForm, connection_form_class
from portal.guides import GUIDELINES, guide_for, untestable_permissions
from portal.runs import last_runs
from portal.scope import get_scoped_or_404, scoped
from sync.jobs import job_active, job_queue, job_status
from sync.models import Job

NOT_CONNECTED_YET = "Not connected yet: a connection counts as connected once a connection test passes."


@dataclass(frozen=True)
class Kind:
    key: str  # as in the URLs (and the OAuth state): "cart" or "warehouse"
    model: type[Connection]
    connectors: dict[str, type[Connector]]
    noun: str


KINDS = {
    "cart": Kind("cart", CartConnection, CART_CONNECTORS, "cart"),
    "warehouse": Kind("warehouse", WMSConnection, WAREHOUSE_CONNECTORS, "warehouse"),
}


def _kind(key: str) -> Kind:
    try:
        return KINDS[key]
    except KeyError:
        raise Http404("No such kind of connection.") from None


def _edit_url(kind: Kind, pk: int) -> str:
    return reverse("portal:connection_edit", args=[kind.key, pk])


def _firewall() -> list[str]:
    return list(settings.OUTBOUND_IP_ADDRESSES)


def connection_list(request: HttpRequest) -> HttpResponse:
    merchant = request.merchant
    return render(
        request,
        "portal/connection_list.html",
        {
            "carts": scoped(CartConnection, merchant).select_related("warehouse"),
            "warehouses": scoped(WMSConnection, merchant),
            "firewall": _firewall(),
            "guidelines": GUIDELINES,
        },
    )


def connection_new(request: HttpRequest, kind: str) -> HttpResponse:
    """Step 1: choose the platform."""
    k = _kind(kind)
    platforms = [(key, connector.label) for key, connector in k.connectors.items()]
    return render(request, "portal/connection_new.html", {"kind": k, "platforms": platforms})


def connection_create(request: HttpRequest, kind: str, platform: str) -> HttpResponse:
    """Step 2: the platform's fields; then save, save and test, or save and grant access."""
    k = _kind(kind)
    if platform not in k.connectors:
        raise Http404("No such platform.")
    instance = k.model(merchant=request.merchant, platform=platform)
    return _connection_form_page(request, k, instance)


def connection_edit(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    k = _kind(kind)
    connection = get_scoped_or_404(k.model, request.merchant, pk=pk)
    return _connection_form_page(request, k, connection)


def _connection_form_page(request: HttpRequest, kind: Kind, connection: Connection) -> HttpResponse:
    action = request.POST.get("action", "save")
    form_class = connection_form_class(kind.key, connection.platform)
    form = form_class(
        request.POST or None, instance=connection, merchant=request.merchant, saving_for_grant=action == "grant"
    )
    if request.method == "POST" and form.is_valid():
        created = connection.pk is None
        connection = form.save()
        connection_change_record(
            connection=connection,
            user=request.user,
            message=f"{'Added' if created else 'Changed'} on the merchant pages: "
            + connection_form_changes(form=form, created=created),
            flag=ADDITION if created else CHANGE,
        )
        connection_account_refresh(connection, reconfigured=form.account_fields_changed)
        messages.success(request, f"{connection.platform_label} saved.")
        if action != "test" and not connection.last_test_ok:
            messages.info(request, NOT_CONNECTED_YET)
        if isinstance(connection, WMSConnection):
            what = f"warehouse settings changed by {person_name(user=request.user)}"
            released = warehouse_settings_saved(warehouse_id=connection.pk, what=what, user=request.user)["released"]
            _report_released(request, released)
        if action == "grant" and form.oauth:
            return oauth_redirect(request, connection=connection, kind=kind.key, origin=PORTAL)
        if action == "test":
            return _queue(request, kind, connection, Job.Kind.TEST_CONNECTION)
        _warn_shared_account(request, connection)
        return HttpResponseRedirect(_edit_url(kind, connection.pk))
    connector = kind.connectors[connection.platform]
    context = {
        "kind": kind,
        "connection": connection,
        "form": form,
        "sections": form.sections(),
        "oauth": issubclass(connector, OAuthConnector),
        "platform_label": connector.label if connection.pk is None else connection.platform_label,
        "guide": guide_for(connection.platform, kind.key, connection.platform_label),
        "stored_credentials": sorted(connection.get_credentials()) if connection.pk else [],
        "firewall": _firewall(),
        "runs": last_runs(connection) if connection.pk else [],
        "untested": untestable_permissions(connection.platform) if connection.last_test_ok else "",
        "job": _page_job(request, connection) if connection.pk else None,
        "history": connection_history(connection=connection) if connection.pk else [],
        "webhooks": webhooks_status(connection=connection)
        if isinstance(connection, CartConnection) and connection.pk
        else "",
    }
    if isinstance(connection, WMSConnection) and connection.pk:
        context["shipping_methods"] = scoped(ShippingMethodMap, request.merchant).filter(warehouse=connection)
        # "Map shipping method" on a held order links here with the order's method filled in.
        prefill = request.GET.get("cart_method", "")[: ShippingMethodMap._meta.get_field("cart_method").max_length]
        context["shipping_form"] = ShippingMethodForm(warehouse=connection, initial={"cart_method": prefill})
    return render(request, "portal/connection_form.html", context)


def _page_job(request: HttpRequest, connection: Connection) -> Job | None:
    """The job the page follows: the one just queued (`?job=`, the merchant's own only), else the
    connection's job still queued or running."""
    job_id = request.GET.get("job", "")
    field = "cart_connection" if isinstance(connection, CartConnection) else "warehouse"
    if job_id.isdigit() and (
        job := scoped(Job, request.merchant).filter(pk=int(job_id), **{field: connection}).first()
    ):
        return job
    return job_active(connection=connection)


def _queue(request: HttpRequest, kind: Kind, connection: Connection, job_kind: str) -> HttpResponse:
    """Queue the job for the worker and go to the connection's page, which follows it."""
    job = job_active(connection=connection)
    if job is None:
        job = job_queue(kind=job_kind, connection=connection, user=request.user)
        job.refresh_from_db()
        message = f"{job.get_kind_display().capitalize()} asked on the merchant pages (job {job.pk})"
        connection_change_record(connection=connection, user=request.user, message=message)
    else:
        messages.info(request, f"{job.get_kind_display().capitalize()} is already {job.get_state_display()}.")
    if job.finished:  # run inline (tasks run in the request: the test settings)
        getattr(messages, job.level or "info")(request, job.summary)
        passed = job.kind == Job.Kind.TEST_CONNECTION and job.level == Job.Level.SUCCESS
        if passed and (unchecked := untestable_permissions(connection.platform)):
            messages.info(request, unchecked)
        _warn_shared_account(request, connection)
    return HttpResponseRedirect(f"{_edit_url(kind, connection.pk)}?job={job.pk}#job")


def _warn_shared_account(request: HttpRequest, connection: Connection) -> None:
    """Warn when another of the merchant's own connections reaches the same platform account (never
    about another merchant's: that one uses the account is not this merchant's to know)."""
    warning = shared_account_warning(connection, merchant_id=request.merchant.pk)
    if warning:
        messages.warning(request, warning)


def _report_released(request: HttpRequest, released: int) -> None:
    if released:
        messages.success(request, f"{released} held order(s) released and ready to send (the next sync sends them).")


@require_POST
def connection_test_view(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    k = _kind(kind)
    connection = get_scoped_or_404(k.model, request.merchant, pk=pk)
    return _queue(request, k, connection, Job.Kind.TEST_CONNECTION)


@require_POST
def connection_sync(request: HttpRequest, pk: int) -> HttpResponse:
    """Sync now: import the cart's new orders and send what is ready, in the worker."""
    connection = get_scoped_or_404(CartConnection, request.merchant, pk=pk)
    if not connection.active:
        messages.error(request, "Not synced: this cart connection is inactive (turn it on in its settings first).")
        return HttpResponseRedirect(_edit_url(KINDS["cart"], pk))
    return _queue(request, KINDS["cart"], connection, Job.Kind.SYNC_ORDERS)


@require_GET
def job_status_view(request: HttpRequest, pk: int) -> JsonResponse:
    """A job's state for the page polling it (the merchant's own jobs only: another's is a 404)."""
    return JsonResponse(job_status(job=get_scoped_or_404(Job, request.merchant, pk=pk)))


@require_POST
def connection_grant(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    k = _kind(kind)
    connection = get_scoped_or_404(k.model, request.merchant, pk=pk)
    if not issubclass(k.connectors[connection.platform], OAuthConnector):
        raise Http404("This platform does not use an access grant.")
    return oauth_redirect(request, connection=connection, kind=k.key, origin=PORTAL)


@require_POST
def shipping_method_add(request: HttpRequest, pk: int) -> HttpResponse:
    warehouse = get_scoped_or_404(WMSConnection, request.merchant, pk=pk)
    form = ShippingMethodForm(request.POST, warehouse=warehouse, instance=ShippingMethodMap(warehouse=warehouse))
    if form.is_valid():
        with transaction.atomic():
            mapping = form.save()
            what = f"shipping method '{mapping.cart_method}' mapped to '{mapping.ship_code}'"
            mapping_change_record(
                mapping=mapping, connection=warehouse, user=request.user, message=f"Added: {what}", flag=ADDITION
            )
        messages.success(request, f"Shipping method '{mapping.cart_method}' now goes as {mapping.ship_code}.")
        released = shipping_mapping_saved(
            warehouse_id=warehouse.pk,
            cart_method=mapping.cart_method,
            what=f"{what} by {person_name(user=request.user)}",
            user=request.user,
        )["released"]
        _report_released(request, released)
    else:
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, f"Shipping method not added: {error}")
    return HttpResponseRedirect(_edit_url(KINDS["warehouse"], warehouse.pk) + "#shipping")


@require_POST
def shipping_method_delete(request: HttpRequest, pk: int) -> HttpResponse:
    mapping = get_scoped_or_404(ShippingMethodMap, request.merchant, pk=pk)
    with transaction.atomic():
        mapping_change_record(
            mapping=mapping,
            connection=mapping.warehouse,
            user=request.user,
            message=f"Deleted: shipping method '{mapping.cart_method}' mapped to '{mapping.ship_code}'",
            flag=DELETION,
        )
        mapping.delete()
    messages.success(request, f"Mapping for shipping method '{mapping.cart_method}' deleted.")
    return HttpResponseRedirect(_edit_url(KINDS["warehouse"], mapping.warehouse_id) + "#shipping")
