"""SKU aliases: list and search, add, edit, delete, CSV export and import.

An alias is saved only when the merchant's warehouses list its warehouse SKU (as last read; the
form says why not). Saving it checks again the orders held for its cart SKU (`aliases_saved`); the
page says how many were released, and only of those that will go.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from integrations.history import ADDITION, CHANGE, DELETION, change_record
from orders.models import SKUAlias
from orders.services.aliases import aliases_saved, person_name
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
        change = form.instance.pk is not None
        with transaction.atomic():
            alias = form.save()
            what = f"SKU alias {alias.cart_sku} → {alias.warehouse_sku} {'changed' if change else 'added'}"
            changed = ", ".join(str(form.fields[name].label) for name in form.changed_data)
            change_record(
                obj=alias,
                user=request.user,
                message=f"{what[0].upper()}{what[1:]} on the merchant pages" + (f" ({changed})" if change else ""),
                flag=CHANGE if change else ADDITION,
            )
        release = aliases_saved(
            merchant_id=alias.merchant_id,
            cart_skus=[alias.cart_sku],
            what=f"{what} by {person_name(user=request.user)}",
            user=request.user,
        )
        text = f"Alias {alias.cart_sku} → {alias.warehouse_sku} saved.{release.describe()} {form.sku_note}".strip()
        level = messages.WARNING if release.still_held or form.sku_note else messages.SUCCESS
        messages.add_message(request, level, text)
        return HttpResponseRedirect(_next_url(request))
    return render(request, "portal/alias_form.html", {"form": form, "next": _next_url(request)})


def alias_delete(request: HttpRequest, pk: int) -> HttpResponse:
    alias = get_scoped_or_404(SKUAlias, request.merchant, pk=pk)
    if request.method == "POST":
        with transaction.atomic():
            message = f"SKU alias {alias.cart_sku} → {alias.warehouse_sku} deleted on the merchant pages"
            change_record(obj=alias, user=request.user, message=message, flag=DELETION)
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
                result = aliases_csv_import(merchant=request.merchant, rows=parsed.rows, user=request.user)
            except ImportConflict as exc:
                errors = exc.errors
            else:
                message = f"SKU aliases imported from a CSV file on the merchant pages: {result.describe()}"
                change_record(obj=request.merchant, user=request.user, message=message)
                level = messages.WARNING if result.release.still_held or result.note else messages.SUCCESS
                messages.add_message(request, level, f"Imported: {result.describe()}")
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
