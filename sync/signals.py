"""Creating, changing, deactivating or deleting a connection (or a merchant) reconciles the
django-q2 schedules once the change is committed."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from integrations.models import CartConnection, Merchant
from sync.schedules import schedules_reconcile


@receiver(post_save, sender=CartConnection)
@receiver(post_delete, sender=CartConnection)
@receiver(post_save, sender=Merchant)
def connection_changed(sender: type, **kwargs: object) -> None:
    transaction.on_commit(schedules_reconcile)
