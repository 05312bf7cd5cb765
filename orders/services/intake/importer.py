"""What the parts of one import run share, passed to each of them by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from integrations.models import CartConnection
from orders.models import Order, OrderLine, SyncRun
from orders.services.translation.translate import TranslationContext

if TYPE_CHECKING:
    from orders.services.delivery.claims import ClaimLease

ClaimedOrders = tuple["ClaimLease", list[Order], dict[int, list[OrderLine]]]


class NewOrdersDelivery(Protocol):
    """What the import hands its new, ready orders to (`BatchDeliverer`)."""

    def lease(self) -> ClaimLease | None: ...

    def deliver_claimed(self, lease: ClaimLease, orders: list[Order], lines: dict[int, list[OrderLine]]) -> None: ...

    def deliver(self, order_ids: list[int]) -> None: ...


@dataclass
class Importer:
    """One run's import of one cart connection.

    `context` gives the translation context (aliases, shipping map, warehouse SKUs) on first use, so
    a run that finds nothing new does not read the warehouse's SKU list. The new orders of a page
    that are ready to send collect in `ready` (by id) or, when the delivery gave a lease, in
    `claimed` (stored already claimed under it), until the page is committed and `hand_over` passes
    them to the delivery.
    """

    connection: CartConnection
    run: SyncRun
    context_factory: Callable[[], TranslationContext]
    counts: dict[str, int]
    delivery: NewOrdersDelivery | None = None
    ready: list[int] = field(default_factory=list)
    claimed: list[ClaimedOrders] = field(default_factory=list)
    loaded_context: TranslationContext | None = None

    @property
    def context(self) -> TranslationContext:
        if self.loaded_context is None:
            self.loaded_context = self.context_factory()
        return self.loaded_context

    def hand_over(self) -> None:
        """Give the delivery the page's new orders (the page is committed), and start the next page."""
        if self.delivery is not None:
            for lease, orders, lines in self.claimed:
                self.delivery.deliver_claimed(lease, orders, lines)
            if self.ready:
                self.delivery.deliver(self.ready)
        self.ready, self.claimed = [], []
