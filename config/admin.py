"""The admin site whose first page is the operations dashboard (the app list stays below it)."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig


class OrderbridgeAdminSite(admin.AdminSite):
    index_template = "admin/dashboard/index.html"

    def index(self, request, extra_context=None):
        from orders.dashboard import dashboard_get  # this module is imported before the models are ready

        return super().index(request, {"dashboard": dashboard_get(), **(extra_context or {})})


class OrderbridgeAdminConfig(AdminConfig):
    default_site = "config.admin.OrderbridgeAdminSite"
