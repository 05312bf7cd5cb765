"""The warehouse's SKU list as last read, kept so that a person's page can check an SKU without
calling the warehouse in the request.

Every read of the list (a sync, a re-check, a read an order page queued in the worker) stores it
(`sku_list_store`); a page reads the stored copy (`sku_list_stored`) and, when it is older than
`WAREHOUSE_SKU_LIST_MAX_AGE_MINUTES` or was never read, queues a read in the worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone
from django.utils.timesince import timesince

from integrations.models import WMSConnection
from orders.models import WarehouseSKUList


@dataclass(frozen=True)
class StoredSKUs:
    """The stored list of one warehouse: `skus` None when it was never read."""

    skus: frozenset[str] | None
    read_at: datetime | None
    read_error: str = ""

    @property
    def stale(self) -> bool:
        """Never read, or read longer ago than the stated age."""
        if self.read_at is None:
            return True
        return timezone.now() - self.read_at > timedelta(minutes=settings.WAREHOUSE_SKU_LIST_MAX_AGE_MINUTES)

    def describe(self) -> str:
        """When the list was read, for a person ("never read", "read 3 minutes ago")."""
        if self.read_at is None:
            return "the warehouse's SKU list has never been read"
        return f"the warehouse's SKU list was read {timesince(self.read_at)} ago"


def sku_list_store(*, warehouse: WMSConnection, skus: set[str] | None, error: str = "") -> None:
    """Keep what a read of the list gave: the SKUs (a failed read keeps the last good list and its
    time, and records why it failed)."""
    if skus is None:
        WarehouseSKUList.objects.update_or_create(warehouse=warehouse, defaults={"read_error": error[:2000]})
        return
    WarehouseSKUList.objects.update_or_create(
        warehouse=warehouse, defaults={"skus": sorted(skus), "read_at": timezone.now(), "read_error": ""}
    )


def sku_list_stored(*, warehouse: WMSConnection) -> StoredSKUs:
    row = WarehouseSKUList.objects.filter(warehouse=warehouse).first()
    if row is None:
        return StoredSKUs(skus=None, read_at=None)
    skus = frozenset(row.skus) if row.read_at is not None else None
    return StoredSKUs(skus=skus, read_at=row.read_at, read_error=row.read_error)


def sku_list_recent(*, warehouse: WMSConnection, seconds: int) -> frozenset[str] | None:
    """The stored list when it was read in the last `seconds` (a run may use it instead of reading the
    warehouse's again: `TranslationContext.skus_cover` reads it when an order names an SKU it lacks)."""
    if seconds <= 0:
        return None
    since = timezone.now() - timedelta(seconds=seconds)
    row = (
        WarehouseSKUList.objects.filter(warehouse=warehouse, read_at__gte=since).values_list("skus", flat=True).first()
    )
    return frozenset(row) if row is not None else None


def sku_list_read_queued(*, warehouse: WMSConnection) -> bool:
    """Mark a read as queued now; False when one was queued within the last minute (not queued twice)."""
    now = timezone.now()
    row, _ = WarehouseSKUList.objects.get_or_create(warehouse=warehouse)
    recent = now - timedelta(minutes=1)
    updated = WarehouseSKUList.objects.filter(pk=row.pk).exclude(read_queued_at__gt=recent).update(read_queued_at=now)
    return bool(updated)
