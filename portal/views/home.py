"""Overview, sign-in and account pages; where `/` leads, and the favicon."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.staticfiles import finders
from django.db.models import Count
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from integrations.members import merchant_for
from integrations.models import CartConnection, WMSConnection
from orders.models import Order, OrderStatus, SKUAlias
from portal.runs import last_runs
from portal.scope import scoped
from sync.models import Reconciliation

RECONCILED_DAYS_SHOWN = 7
FAVICON = "portal/favicon.svg"


@dataclass
class CartProof:
    """One cart's reconciliations: the latest (its gaps, with what to do), and one result per day."""

    cart: CartConnection
    latest: Reconciliation
    days: list[Reconciliation] = field(default_factory=list)

    @property
    def accounted_text(self) -> str:
        return f"All {self.latest.counts.get('cart_orders', 0):,} orders accounted for"


def cart_proofs(merchant) -> list[CartProof]:
    """Each cart's reconciliations of the last days, the newest first; the last of each day stands for it."""
    since = timezone.now() - timedelta(days=RECONCILED_DAYS_SHOWN)
    rows = scoped(Reconciliation, merchant).filter(finished_at__gte=since).select_related("cart_connection")
    proofs: dict[int, CartProof] = {}
    for row in rows.order_by("-finished_at", "-pk"):
        proof = proofs.setdefault(row.cart_connection_id, CartProof(cart=row.cart_connection, latest=row))
        if not proof.days or proof.days[-1].finished_at.date() != row.finished_at.date():
            proof.days.append(row)
    return list(proofs.values())


def home(request: HttpRequest) -> HttpResponse:
    merchant = request.merchant
    carts = list(scoped(CartConnection, merchant).select_related("warehouse", "merchant"))
    warehouses = list(scoped(WMSConnection, merchant).select_related("merchant"))
    for connection in carts + warehouses:
        connection.runs = last_runs(connection)
    by_status = dict(scoped(Order, merchant).values("status").annotate(n=Count("pk")).values_list("status", "n"))
    return render(
        request,
        "portal/home.html",
        {
            "carts": carts,
            "warehouses": warehouses,
            "held": by_status.get(OrderStatus.ERROR, 0),
            "waiting": by_status.get(OrderStatus.NEW, 0),
            "at_warehouse": by_status.get(OrderStatus.AT_WMS, 0),
            "alias_count": scoped(SKUAlias, merchant).count(),
            "has_test_order": scoped(Order, merchant).filter(is_test=True).exists(),
            "recent_held": scoped(Order, merchant)
            .filter(status=OrderStatus.ERROR)
            .select_related("cart_connection")
            .order_by("-pk")[:5],
            "proofs": cart_proofs(merchant),
        },
    )


class LoginView(auth_views.LoginView):
    template_name = "portal/login.html"
    next_page = reverse_lazy("portal:home")
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    next_page = reverse_lazy("portal:login")


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "portal/password_change.html"
    success_url = reverse_lazy("portal:home")

    def form_valid(self, form):
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)


@require_safe
def root(request: HttpRequest) -> HttpResponse:
    """`/`: staff to the admin's dashboard, a merchant's user to the merchant pages, anyone else to sign in."""
    user = request.user
    if user.is_authenticated and user.is_staff:
        target = reverse("admin:index")
    elif merchant_for(user) is not None:
        target = reverse("portal:home")
    else:
        target = reverse("portal:login")
    return HttpResponseRedirect(target)


@require_safe
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    """`/favicon.ico` (what browsers ask for on every page, the admin's too): our icon, as SVG."""
    with open(finders.find(FAVICON), "rb") as icon:
        return HttpResponse(icon.read(), content_type="image/svg+xml")
