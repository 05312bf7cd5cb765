"""Squarespace Commerce records as the API returns them, and the builders the sandbox seeds them with.

Shapes follow developers.squarespace.com (Orders API "Order" resource, Inventory API "InventoryItem").
The docs promise that "all documented fields are always present in a response body, even if the field's
value is null" and that an empty array may come as ``null`` or ``[]``; the builders do both (e.g.
``discountLines`` and ``internalNotes`` are ``null``, ``fulfillments`` is ``[]``) so a connector that
expects a missing key, or a list that is never null, fails here before it fails in production.

Assumptions where the docs are silent:
- ``id`` and ``productId`` are 24 hex digits (ids in the docs' examples look like that), ``variantId`` is a
  UUID string, ``orderNumber`` is a string of digits.
- Timestamps are written as ``YYYY-MM-DDThh:mm:ss.sssZ`` (UTC, milliseconds), as in the docs' examples.
- ``lineItemType`` is ``PHYSICAL_PRODUCT``; ``channel`` is ``web``; ``priceTaxInterpretation`` ``EXCLUSIVE``.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import re
import secrets
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

FULFILLMENT_STATUSES = ("PENDING", "FULFILLED", "CANCELED")

_ISO_UTC = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|\+00:00)")

ADDRESS_FIELDS = (
    "firstName",
    "lastName",
    "address1",
    "address2",
    "city",
    "state",
    "countryCode",
    "postalCode",
    "phone",
)

DEFAULT_ADDRESS: dict[str, Any] = {
    "firstName": "Ada",
    "lastName": "Lovelace",
    "address1": "12 Analytical Row",
    "address2": None,
    "city": "Hoboken",
    "state": "NJ",
    "countryCode": "US",
    "postalCode": "07030",
    "phone": "+1 201 555 0100",
}


def new_object_id() -> str:
    return secrets.token_hex(12)


def new_variant_id() -> str:
    return str(uuid.uuid4())


def iso(moment: datetime) -> str:
    """UTC ISO 8601 with milliseconds and ``Z``, the way Squarespace writes timestamps."""
    if moment.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def parse_iso_utc(value: str) -> datetime | None:
    """A timestamp the API accepts (ISO 8601 in UTC, ``Z`` or ``+00:00``), or None when it is not one."""
    if not _ISO_UTC.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def now_utc() -> datetime:
    return datetime.now(UTC)


def money(value: Decimal | str | int, currency: str = "USD") -> dict[str, str]:
    return {"currency": currency, "value": f"{Decimal(value):.2f}"}


def build_address(overrides: dict[str, Any] | None) -> dict[str, Any]:
    address = dict(DEFAULT_ADDRESS)
    address.update(overrides or {})
    return address


def build_line_item(line: dict[str, Any], currency: str, variant_id: str | None) -> dict[str, Any]:
    """One ``lineItems[]`` entry from the short spec ``{"sku", "quantity", "price", "name", "options"?}``."""
    options = line.get("options")
    return {
        "id": new_object_id(),
        "variantId": line.get("variant_id") or variant_id or new_variant_id(),
        "sku": line.get("sku"),
        "productId": line.get("product_id") or new_object_id(),
        "productName": line.get("name", "Widget"),
        "quantity": int(line.get("quantity", 1)),
        "unitPricePaid": money(line.get("price", "10.00"), currency),
        "variantOptions": [{"optionName": k, "value": v} for k, v in options.items()] if options else None,
        "customizations": line.get("customizations"),
        "imageUrl": line.get("image_url"),
        "lineItemType": "PHYSICAL_PRODUCT",
    }


def build_order(
    *,
    order_number: str,
    created_on: datetime,
    modified_on: datetime,
    fulfillment_status: str,
    line_items: list[dict[str, Any]],
    shipping_method: str | None,
    shipping_amount: str,
    shipping_address: dict[str, Any],
    billing_address: dict[str, Any],
    customer_email: str | None,
    testmode: bool,
    currency: str,
) -> dict[str, Any]:
    """A complete Order resource, totals computed from the lines so they add up as the real ones do."""
    subtotal = sum((Decimal(li["unitPricePaid"]["value"]) * li["quantity"] for li in line_items), start=Decimal("0"))
    shipping = Decimal(shipping_amount)
    fulfilled = fulfillment_status == "FULFILLED"
    return {
        "id": new_object_id(),
        "orderNumber": str(order_number),
        "createdOn": iso(created_on),
        "modifiedOn": iso(modified_on),
        "channel": "web",
        "channelName": "Squarespace",
        "externalOrderReference": None,
        "customerId": None,
        "testmode": testmode,
        "customerEmail": customer_email,
        "billingAddress": billing_address,
        "shippingAddress": shipping_address,
        "fulfillmentStatus": fulfillment_status,
        "lineItems": line_items,
        "internalNotes": None,
        "shippingLines": [{"method": shipping_method, "amount": money(shipping, currency)}] if shipping_method else [],
        "discountLines": None,
        "formSubmission": None,
        "fulfillments": [],
        "subtotal": money(subtotal, currency),
        "shippingTotal": money(shipping, currency),
        "discountTotal": money(0, currency),
        "taxTotal": money(0, currency),
        "refundedTotal": money(0, currency),
        "grandTotal": money(subtotal + shipping, currency),
        "priceTaxInterpretation": "EXCLUSIVE",
        "fulfilledOn": iso(modified_on) if fulfilled else None,
    }


def build_inventory_item(variant_id: str, sku: str, quantity: int, descriptor: str, is_unlimited: bool) -> dict:
    return {
        "variantId": variant_id,
        "sku": sku,
        "descriptor": descriptor or sku,
        "isUnlimited": is_unlimited,
        "quantity": quantity,
    }


def order_sort_key(order: dict[str, Any]) -> tuple[str, str]:
    """Orders are listed by ``modifiedOn`` ascending; the id breaks ties so pages never overlap or skip."""
    return (order["modifiedOn"], order["id"])


class CursorCodec:
    """Opaque, tamper-evident page cursors that carry the original filter and the last key seen.

    Keyset cursors are "dynamic" in the docs' sense: they point at a position, not at a snapshot, so an
    order modified while a client pages moves to the end of the list instead of shifting every page.
    """

    def __init__(self, secret: bytes | None = None) -> None:
        """``secret``: a fixed one keeps cursors valid across copies of the sandbox (the benchmark replays
        recorded cursors against a fresh copy); by default each sandbox signs with its own."""
        self._secret = secret or secrets.token_bytes(16)

    def encode(self, state: dict[str, Any]) -> str:
        raw = json.dumps(state, separators=(",", ":"), sort_keys=True).encode()
        payload = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        return f"{payload}.{self._sign(payload)}"

    def decode(self, cursor: str, kind: str) -> dict[str, Any] | None:
        payload, _, signature = cursor.partition(".")
        if not payload or not hmac.compare_digest(signature, self._sign(payload)):
            return None
        try:
            state = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        except ValueError:
            return None
        return state if isinstance(state, dict) and state.get("kind") == kind else None

    def _sign(self, payload: str) -> str:
        return hmac.new(self._secret, payload.encode(), hashlib.sha256).hexdigest()[:16]


def public_copy(record: dict[str, Any]) -> dict[str, Any]:
    """A deep copy, so a test holding a returned record cannot change the sandbox's state by accident."""
    return copy.deepcopy(record)


class RequestRefused(Exception):
    """A request the API refuses: the HTTP status, Squarespace's error subtype and the message."""

    def __init__(self, message: str, *, status: int = 400, subtype: str | None = "INVALID_ARGUMENT") -> None:
        super().__init__(message)
        self.status = status
        self.subtype = subtype


ADJUSTMENT_KINDS = ("incrementOperations", "decrementOperations", "setFiniteOperations", "setUnlimitedOperations")


def plan_adjustments(body: Any, inventory: dict[str, dict[str, Any]]) -> dict[str, tuple[str, int]]:
    """Validate every operation of an adjustment request before any is applied, so a refusal changes nothing.

    Returns ``{variantId: (operation kind, quantity)}``; raises ``RequestRefused`` with the documented
    status: 400 for a malformed request, 409 for stock conflicts.
    """
    if not isinstance(body, dict):
        raise RequestRefused("The request body must be a JSON object.")
    plan: dict[str, tuple[str, int]] = {}
    for kind in ADJUSTMENT_KINDS:
        operations = body.get(kind) or []
        if not isinstance(operations, list):
            raise RequestRefused(f"{kind} must be an array.")
        for operation in operations:
            if kind == "setUnlimitedOperations":
                variant_id, quantity = operation, 0
            elif isinstance(operation, dict):
                variant_id, quantity = operation.get("variantId"), operation.get("quantity")
            else:
                raise RequestRefused(f"{kind} entries must be objects with variantId and quantity.")
            if not isinstance(variant_id, str) or variant_id not in inventory:
                raise RequestRefused(f"InventoryItem {variant_id!r} was not found.")
            if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity < 0:
                raise RequestRefused(f"{kind}: quantity for {variant_id} must be an integer >= 0.")
            if variant_id in plan:
                raise RequestRefused(f"InventoryItem {variant_id} is referenced in more than one operation.")
            plan[variant_id] = (kind, quantity)
    if not plan:
        raise RequestRefused("No operations were specified.", subtype="MISSING_ARGUMENT")
    if len(plan) > 50:
        raise RequestRefused("At most 50 operations can be specified.")
    for variant_id, (kind, quantity) in plan.items():
        item = inventory[variant_id]
        if kind in ("incrementOperations", "decrementOperations") and item["isUnlimited"]:
            raise RequestRefused(f"{variant_id} has unlimited stock.", status=409, subtype="STOCK_NOT_TRACKED")
        if kind == "decrementOperations" and item["quantity"] < quantity:
            raise RequestRefused(f"{variant_id} has insufficient stock.", status=409, subtype="INSUFFICIENT_STOCK")
    return plan


def apply_adjustments(plan: dict[str, tuple[str, int]], inventory: dict[str, dict[str, Any]]) -> None:
    for variant_id, (kind, quantity) in plan.items():
        item = inventory[variant_id]
        if kind == "setUnlimitedOperations":
            item["isUnlimited"] = True
        elif kind == "setFiniteOperations":
            item["isUnlimited"], item["quantity"] = False, quantity
        elif kind == "incrementOperations":
            item["quantity"] += quantity
        else:
            item["quantity"] -= quantity


def shipment_problem(shipment: Any) -> str | None:
    """What is wrong with one ``shipments[]`` entry of a fulfillment, or None when it is acceptable."""
    if not isinstance(shipment, dict):
        return "must be an object"
    for name in ("shipDate", "carrierName", "service", "trackingNumber"):
        value = shipment.get(name)
        if not isinstance(value, str) or not value.strip():
            return f"{name} is required"
    if parse_iso_utc(shipment["shipDate"]) is None:
        return "shipDate must be an ISO 8601 UTC date-time"
    url = shipment.get("trackingUrl")
    if url is not None:
        parts = urlsplit(url) if isinstance(url, str) else None
        if parts is None or parts.scheme not in ("http", "https") or not parts.netloc:
            return "trackingUrl is invalid"
    return None
