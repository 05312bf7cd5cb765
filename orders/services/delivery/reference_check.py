"""Whether the order a warehouse holds under one of our references is the order we send.

A "duplicate reference" answer, and an order found under the reference of a send that may have been
interrupted, count as delivered only when the warehouse's order is verifiably this one: the same
`cust_po_no`, the same lines (SKU and quantity, summed per SKU) and the same ship-to (name, street,
city, postal code, country; compared without case, spaces or punctuation, a ZIP+4 matching its ZIP).
Anything else is another order: two stores that both have an order #1001 on one warehouse account, a
reference taken outside Orderbridge, an order the warehouse cannot describe. Ours is then held with
a new reference (which Retry sends it under, see `claims.order_hold_reference_taken`), never
counted as delivered. Both delivery paths (`deliver`, one order at a time, and `batch`)
decide with this module.

A hold reason names what differs, never the other order's values: it may be another merchant's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from integrations.connectors.base import WarehouseConnector
from integrations.connectors.canonical import Address, WarehouseOrder, WarehouseOrderLine, WarehouseOrderRef
from integrations.connectors.errors import ConnectorError, TemporaryError

SHORTEST_ZIP = 3  # a postal code this long or longer matches a longer one it begins (ZIP and ZIP+4)


@dataclass(frozen=True)
class ReferenceCheck:
    """What the warehouse holds under a reference: `ours` (the order sent) or only `others`."""

    cust_ref: str
    ours: WarehouseOrderRef | None
    others: list[WarehouseOrderRef] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)  # what differs on the first other order


def _plain(text: str | None) -> str:
    return "".join(ch for ch in (text or "").casefold() if ch.isalnum())


def _quantities(items: Iterable[WarehouseOrderLine]) -> Counter[str]:
    totals: Counter[str] = Counter()
    for item in items:
        totals[_plain(item.sku)] += item.quantity
    return totals


def _same_zip(a: str, b: str) -> bool:
    shorter, longer = sorted((_plain(a), _plain(b)), key=len)
    return shorter == longer or (len(shorter) >= SHORTEST_ZIP and longer.startswith(shorter))


def _same_place(sent: Address, found: Address) -> bool:
    name = (_plain(sent.full_name), _plain(found.full_name))
    if not sent.full_name:  # a company with no person: the warehouse names it in either field
        name = (_plain(sent.company), _plain(found.full_name or found.company))
    return (
        name[0] == name[1]
        and all(_plain(getattr(sent, f)) == _plain(getattr(found, f)) for f in ("address_1", "city", "country"))
        and _same_zip(sent.zip, found.zip)
    )


def order_differences(sent: WarehouseOrder, found: WarehouseOrderRef) -> list[str]:
    """What of the warehouse's order does not match the order sent; empty when it is this order.
    What the warehouse did not say counts as different (it cannot be verified)."""
    differences = []
    if found.cust_po_no is None or _plain(found.cust_po_no) != _plain(sent.cust_po_no):
        differences.append("order number")
    if found.items is None or _quantities(found.items) != _quantities(sent.items):
        differences.append("lines")
    if found.ship_to is None or not _same_place(sent.ship_to, found.ship_to):
        differences.append("ship-to")
    return differences


def reference_check(*, connector: WarehouseConnector, sent: WarehouseOrder) -> ReferenceCheck:
    """Ask the warehouse what it holds under the order's reference (raises the connector's errors)."""
    found = connector.find_orders(sent.cust_ref)
    for candidate in found:
        if not order_differences(sent, candidate):
            return ReferenceCheck(sent.cust_ref, candidate, [o for o in found if o is not candidate])
    return ReferenceCheck(sent.cust_ref, None, found, order_differences(sent, found[0]) if found else [])


def reference_unreadable(cust_ref: str, exc: ConnectorError) -> TemporaryError:
    """Why a duplicate answer is retried: the order under the reference could not be read back."""
    return TemporaryError(
        f"The warehouse already has reference {cust_ref}, and the order under it could not be read back ({exc}): "
        "it is asked for again before any resend"
    )


def already_there_message(cust_ref: str, *, interrupted: bool) -> str:
    how = "after an interrupted send" if interrupted else "when it was sent again"
    return (
        f"Found at the warehouse as {cust_ref} {how}, and it is this order (its order number, lines and ship-to "
        "match): counted as delivered, not sent again."
    )


def differences_named(*, differences: list[str]) -> str:
    """The names of what differs, as a phrase: "lines", "order number and lines"..."""
    if len(differences) < 2:
        return "".join(differences)
    return ", ".join(differences[:-1]) + " and " + differences[-1]


def reference_taken_reason(check: ReferenceCheck, proposed: str | None) -> str:
    """The hold reason: what was found (by what differs only), and the fix-it."""
    if check.others:
        seen = f"its {differences_named(differences=check.differences)} differ from this order's"
    else:
        seen = "the warehouse refused it as a duplicate and shows no order of ours under it"
    reason = f"Reference {check.cust_ref} already used at the warehouse by another order ({seen}): not delivered."
    if proposed:
        return (
            f"{reason} This order now has the new reference {proposed}: Retry sends it under that reference. If the "
            f"warehouse's order {check.cust_ref} is in fact this one, do not retry: ask the warehouse."
        )
    return f"{reason} No free reference is left: set a reference prefix on the warehouse connection, then Retry."
