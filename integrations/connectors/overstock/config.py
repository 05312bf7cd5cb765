"""What a person configures on an Overstock connection: its credentials, its settings, and the
calls that no documentation and no integrator's published code confirm, each off until a person
turns it on for the connection (with the reason shown where it is switched).
"""

from __future__ import annotations

from integrations.connectors.base import ConfigField, UnconfirmedCall, call_switches

DEFAULT_INVENTORY_PATH = "/inventory"
DEFAULT_SALES_CHANNEL = "OSTK"  # what Overstock's orders carry, and integrators send back

# The calls no documentation and no integrator's published code confirms: off until turned on.
INVENTORY_UPLOAD = "inventory_upload"
ORDER_LOOKUP = "order_lookup"
UNCONFIRMED_CALLS = {
    INVENTORY_UPLOAD: UnconfirmedCall(
        label="Inventory upload",
        reason="Overstock publishes no inventory endpoint; CartRover's guide names OptionSku but no path",
        turn_on_if="your Overstock rep gave you the path",
    ),
    ORDER_LOOKUP: UnconfirmedCall(
        label="Order lookup by number",
        reason=(
            "no published integration reads one Overstock order by its number (GET /salesorders?"
            "salesChannelOrderNumber=…); orders are read back from the listing of the hours they were placed in"
        ),
        turn_on_if="your Overstock rep confirmed that Supplier Oasis filters orders by salesChannelOrderNumber",
    ),
}

CREDENTIAL_FIELDS = (
    ConfigField(
        name="username",
        label="API Username",
        help_text=(
            "Ask your Overstock rep for the Supplier Oasis API username and password (say which integration "
            "you use). They are often the same as your Supplier Oasis login."
        ),
    ),
    ConfigField(name="password", label="API Password", secret=True),
)
SETTING_FIELDS = (
    ConfigField(
        name="warehouse_name",
        label="Warehouse Name",
        help_text=(
            "Supplier Oasis → Account Settings → Warehouse → Update next to the warehouse: the "
            "“Warehouse Name”. Orders for your other warehouses are skipped."
        ),
    ),
    ConfigField(
        name="warehouse_code",
        label="Warehouse code",
        help_text="Only if Overstock knows the warehouse by a code other than its name: sent with shipments.",
        required=False,
    ),
    ConfigField(
        name="sales_channel_name",
        label="Sales channel name",
        help_text="Sent with tracking when the order does not say its own. Overstock's is OSTK.",
        required=False,
        default=DEFAULT_SALES_CHANNEL,
    ),
    ConfigField(
        name="inventory_path",
        label="Inventory path",
        help_text=(
            "Where stock levels are sent once the inventory upload below is turned on. UNCONFIRMED: Overstock "
            "does not publish its inventory endpoint; ask your Overstock rep and change this if it differs."
        ),
        required=False,
        default=DEFAULT_INVENTORY_PATH,
    ),
    ConfigField(
        name="window_hours",
        label="Window hours",
        help_text=(
            "Orders are read in time windows of this many hours (Overstock does not page its answers). "
            "Lower it if a window is ever reported cut short."
        ),
        required=False,
        default="1",
    ),
    *call_switches(UNCONFIRMED_CALLS),
)
