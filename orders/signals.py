"""A warehouse connection that now reaches another platform account moves its orders' references
into that account's namespace."""

from django.dispatch import receiver

from integrations.accounts import platform_account_changed
from integrations.models import WMSConnection
from orders.services.translation.references import warehouse_orders_move_account


@receiver(platform_account_changed, sender=WMSConnection)
def warehouse_account_changed(sender, *, connection, previous, current, previous_known, **kwargs) -> None:
    warehouse_orders_move_account(
        warehouse_id=connection.pk, previous=previous, current=current, sent_too=not previous_known
    )
