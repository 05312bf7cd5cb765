"""What each platform's setup page tells the merchant, after the setup guides in shared/setup-guides.

The per-field help (where each value is found) comes from the connectors' `ConfigField.help_text`;
this is the short how-to shown above the fields.
"""

from __future__ import annotations

from integrations.platforms import BERGEN, OVERSTOCK, QUICKBOOKS_COMMERCE, SQUARESPACE, TRADEGECKO

_TRADEGECKO_STEPS = [
    "Click “Grant us API access”: you sign in to {label} and allow Orderbridge to act for your account, "
    "then come back here. (Or paste a privileged access token instead.)",
    "Fill in the rest of the settings and save. “Test connection” checks that everything is correct.",
]

GUIDES: dict[str, dict[str, list[str]]] = {
    SQUARESPACE: {
        "cart": [
            "In Squarespace, open Settings → Advanced → Developer API Keys and click “Generate key”.",
            "Give the key the Orders permission (only on the Commerce Advanced plan) and Inventory, both with "
            "“Read and Write”: writing is needed to send tracking and stock levels back.",
            "Copy the key (Squarespace shows it only once) into “API key” below, save, and test the connection.",
        ],
    },
    TRADEGECKO: {"cart": _TRADEGECKO_STEPS, "warehouse": _TRADEGECKO_STEPS},
    QUICKBOOKS_COMMERCE: {"cart": _TRADEGECKO_STEPS, "warehouse": _TRADEGECKO_STEPS},
    OVERSTOCK: {
        "cart": [
            "Ask your Overstock rep for your Supplier Oasis API username and password (say you use an "
            "integration). They are often the same as your Supplier Oasis login.",
            "Find your Warehouse Name in Supplier Oasis under Account Settings → Warehouse → Update next to the "
            "warehouse.",
            "Enter them below, save, and test the connection. Line cancellations are not passed on: handle them "
            "with your warehouse directly.",
        ],
    },
    BERGEN: {
        "warehouse": [
            "Contact Bergen Logistics for your API username, API password and Account Web Address.",
            "Enter them below with your Bergen customer name and warehouse, save, and test the connection.",
        ],
    },
}

# From the setup guides' "General Integration Guidelines": what to know before the first sync.
GUIDELINES = [
    "Order numbers: the warehouse gets your full order number as cust_po_no and a shorter unique reference "
    "as cust_ref, within its length and character limits.",
    "SKUs must match your warehouse's. Where your cart uses other SKUs, add SKU aliases; an order with an SKU "
    "the warehouse does not know is held until you do.",
    "The first import takes every open order placed on or after the earliest order date: mark orders that "
    "already shipped as shipped (or closed) at the cart first.",
    "Send a test order to check that SKUs and shipping methods translate correctly.",
    "If you host your own cart, do not put it behind extra Basic authentication: we could not reach its API.",
]


def guide_for(platform: str, kind: str, label: str) -> list[str]:
    return [step.format(label=label) for step in GUIDES.get(platform, {}).get(kind, [])]


# What "Test connection" cannot check: the writes the setup guides ask for, where the platform has no
# harmless way to ask what a credential may write (no permission listing, no dry run).
_FIRST_PUSH = "is found out only at the first {what}, which {platform} then refuses"
UNTESTABLE_PERMISSIONS = {
    SQUARESPACE: "Not checked: whether the key may write. Squarespace offers no harmless way to ask a key's "
    "permissions, so a key without Orders and Inventory “Read and Write” "
    + _FIRST_PUSH.format(what="tracking or stock push", platform="Squarespace")
    + " (403). Check both permissions on the key in Squarespace now.",
    TRADEGECKO: "Not checked: whether the access may write tracking and stock adjustments; this "
    + _FIRST_PUSH.format(what="tracking or stock push", platform="TradeGecko"),
    QUICKBOOKS_COMMERCE: "Not checked: whether the access may write tracking and stock adjustments; this "
    + _FIRST_PUSH.format(what="tracking or stock push", platform="QuickBooks Commerce"),
    OVERSTOCK: "Not checked: whether the account may send shipment confirmations; this "
    + _FIRST_PUSH.format(what="tracking push", platform="Supplier Oasis"),
    BERGEN: "Not checked: whether the API user may create orders; this "
    + _FIRST_PUSH.format(what="delivery", platform="Bergen"),
}


def untestable_permissions(platform: str) -> str:
    """What a passing test of `platform` still leaves unproven, for a person ("" when nothing)."""
    return UNTESTABLE_PERMISSIONS.get(platform, "")
