"""Staff link a user to a merchant on the user's admin page (the merchant pages' one membership)."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from config.admin_guard import KeyCheckedAutocompleteMixin
from integrations.models import MerchantMembership

User = get_user_model()


class MerchantMembershipInline(KeyCheckedAutocompleteMixin, admin.StackedInline):
    model = MerchantMembership
    can_delete = True
    extra = 0
    max_num = 1
    verbose_name = "merchant (for the merchant pages at /merchant/)"
    verbose_name_plural = verbose_name
    autocomplete_fields = ["merchant"]


admin.site.unregister(User)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    inlines = [*BaseUserAdmin.inlines, MerchantMembershipInline]
    list_display = [*BaseUserAdmin.list_display, "merchant"]
    list_select_related = ["merchant_membership__merchant"]

    @admin.display(description="merchant", ordering="merchant_membership__merchant__name")
    def merchant(self, obj) -> str:
        membership = getattr(obj, "merchant_membership", None)
        return str(membership.merchant) if membership else "—"
