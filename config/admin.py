"""The admin site whose first page is the operations dashboard (the app list stays below it)."""

from functools import wraps

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

from config.admin_guard import admin_parameters_problem
from config.middleware import bad_request


class OrderbridgeAdminSite(admin.AdminSite):
    index_template = "admin/dashboard/index.html"

    def index(self, request, extra_context=None):
        # This module is imported before the models are ready.
        from orders.dashboard import dashboard_get
        from sync.heartbeat import missing_after, workers_seen

        workers = {"seen": list(workers_seen()[:20]), "missing_after": missing_after()}
        return super().index(request, {"dashboard": dashboard_get(), "workers": workers, **(extra_context or {})})

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
