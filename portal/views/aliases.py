"""SKU aliases: list and search, add, edit, delete, CSV export and import.

Saving an alias releases the orders held for its cart SKU (`sku_alias_saved`); the page says how many.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from orders.models import SKUAlias
from orders.services.delivery.holds import sku_alias_saved
from orders.services.translation.alias_files import (
    MAX_ERRORS_SHOWN,
    ImportConflict,
    aliases_csv_import,
    aliases_csv_parse,
    aliases_csv_write,
)
from portal.forms import AliasImportForm, SKUAliasForm
from portal.scope import get_scoped_or_404, scoped

PAGE_SIZE = 100


def _next_url(request: HttpRequest) -> str:
    """Where to go after saving: back to the order the alias was added from, else the list."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, require_https=request.is_secure()):
        return target
    return reverse("portal:alias_list")


def alias_list(request: HttpRequest) -> HttpResponse:
    aliases = scoped(SKUAlias, request.merchant).order_by("cart_sku")
    q = request.GET.get("q", "").strip()
    if q:
        aliases = aliases.filter(Q(cart_sku__icontains=q) | Q(warehouse_sku__icontains=q) | Q(note__icontains=q))
    page = Paginator(aliases, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "portal/alias_list.html", {"page": page, "q": q})


def alias_create(request: HttpRequest) -> HttpResponse:
    instance = SKUAlias(merchant=request.merchant)
    initial = {"cart_sku": request.GET.get("cart_sku", "")}
    form = SKUAliasForm(request.POST or None, instance=instance, initial=initial, merchant=request.merchant)
    return _alias_form_page(request, form)


def alias_edit(request: HttpRequest, pk: int) -> HttpResponse:
    alias = get_scoped_or_404(SKUAlias, request.merchant, pk=pk)
    form = SKUAliasForm(request.POST or None, instance=alias, merchant=request.merchant)
    return _alias_form_page(request, form)


def _alias_form_page(request: HttpRequest, form: SKUAliasForm) -> HttpResponse:
    if request.method == "POST" and form.is_valid():
        alias = form.save()
        counts = sku_alias_saved(alias=alias)
        text = f"Alias {alias.cart_sku} → {alias.warehouse_sku} saved."
        if counts["released"]:
            text += f" {counts['released']} held order(s) released and ready to send (the next sync sends them)."
        if counts["still_held"]:
            text += f" {counts['still_held']} order(s) with this SKU are still held for another reason."
        messages.success(request, text)
        return HttpResponseRedirect(_next_url(request))
    return render(request, "portal/alias_form.html", {"form": form, "next": _next_url(request)})


def alias_delete(request: HttpRequest, pk: int) -> HttpResponse:
    alias = get_scoped_or_404(SKUAlias, request.merchant, pk=pk)
    if request.method == "POST":
        alias.delete()
        messages.success(request, f"Alias {alias.cart_sku} → {alias.warehouse_sku} deleted.")
        return HttpResponseRedirect(reverse("portal:alias_list"))
    return render(request, "portal/alias_confirm_delete.html", {"alias": alias})


def alias_export(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"sku-aliases-{request.merchant.slug}-{timezone.localdate():%Y%m%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    aliases_csv_write(aliases=scoped(SKUAlias, request.merchant).order_by("cart_sku").iterator(), stream=response)
    return response


def alias_import(request: HttpRequest) -> HttpResponse:
    form = AliasImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        parsed = aliases_csv_parse(data=form.cleaned_data["file"].read())
        errors = parsed.errors
        if not errors:
            try:
                counts = aliases_csv_import(merchant=request.merchant, rows=parsed.rows)
            except ImportConflict as exc:
                errors = [str(exc)]
            else:
                text = "Imported: {created} added, {updated} updated, {unchanged} unchanged.".format(**counts)
                if counts["released"]:
                    text += f" {counts['released']} held order(s) released and ready to send."
                messages.success(request, text)
                return HttpResponseRedirect(reverse("portal:alias_list"))
    return render(
        request,
        "portal/alias_import.html",
        {
            "form": form,
            "errors": errors[:MAX_ERRORS_SHOWN],
            "more_errors": max(len(errors) - MAX_ERRORS_SHOWN, 0),
        },
    )
