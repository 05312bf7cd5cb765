"""Is a warehouse SKU one the warehouse lists? The one check every page that saves an SKU alias
uses (an order's page, the alias pages of the admin and the merchant, the CSV import in both).

It reads the warehouse's SKU list as last read (`sku_list`), never the warehouse itself, so no
request waits on a platform. A list older than `WAREHOUSE_SKU_LIST_MAX_AGE_MINUTES`, or never
read, is read again in the worker (django-q2) and the answer says so. An SKU none of the
warehouses lists is refused with the reason; one that cannot be checked because a list was never
read is refused too (save again once the read is in). A merchant with no warehouse connected has
nothing to check against: the alias is saved and the answer says the SKU was not checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial

from django.db import transaction
from django_q.tasks import async_task

from integrations.models import WMSConnection
from orders.services.translation.sku_list import StoredSKUs, sku_list_read_queued, sku_list_stored

SKU_LIST_READ_TASK = "orders.tasks.warehouse_sku_list_read_task"


def sku_list_refresh(*, warehouse: WMSConnection, stored: StoredSKUs) -> str:
    """Queue a read of a stale list in the worker; the sentence that says so ("" when fresh)."""
    if not stored.stale:
        return ""
    if sku_list_read_queued(warehouse=warehouse):
        transaction.on_commit(partial(async_task, SKU_LIST_READ_TASK, warehouse.pk))
    return f" {stored.describe().capitalize()}: a fresh read is queued in the worker."


@dataclass(frozen=True)
class SKUCheck:
    """What the check found: `refused` maps each refused warehouse SKU to the reason (a sentence
    without a leading "Not saved:"); `note` is for the result message (lists read again, or the
    SKUs could not be checked at all); `level` "warning" when nothing is wrong but a list was never
    read (save again in a minute)."""

    refused: dict[str, str]
    note: str
    level: str = "error"

    def reason(self, sku: str) -> str:
        return self.refused.get(sku, "")


def warehouse_skus_check(*, warehouses: Iterable[WMSConnection], skus: Iterable[str]) -> SKUCheck:
    """Check `skus` against the stored lists of `warehouses` (an SKU passes when one of them lists
    it); stale lists are queued for a read in the worker, once each."""
    warehouses = list(warehouses)
    if not warehouses:
        return SKUCheck(refused={}, note=" The warehouse SKU was not checked: no warehouse is connected.")
    lists = [(warehouse, sku_list_stored(warehouse=warehouse)) for warehouse in warehouses]
    refresh = "".join(sku_list_refresh(warehouse=warehouse, stored=stored) for warehouse, stored in lists)
    never_read = [warehouse for warehouse, stored in lists if stored.skus is None]
    refused: dict[str, str] = {}
    for sku in dict.fromkeys(skus):
        if any(stored.skus is not None and sku in stored.skus for _, stored in lists):
            continue
        if never_read:
            refused[sku] = (
                f"the SKU list of {_names(never_read)} has never been read, so '{sku}' cannot be checked. "
                "A read is queued in the worker: save again in a minute."
            )
            continue
        listed = "; ".join(
            f"{'' if len(lists) == 1 else warehouse.platform_label + ': '}{stored.describe()}, "
            f"{len(stored.skus or ())} SKUs"
            for warehouse, stored in lists
        )
        again = " If the item was just created there, save again once the fresh read is in." if refresh else ""
        refused[sku] = (
            f"{_names(warehouses)} does not list SKU '{sku}' ({listed}). Pick one of its SKUs or create the "
            f"item at the warehouse first.{refresh}{again}"
        )
    level = "warning" if never_read and refused else "error"
    return SKUCheck(refused=refused, note=refresh, level=level)


def _names(warehouses: list[WMSConnection]) -> str:
    return " nor ".join(dict.fromkeys(warehouse.platform_label for warehouse in warehouses))


def merchant_warehouses(*, merchant_id: int) -> list[WMSConnection]:
    """The warehouses a merchant's aliases are checked against: its active warehouse connections."""
    return list(WMSConnection.objects.filter(merchant_id=merchant_id, active=True).order_by("pk"))
