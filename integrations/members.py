"""Which merchant a signed-in user may see: the one their `MerchantMembership` names, while it is
active. The merchant pages (`portal.scope`) and the OAuth callback (`integrations.views`) both ask."""

from __future__ import annotations

from integrations.models import Merchant, MerchantMembership


def merchant_for(user) -> Merchant | None:
    """The active merchant this user may see, or None (anonymous, not linked, merchant inactive)."""
    if not user.is_authenticated:
        return None
    membership = MerchantMembership.objects.select_related("merchant").filter(user=user).first()
    if membership is None or not membership.merchant.active:
        return None
    return membership.merchant
