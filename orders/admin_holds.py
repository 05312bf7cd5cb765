"""The admin's order page acts on its hold: retry, send now, an SKU alias picked from the warehouse's
SKU list, a shipping mapping, the ship-to, a hold by hand and its release (or the hold window's).
Every button calls `orders.services.holds_fix` or `orders.services.hand_hold` (the services the
merchant's order page calls too) and shows its answer with the reason; Send now and Release queue
a job for the worker (`sync.send_now`) that the page follows to its summary. The lists' Retry
(`retry_and_report`) re-checks in the request and queues the sending the same way."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join

from orders.hold_forms import LEVELS, ShipToForm, fix_result_message, hold_actions
from orders.models import Order, OrderStatus
from orders.services.hand_hold import hand_hold_options
from orders.services.holds_fix import order_fix_options
from sync.models import Job
from sync.send_now import order_release_now, order_send_job, order_send_now, orders_retry_queue

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
        page = reverse("admin:orders_order_change", args=[order.pk])
        if not request.user.has_perm("orders.change_order"):
            messages.error(request, "Not done: you may look at orders but not change them (ask for 'change order').")
        elif action in ("send", "release"):
            queue = order_send_now if action == "send" else order_release_now
            result, job = queue(order=order, user=request.user)
            fix_result_message(request, result)
            if job is not None:
                return HttpResponseRedirect(f"{page}?job={job.pk}#hold-panel")
        else:
            result = hold_actions(request, order, action)
            if result is None:
                raise Http404("No such action.")
            fix_result_message(request, result)
        return HttpResponseRedirect(page + "#hold-panel")

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, object_id)
        extra_context = dict(extra_context or {})
        if order is not None:
            options = order_fix_options(order=order)
            mapping_url = ""
            if options.warehouse is not None and options.cart_method:
                query = urlencode({"warehouse": options.warehouse.pk, "cart_method": options.cart_method})
                mapping_url = f"{reverse('admin:orders_shippingmethodmap_add')}?{query}"
            job = order_send_job(order=order, job_id=request.GET.get("job", ""))
            extra_context.update(
                job=job,
                job_status_url=reverse("admin:sync_job_status", args=[job.pk]) if job else "",
                hold_order=order,
                fix=options,
                hand=hand_hold_options(order=order),
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
            why = f" (its last attempt: {order.last_error})" if order.last_error else ""
            parts.append(f"#{order.order_number} waits to be sent{why}")
        else:
            parts.append(f"#{order.order_number} {order.get_status_display()}")
    more = len(order_ids) - len(parts)
    return " ".join(f"{p.rstrip('.')}." for p in parts) + (f" And {more} more." if more > 0 else "")


def job_links(jobs: list[Job]) -> str:
    """ "job 12: <summary>" for the jobs that ran at once, "follow job 13" links for the others."""
    return format_html_join(
        " ",
        '<a href="{}">{}</a>',
        (
            (
                reverse("admin:sync_job_change", args=[job.pk]),
                f"Job {job.pk}: {job.summary}"
                if job.finished
                else f"Follow job {job.pk} ({len(job.order_ids)} order(s)).",
            )
            for job in jobs
        ),
    )


def retry_and_report(modeladmin, request: HttpRequest, order_ids: list[int]) -> None:
    """The lists' Retry: re-check the held orders in the request (no platform called), queue every
    order still waiting for the worker, and say what stays held and why, with a link to each job."""
    retry = orders_retry_queue(order_ids=order_ids, user=request.user)
    counts = retry.counts
    text = f"{counts['released']} released, {counts['still_held']} still held as checked here"
    if retry.jobs and counts["still_held"]:
        text += (
            f"; {retry.queued} queued for the worker, which checks the held ones again against the warehouse's "
            "current SKU list and sends what is ready"
        )
    elif retry.jobs:
        text += f"; {retry.queued} queued to send in the worker"
    else:
        text += "; nothing is waiting to be sent"
    if retry.not_pending:
        text += f"; {retry.not_pending} not waiting to be sent (already at the warehouse, shipped or canceled)"
    unhappy = any(job.finished and job.level != Job.Level.SUCCESS for job in retry.jobs)
    if not (retry.jobs and all(job.finished for job in retry.jobs)):  # else the jobs' outcome tells (run inline)
        unhappy = unhappy or bool(counts["still_held"])
    message = format_html("{}. {} {}", text, retry_reasons(order_ids), job_links(retry.jobs))
    modeladmin.message_user(request, message, LEVELS["warning" if unhappy else "success"])
