"""The merchant's orders: list, detail, retry, the warehouse payload preview, send a test order."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from integrations.connectors.canonical import Address
from integrations.connectors.errors import ConnectorError
from integrations.models import WMSConnection
from integrations.services import ConnectionNotConfigured, warehouse_connector_for
from integrations.tenancy import CrossMerchantLink
from orders.hold_forms import ShipToForm, fix_result_message, hold_actions
from orders.models import HoldCode, Order, OrderLine, OrderStatus, ShippingMethodMap, SKUAlias
from orders.selectors import with_list_marks
from orders.services.delivery.trial_order import TestOrderLine
from orders.services.hand_hold import hand_hold_options
from orders.services.holds_fix import order_fix_options
from orders.services.translation.translate import load_context, order_translate, warehouse_order_for
from orders.services.warehouse_side import order_warehouse_side_problems
from portal.forms import OrderFilterForm, TestOrderForm, TestOrderLineFormSet
from portal.scope import get_scoped_or_404, scoped
from sync.jobs import job_queue, trial_order_params
from sync.models import Job
from sync.send_now import order_release_now, order_send_job, order_send_now

PAGE_SIZE = 50
PENDING = (OrderStatus.NEW, OrderStatus.ERROR)


def order_list(request: HttpRequest) -> HttpResponse:
    merchant = request.merchant
    form = OrderFilterForm(request.GET or None, merchant=merchant)
    orders = with_list_marks(
        orders=scoped(Order, merchant).select_related("cart_connection", "warehouse").order_by("-pk")
    )
    if form.is_valid():
        data = form.cleaned_data
        if data["status"]:
            orders = orders.filter(status=data["status"])
        if data["connection"]:
            orders = orders.filter(cart_connection=data["connection"])
        if q := data["q"].strip():
            with_sku = scoped(OrderLine, merchant).filter(Q(cart_sku=q) | Q(warehouse_sku=q)).values("order_id")
            orders = orders.filter(
                Q(order_number__icontains=q) | Q(cust_ref__iexact=q) | Q(cart_order_id=q) | Q(pk__in=with_sku)
            )
    page = Paginator(orders, PAGE_SIZE).get_page(request.GET.get("page"))
    _add_alias_fixes(merchant, list(page))  # the page keeps these objects for the template
    return render(
        request,
        "portal/order_list.html",
        {"form": form, "page": page},
    )


def _add_alias_fixes(merchant, orders: list[Order]) -> None:
    """Give each order held for an unknown SKU `alias_fixes`: (cart SKU, its alias or None) of the
    lines at fault, so the page can offer "add alias" (or "edit alias") for each."""
    held = [o for o in orders if o.hold_code == HoldCode.UNKNOWN_SKU]
    if not held:
        return
    lines = scoped(OrderLine, merchant).filter(order__in=held).order_by("order_id", "line_no")
    aliases = {a.cart_sku: a for a in scoped(SKUAlias, merchant).filter(cart_sku__in=[ln.cart_sku for ln in lines])}
    by_order: dict[int, list[OrderLine]] = {}
    for line in lines:
        by_order.setdefault(line.order_id, []).append(line)
    for order in held:
        order_lines = [ln for ln in by_order.get(order.pk, []) if ln.cart_sku]
        named = [ln for ln in order_lines if f"'{ln.warehouse_sku}'" in order.hold_reason]
        seen: dict[str, SKUAlias | None] = {}
        for line in named or order_lines:
            seen.setdefault(line.cart_sku, aliases.get(line.cart_sku))
        order.alias_fixes = list(seen.items())


def order_detail(request: HttpRequest, pk: int) -> HttpResponse:
    merchant = request.merchant
    order = get_scoped_or_404(Order, merchant, pk=pk)
    _add_alias_fixes(merchant, [order])
    labels = dict(OrderStatus.choices)
    events = list(order.events.all())
    for event in events:
        event.from_label = labels.get(event.from_status, event.from_status)
        event.to_label = labels.get(event.to_status, event.to_status)
    fix = order_fix_options(order=order)
    mapping_url = ""
    if fix.cart_method and order.warehouse_id and order.warehouse_id == getattr(fix.warehouse, "pk", None):
        query = urlencode({"cart_method": fix.cart_method})
        mapping_url = reverse("portal:connection_edit", args=["warehouse", order.warehouse_id]) + f"?{query}#shipping"
    return render(
        request,
        "portal/order_detail.html",
        {
            "order": order,
            "lines": order.lines.all(),
            "events": events,
            "shipments": order.shipments.all(),
            "changes": order.changes.order_by("-pk")[:20],
            "warehouse_side": order_warehouse_side_problems(order=order),
            "fix": fix,
            "hand": hand_hold_options(order=order),
            "job": order_send_job(order=order, job_id=request.GET.get("job", "")),
            "can_retry": fix.can_retry,
            "ship_to_form": ShipToForm(order=order) if fix.can_edit_ship_to else None,
            "mapping_url": mapping_url,
        },
    )


def _hold_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One of the order page's hold actions, through the service the admin's order page calls too."""
    order = get_scoped_or_404(Order, request.merchant, pk=pk)
    result = hold_actions(request, order, action)
    if result is not None:
        fix_result_message(request, result)
    return HttpResponseRedirect(reverse("portal:order_detail", args=[order.pk]) + "#hold")


@require_POST
def order_retry(request: HttpRequest, pk: int) -> HttpResponse:
    """Check a held order again now; it is released only when it passes."""
    return _hold_action(request, pk, "retry")


@require_POST
def order_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Send now: checked here, sent by the worker; the order's page follows the job to its summary."""
    order = get_scoped_or_404(Order, request.merchant, pk=pk)
    result, job = order_send_now(order=order, user=request.user)
    fix_result_message(request, result)
    follow = f"?job={job.pk}#job" if job is not None else "#hold"
    return HttpResponseRedirect(reverse("portal:order_detail", args=[order.pk]) + follow)


@require_POST
def order_hand_hold(request: HttpRequest, pk: int) -> HttpResponse:
    """Hold the order by hand, with the person's reason: it is not sent until someone releases it."""
    return _hold_action(request, pk, "hand-hold")


@require_POST
def order_release(request: HttpRequest, pk: int) -> HttpResponse:
    """Release a hold by hand or the hold window early; the send is then queued as Send now does."""
    order = get_scoped_or_404(Order, request.merchant, pk=pk)
    result, job = order_release_now(order=order, user=request.user)
    fix_result_message(request, result)
    follow = f"?job={job.pk}#job" if job is not None else "#hand-hold"
    return HttpResponseRedirect(reverse("portal:order_detail", args=[order.pk]) + follow)


@require_POST
def order_alias(request: HttpRequest, pk: int) -> HttpResponse:
    """An SKU alias for the order's unknown SKU, checked against the warehouse's SKU list."""
    return _hold_action(request, pk, "alias")


@require_POST
def order_mapping(request: HttpRequest, pk: int) -> HttpResponse:
    """A warehouse code for the order's shipping method."""
    return _hold_action(request, pk, "mapping")


@require_POST
def order_ship_to(request: HttpRequest, pk: int) -> HttpResponse:
    """The corrected ship-to; the order is checked again."""
    return _hold_action(request, pk, "ship-to")


def order_payload(request: HttpRequest, pk: int) -> HttpResponse:
    """What the warehouse gets (or got) for this order, in the warehouse's own format.

    An order not sent yet is translated again in memory (nothing is saved) with today's aliases
    and shipping mappings, so the preview shows what the next send would carry."""
    order = get_scoped_or_404(Order, request.merchant, pk=pk)
    lines = list(order.lines.all())
    payload, fresh = None, order.status in PENDING
    warehouse, problem = _destination(order)
    if warehouse is not None:
        try:
            connector = warehouse_connector_for(connection=warehouse)
            if fresh:
                ctx = load_context(merchant_id=order.merchant_id, warehouse=warehouse, warehouse_skus=None)
                order_translate(order=order, lines=lines, ctx=ctx)
            payload = connector.format_order(warehouse_order_for(order=order, lines=lines))
        except (ConnectionNotConfigured, ConnectorError) as exc:
            problem = f"The warehouse connection cannot format orders: {exc}"
    return render(
        request,
        "portal/order_payload.html",
        {
            "order": order,
            "warehouse": warehouse,
            "fresh": fresh,
            "problem": problem,
            "payload_json": json.dumps(payload, indent=2, default=str) if payload is not None else "",
        },
    )


def _destination(order: Order) -> tuple[WMSConnection | None, str]:
    """The order's warehouse, or None and why there is none to show."""
    try:
        warehouse = order.destination_warehouse()
    except CrossMerchantLink as exc:
        return None, str(exc)
    return warehouse, "" if warehouse is not None else "No warehouse is connected for this order's cart."


def test_order(request: HttpRequest) -> HttpResponse:
    """Send a clearly marked test order through the whole flow; show how it went."""
    merchant = request.merchant
    form = TestOrderForm(request.POST or None, merchant=merchant)
    formset = TestOrderLineFormSet(request.POST or None, prefix="lines")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        data = form.cleaned_data
        first, _, last = data["ship_name"].partition(" ")
        params = trial_order_params(
            lines=[
                TestOrderLine(sku=f.cleaned_data["sku"], quantity=f.cleaned_data["quantity"])
                for f in formset.forms
                if f.cleaned_data.get("sku")
            ],
            ship_method=data["ship_method"],
            ship_to=Address(
                first_name=first,
                last_name=last,
                company=data["ship_company"],
                address_1=data["ship_address_1"],
                city=data["ship_city"],
                state=data["ship_state"],
                zip=data["ship_zip"],
                country=data["ship_country"],
            ),
            requested_by=request.user.get_username(),
        )
        # Made and sent by the worker (the warehouse is called): this page follows the job to its summary.
        job = job_queue(kind=Job.Kind.TEST_ORDER, connection=data["cart_connection"], user=request.user, params=params)
        return HttpResponseRedirect(f"{reverse('portal:test_order')}?job={job.pk}#job")
    methods = (
        scoped(ShippingMethodMap, merchant).order_by("cart_method").values_list("cart_method", flat=True).distinct()
    )
    return render(
        request,
        "portal/test_order.html",
        {
            "form": form,
            "formset": formset,
            "ship_methods": methods,
            "has_carts": form.fields["cart_connection"].queryset.exists(),
            "recent": scoped(Order, merchant).filter(is_test=True).order_by("-pk")[:10],
            "job": _test_order_job(request),
        },
    )


def _test_order_job(request: HttpRequest) -> Job | None:
    """The test-order job the page follows (`?job=`): one of this merchant's, else none."""
    job_id = request.GET.get("job", "")
    if not job_id.isdigit():
        return None
    return scoped(Job, request.merchant).filter(pk=int(job_id), kind=Job.Kind.TEST_ORDER).first()
