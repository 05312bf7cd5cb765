"""A run's turn at the workers: how many batches it may deliver before it makes way for other merchants.

The workers are shared by every merchant. A merchant with a backlog of 50,000 orders would hold a worker
for the whole backlog, and another merchant's first order would wait behind all of it. A run given a
`DeliveryTurn` claims at most `batches` batches; what is due beyond them stays `new` and unclaimed (it
is neither late nor failed: counted as `deferred`), and the caller queues the connection's next turn
behind the work already waiting (`sync.cycle.cart_connection_sync_orders_turn`).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFERRED = "deferred"  # the count of due orders left for the connection's next turn


@dataclass
class DeliveryTurn:
    """The batches a run may still claim (None: as many as are due) and the orders it left for later."""

    batches: int | None = None
    deferred: int = 0

    def take(self) -> bool:
        """Use one batch of the turn; False once the turn is used up."""
        if self.batches is None:
            return True
        if self.batches <= 0:
            return False
        self.batches -= 1
        return True

    @property
    def used_up(self) -> bool:
        return self.batches is not None and self.batches <= 0

    def defer(self, orders: int, counts: dict[str, int]) -> None:
        """Leave `orders` due orders for the next turn, counted into the run's `counts`."""
        self.deferred += orders
        counts[DEFERRED] = counts.get(DEFERRED, 0) + orders
