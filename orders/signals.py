"""Creating, changing, deactivating or deleting a connection (or a merchant) reconciles the
django-q2 schedules once the change is committed. A warehouse connection that now reaches another
platform account moves its orders' references into that account's namespace."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from integrations.accounts import platform_account_changed
from integrations.models import CartConnection, Merchant, WMSConnection
from orders.services.references import warehouse_orders_move_account
from orders.services.schedules import schedules_reconcile


@receiver(post_save, sender=CartConnection)
@receiver(post_delete, sender=CartConnection)
@receiver(post_save, sender=Merchant)
def connection_changed(sender, **kwargs) -> None:
    transaction.on_commit(schedules_reconcile)


@receiver(platform_account_changed, sender=WMSConnection)
def warehouse_account_changed(sender, *, connection, previous, current, previous_known, **kwargs) -> None:
    warehouse_orders_move_account(
        warehouse_id=connection.pk, previous=previous, current=current, sent_too=not previous_known
    )
