"""Bergen's orders changed after delivery: read the order and its ETag, write under it, read it back.

Mixed into `BergenWarehouse` (which gives `call`, `get_json`, `find_order` and the settings); the
payloads and the reading of states are the pure functions of `lifecycle`. Every change reads the
order first: one already as asked is CHANGE_ALREADY and nothing is sent (so a change resent after
a lost answer is made once); a closed order is too late without a request; otherwise the write goes
under the ETag just read, a 412 (changed meanwhile) reads again and retries once, and a write the
warehouse took counts only once the order read back shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from integrations.connectors.answers import status_phrase, summary
from integrations.connectors.bergen.lifecycle import (
    lines_body,
    refusal_code,
    shows_update,
    state_of,
    update_body,
)
from integrations.connectors.bergen.wire import error_text
from integrations.connectors.canonical import (
    CHANGE_ALREADY,
    CHANGE_APPLIED,
    WH_CANCELED,
    WH_PICKING,
    WH_SHIPPED,
    ChangeResult,
    WarehouseOrder,
    WarehouseOrderLine,
    WarehouseOrderRef,
    WarehouseOrderState,
    units_by_sku,
    units_left,
)
from integrations.connectors.errors import (
    AuthenticationError,
    BadPayloadError,
    ChangeRefusedError,
    ChangeTooLateError,
    ChangeUnconfirmedError,
    TemporaryError,
)

LABEL = "Bergen Logistics"
_REFUSALS = (400, 403, 404, 409, 412, 428)

Done = Callable[[WarehouseOrderState], bool]
Body = Callable[[dict[str, Any]], dict[str, Any]]


class BergenOrderChanges:
    """`order_state`, `order_cancel` and `order_update` for Bergen (see the module docstring)."""

    partial_cancel_supported = True  # as an update with lower quantities (modelled: see `lifecycle`)

    def order_state(self, ref: WarehouseOrderRef) -> WarehouseOrderState:
        return self._read(ref)[0]

    def order_cancel(
        self, ref: WarehouseOrderRef, *, reason: str, lines: list[WarehouseOrderLine] | None = None
    ) -> ChangeResult:
        """The canceler for the whole order; with `lines`, an update leaving the order as sent
        (`ref.items`, which a cancel of part of the order needs) less those units, or the canceler
        when nothing is left."""
        if lines:
            if ref.items is None:
                raise ValueError("a cancel of some lines needs the lines as sent (ref.items)")
            left = units_left(ref.items, lines)
            if left:
                return self._change(
                    ref, "Cancel of some lines", lambda s: units_by_sku(s.items) == left, lambda r: lines_body(r, left)
                )
        note = (reason or "Canceled at the cart").strip()[:200]
        return self._change(ref, "Cancel", lambda s: s.state == WH_CANCELED, lambda r: {"reason": note}, cancel=True)

    def order_update(self, ref: WarehouseOrderRef, payload: WarehouseOrder) -> ChangeResult:
        customer = str(self.settings.get("customer_name") or "")
        facility = str(self.settings.get("facility") or "")
        return self._change(
            ref,
            "Update",
            lambda s: s.state != WH_CANCELED and shows_update(s, payload),
            lambda r: update_body(r, payload, customer_name=customer, facility=facility),
        )

    # --- the steps ---

    def _order_id(self, ref: WarehouseOrderRef) -> str:
        if ref.warehouse_order_id:
            return ref.warehouse_order_id
        found = self.find_order(ref.cust_ref)
        if found is None:
            raise ChangeRefusedError(f"{LABEL} has no order {ref.cust_ref}: nothing to change there")
        return found.warehouse_order_id

    def _read(self, ref: WarehouseOrderRef) -> tuple[WarehouseOrderState, dict[str, Any]]:
        order_id = self._order_id(ref)
        response = self.call("GET", f"/orders/{order_id}", params={"detail": "All"}, ok_statuses=(404,))
        if response.status_code == 404:
            raise ChangeRefusedError(f"{LABEL} has no order {order_id} ({ref.cust_ref}): nothing to change there")
        try:
            record = response.json()
        except ValueError as exc:
            raise BadPayloadError(f"{LABEL} answered order {order_id} with something that is not JSON") from exc
        state = state_of(record, response.headers.get("ETag", "")) if isinstance(record, dict) else None
        if state is None:
            raise BadPayloadError(f"{LABEL} answered order {order_id} without its id")
        return state, record

    def _change(self, ref: WarehouseOrderRef, action: str, done: Done, body: Body, *, cancel: bool = False):
        """Read, judge, write under the ETag (once more after a 412), read back (module docstring)."""
        for _attempt in range(2):
            state, record = self._read(ref)
            if done(state):
                return ChangeResult(CHANGE_ALREADY, state, f"{action}: the order already is so at {LABEL}")
            _refuse_by_state(state, action, cancel=cancel)
            path = f"/orders/{state.warehouse_order_id}" + ("/canceler" if cancel else "")
            response = self.call(
                "POST" if cancel else "PUT",
                path,
                json_body=body(record),
                headers={"If-Match": state.version} if state.version else {},
                ok_statuses=_REFUSALS,
            )
            if response.status_code in (409, 412):
                continue
            if response.status_code in _REFUSALS:
                return self._refused(ref, response, action, done, cancel=cancel)
            after = self._read(ref)[0]
            if done(after):
                return ChangeResult(CHANGE_APPLIED, after, f"{action}: confirmed by reading the order back")
            raise ChangeUnconfirmedError(
                f"{action} of order {state.cust_ref or state.warehouse_order_id}: {LABEL} accepted it "
                f"({response.status_code}), but the order read back does not show it ({after.platform_status})"
            )
        raise TemporaryError(
            f"{action} of order {ref.cust_ref}: the order kept changing at {LABEL} while we wrote (412 twice); "
            "it is tried again later",
            status=412,
        )

    def _refused(
        self, ref: WarehouseOrderRef, response: requests.Response, action: str, done: Done, *, cancel: bool
    ) -> ChangeResult:
        """A refusal judged by the order read again: as asked already, too late, or for a person."""
        status = response.status_code
        try:
            answer = response.json()
        except ValueError:
            answer = None
        code, hint, operation = refusal_code(answer)
        said = summary(hint or error_text(answer, response.text)) or status_phrase(status)
        if status == 403 and not operation:
            raise AuthenticationError(
                f"403: the API login may not change orders at {LABEL} ({said}); ask Bergen for order write access",
                status=403,
            )
        state = self._read(ref)[0]
        if done(state):
            return ChangeResult(CHANGE_ALREADY, state, f"{action}: the order already is so at {LABEL}")
        if status == 403:
            _refuse_by_state(state, action, cancel=cancel, said=f"{code}: {said}" if code else said)
        raise ChangeRefusedError(
            f"{LABEL} refused the {action.lower()} of order {ref.cust_ref} ({status}): {said}", status=status
        )


def _refuse_by_state(state: WarehouseOrderState, action: str, *, cancel: bool, said: str = "") -> None:
    """Raise when the order's state rules the change out: shipped or picking is too late (picking
    only once the warehouse said no: some take changes until the order is confirmed); a canceled
    order cannot be updated."""
    reference = state.cust_ref or state.warehouse_order_id
    answer = f" ({said})" if said else ""
    if state.state == WH_SHIPPED or (said and state.state == WH_PICKING):
        raise ChangeTooLateError(
            f"Too late: {LABEL} refused the {action.lower()} of order {reference}, which is {state.platform_status}"
            f"{answer}. It may ship as it was: ask the warehouse to intercept it, or plan a return",
            state=state.state,
            platform_status=state.platform_status,
            status=403 if said else None,
        )
    if state.state == WH_CANCELED and not cancel:
        raise ChangeRefusedError(
            f"{LABEL} has canceled order {reference}: the {action.lower()} was not sent; check with the warehouse "
            "whether it should ship"
        )
