"""The translation context an orders run builds on first use: the merchant's aliases and shipping map,
and the warehouse's SKU list, as a run stored it in the last `WAREHOUSE_SKU_LIST_REUSE_SECONDS` (read
again when a page names an SKU it lacks: `TranslationContext.skus_cover`) or read now."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings

from integrations.connectors.base import WarehouseConnector
from integrations.models import CartConnection, WMSConnection
from orders.services.translation.sku_list import sku_list_recent
from orders.services.translation.translate import TranslationContext, load_context, warehouse_skus


def translation_context_factory(
    *,
    connection: CartConnection,
    warehouse: WMSConnection | None,
    connector: WarehouseConnector | None,
    notes: list[str],
) -> Callable[[], TranslationContext]:
    """What builds the run's context when an order first needs it (a run that finds nothing new never
    reads the SKU list); why the list could not be read goes to `notes`."""

    def read() -> set[str] | None:
        skus, note = warehouse_skus(connector=connector, warehouse=warehouse)
        if note:
            notes.append(note)
        return skus

    def build() -> TranslationContext:
        recent = None
        if connector is not None and warehouse is not None:
            recent = sku_list_recent(warehouse=warehouse, seconds=settings.WAREHOUSE_SKU_LIST_REUSE_SECONDS)
        context = load_context(
            merchant_id=connection.merchant_id,
            warehouse=warehouse,
            warehouse_skus=set(recent) if recent is not None else read(),
            warehouse_connector=connector,
        )
        if recent is not None:
            context.warehouse_skus_read = read
        return context

    return build
