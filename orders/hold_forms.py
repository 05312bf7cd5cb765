"""What a person posts to act on an order's hold, on the admin's order page and the merchant's alike:
one parser (`hold_actions`) in front of `orders.services.holds_fix`, so both pages behave the same.
Send now and Release are not among them: they queue a job for the worker (`sync.send_now`), which
both pages call themselves and then follow."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest

from orders.models import Order
from orders.services.hand_hold import REASON_MAX_LENGTH, order_hold_by_hand
from orders.services.holds_fix import (
    SHIP_TO_FIELDS,
    FixResult,
    order_alias_add,
    order_hold_retry,
    order_ship_to_edit,
    order_shipping_map_add,
)

LEVELS = {"success": messages.SUCCESS, "warning": messages.WARNING, "error": messages.ERROR, "info": messages.INFO}


class ShipToForm(forms.Form):
    """The order's ship-to as a person corrects it (the cart's own copy is not changed)."""

    def __init__(self, *args, order: Order, **kwargs) -> None:
        super().__init__(*args, initial={name: getattr(order, name) for name in SHIP_TO_FIELDS}, **kwargs)
        for name in SHIP_TO_FIELDS:
            model_field = Order._meta.get_field(name)
            label = name.removeprefix("ship_").replace("_", " ").replace("e mail", "e-mail")
            self.fields[name] = forms.CharField(
                label=label.capitalize(), required=False, max_length=model_field.max_length
            )


class HandHoldForm(forms.Form):
    """Why a person holds the order by hand (shown on the order and in its history)."""

    reason = forms.CharField(max_length=REASON_MAX_LENGTH, required=False)  # blank: the service says why not


def fix_result_message(request: HttpRequest, result: FixResult) -> None:
    messages.add_message(request, LEVELS.get(result.level, messages.INFO), result.message)


def hold_actions(request: HttpRequest, order: Order, action: str) -> FixResult | None:
    """Run one of the page's hold actions on `order` (already scoped to what the person may see);
    None for an unknown action or a form that does not validate (the answer then says why)."""
    user, data = request.user, request.POST
    if action == "retry":
        return order_hold_retry(order=order, user=user)
    if action == "alias":
        return order_alias_add(
            order=order, cart_sku=data.get("cart_sku", ""), warehouse_sku=data.get("warehouse_sku", ""), user=user
        )
    if action == "mapping":
        return order_shipping_map_add(order=order, ship_code=data.get("ship_code", ""), user=user)
    if action == "hand-hold":
        hold = HandHoldForm(data)
        if not hold.is_valid():
            reason = " ".join(hold.errors.get("reason", ["not readable"]))
            return FixResult(
                False, "error", f"Not held: the reason is refused ({reason}). Give a reason in plain text."
            )
        return order_hold_by_hand(order=order, reason=hold.cleaned_data["reason"], user=user)
    if action == "ship-to":
        form = ShipToForm(data, order=order)
        if not form.is_valid():
            errors = "; ".join(f"{form.fields[n].label}: {' '.join(e)}" for n, e in form.errors.items())
            return FixResult(False, "error", f"Ship-to not saved: {errors}")
        return order_ship_to_edit(order=order, values=form.cleaned_data, user=user)
    return None
