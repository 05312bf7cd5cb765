"""Creating, changing, deactivating or deleting a connection (or a merchant) reconciles the
django-q2 schedules once the change is committed; deactivating a connection removes its webhook
subscriptions (in the worker), deleting it removes them first (its credentials go with the row);
a django-q2 worker beats its heartbeat when it starts and before each task (`sync.heartbeat`)."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver
from django_q.signals import post_spawn, pre_execute
from django_q.tasks import async_task

from integrations.models import CartConnection, Merchant, WebhookSubscription
from integrations.webhooks import webhooks_remove
from sync.heartbeat import heartbeat_beat
from sync.schedules import schedules_reconcile


@receiver(post_save, sender=CartConnection)
@receiver(post_delete, sender=CartConnection)
@receiver(post_save, sender=Merchant)
def connection_changed(sender: type, **kwargs: object) -> None:
    transaction.on_commit(schedules_reconcile)


@receiver(post_save, sender=CartConnection)
def connection_deactivated(*, instance: CartConnection, **kwargs: object) -> None:
    if not instance.active and WebhookSubscription.objects.filter(connection=instance).exists():
        transaction.on_commit(lambda: async_task("sync.tasks.webhooks_remove_task", connection_id=instance.pk))


@receiver(pre_delete, sender=CartConnection)
def connection_deleted(*, instance: CartConnection, **kwargs: object) -> None:
    webhooks_remove(connection=instance)


@receiver(post_spawn)
def worker_started(sender: object, **kwargs: object) -> None:
    heartbeat_beat(force=True)


@receiver(pre_execute)
def worker_takes_task(sender: object, **kwargs: object) -> None:
    heartbeat_beat()
