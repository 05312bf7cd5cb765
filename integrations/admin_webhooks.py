"""The admin's read-only page of the cart connections' webhook subscriptions (kept by
`integrations.webhooks`). The secret is never shown: only whether one is stored."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from config.admin_filters import AutocompleteFiltersMixin, autocomplete_filter
from integrations.models import WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(AutocompleteFiltersMixin, admin.ModelAdmin):
    list_display = ["connection", "platform_id", "topics_shown", "secret_shown", "created_at", "checked_at"]
    list_filter = ["connection__platform", autocomplete_filter("connection", "cart connection")]
    list_select_related = ["connection__merchant"]
    search_fields = ["=platform_id", "connection__name", "connection__merchant__name"]
    date_hierarchy = "created_at"
    fields = ["connection", "platform_id", "topics", "endpoint_url", "secret_shown", "created_at", "checked_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # removed with the platform's side by the connection (`integrations.webhooks`)

    @admin.display(description="topics")
    def topics_shown(self, obj: WebhookSubscription) -> str:
        return ", ".join(obj.topics or [])

    @admin.display(description="secret")
    def secret_shown(self, obj: WebhookSubscription) -> str:
        if obj.secret:
            return "set"
        return "none (the platform signs with our OAuth app's secret)" if obj.pk else ""
