"""The admin site whose first page is the operations dashboard (the app list stays below it)."""

from functools import wraps

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.utils import timezone

from config.admin_guard import admin_parameters_problem
from config.middleware import bad_request


class OrderbridgeAdminSite(admin.AdminSite):
    index_template = "admin/dashboard/index.html"

    def index(self, request, extra_context=None):
        # This module is imported before the models are ready.
        from orders.dashboard import dashboard_get
        from sync.heartbeat import NO_WORKER_MESSAGE, missing_after, workers_seen

        seen = list(workers_seen()[:20])
        alive = any(w.last_seen >= timezone.now() - missing_after() for w in seen)
        context = {
            "dashboard": dashboard_get(),
            "workers": {"seen": seen},
            "worker_banner": "" if alive else NO_WORKER_MESSAGE,
        }
        return super().index(request, {**context, **(extra_context or {})})

    def admin_view(self, view, cacheable=False):
        """Every admin view (each ModelAdmin's included) refuses the parameters it would fail on."""
        inner = super().admin_view(view, cacheable)
        model_admin = getattr(view, "__self__", None)  # a ModelAdmin's views are its bound methods
        model = model_admin.model if isinstance(model_admin, admin.ModelAdmin) else None

        @wraps(inner)
        def checked(request, *args, **kwargs):
            if problem := admin_parameters_problem(request, model):
                return bad_request(problem)
            return inner(request, *args, **kwargs)

        return checked


class OrderbridgeAdminConfig(AdminConfig):
    default_site = "config.admin.OrderbridgeAdminSite"
