"""Overview, sign-in and account pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse_lazy

from integrations.models import CartConnection, WMSConnection
from orders.models import Order, OrderStatus, SKUAlias
from portal.scope import scoped


def home(request: HttpRequest) -> HttpResponse:
    merchant = request.merchant
    carts = list(scoped(CartConnection, merchant).select_related("warehouse"))
    warehouses = list(scoped(WMSConnection, merchant))
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
