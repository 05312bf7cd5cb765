"""The admin's order page acts on its hold: retry, send now, an SKU alias picked from the warehouse's
SKU list, a shipping mapping, the ship-to. Every button calls `orders.services.holds_fix` (the
service the merchant's order page calls too) and shows its answer with the reason."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse

from orders.hold_forms import ShipToForm, fix_result_message, hold_actions
from orders.models import Order, OrderStatus
from orders.services.holds_fix import order_fix_options

MAX_ORDERS_NAMED = 20


class OrderHoldAdminMixin:
    """For `OrderAdmin`: the hold panel on the change page and its POST endpoints."""

    change_form_template = "admin/orders/order/change_form.html"

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        urls = [
            path(
                "<path:object_id>/hold/<str:action>/",
                self.admin_site.admin_view(self.hold_view),
                name="{}_{}_hold".format(*info),
            )
        ]
        return urls + super().get_urls()

    def hold_view(self, request: HttpRequest, object_id: str, action: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        order = self.get_object(request, object_id)
        if order is None or not self.has_view_permission(request, order):
            raise Http404("No such order.")
        if not request.user.has_perm("orders.change_order"):
            messages.error(request, "Not done: you may look at orders but not change them (ask for 'change order').")
        else:
            result = hold_actions(request, order, action)
            if result is None:
                raise Http404("No such action.")
            fix_result_message(request, result)
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]) + "#hold-panel")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, object_id)
        extra_context = dict(extra_context or {})
        if order is not None:
            options = order_fix_options(order=order)
            mapping_url = ""
            if options.warehouse is not None and options.cart_method:
                query = urlencode({"warehouse": options.warehouse.pk, "cart_method": options.cart_method})
                mapping_url = f"{reverse('admin:orders_shippingmethodmap_add')}?{query}"
            extra_context.update(
                hold_order=order,
                fix=options,
                ship_to_form=ShipToForm(order=order) if options.can_edit_ship_to else None,
                mapping_url=mapping_url,
            )
        return super().change_view(request, object_id, form_url, extra_context)


def retry_reasons(order_ids: list[int]) -> str:
    """One clause per order after a retry: where it stands and why (the first MAX_ORDERS_NAMED)."""
    parts = []
    for order in Order.objects.filter(pk__in=order_ids).order_by("pk")[:MAX_ORDERS_NAMED]:
        if order.status == OrderStatus.ERROR:
            parts.append(f"#{order.order_number} still held: {order.hold_reason}")
        elif order.status == OrderStatus.NEW:
            why = f": {order.last_error}" if order.last_error else " (the next sync sends it)"
            parts.append(f"#{order.order_number} not delivered{why}")
        else:
            parts.append(f"#{order.order_number} {order.get_status_display()}")
    more = len(order_ids) - len(parts)
    return " ".join(f"{p.rstrip('.')}." for p in parts) + (f" And {more} more." if more > 0 else "")
