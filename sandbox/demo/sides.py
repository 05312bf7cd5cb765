"""Each platform's part in the demo: its sandbox, how the scenario is seeded there, the account a
connection reaches there, and (for warehouses) how it ships. Only sandbox APIs are used here."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from django.utils import timezone

from sandbox.bergen import BergenSandbox
from sandbox.demo.scenario import CART_ITEMS, ORDERS, WAREHOUSE_ITEMS, DemoOrder
from sandbox.overstock import OverstockSandbox
from sandbox.squarespace import SquarespaceSandbox
from sandbox.tradegecko import TradeGeckoSandbox
from sandbox.wiring import (
    SandboxAccount,
    bergen_account,
    overstock_account,
    squarespace_account,
    tradegecko_account,
)


def _placed(order: DemoOrder, now: datetime) -> tuple[datetime, datetime]:
    """When the order was placed, and last modified at the cart."""
    placed = now - timedelta(days=order.days_ago)
    if order.modified_days_ago is not None:
        return placed, now - timedelta(days=order.modified_days_ago)
    return placed, placed + timedelta(minutes=5)


class DemoCart:
    platform: str
    earliest_days = 30
    method_names: dict[str, str] = {"standard": "Standard", "express": "Express", "exotic": "Overnight Rocket"}

    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.sandbox = self.make_sandbox()

    def orders(self) -> list[DemoOrder]:
        return ORDERS

    def account(self) -> SandboxAccount:
        """What the cart connection needs to reach this sandbox (once it is started)."""
        raise NotImplementedError

    def tracking_duplicates(self) -> int:
        raise NotImplementedError


class SquarespaceDemo(DemoCart):
    def make_sandbox(self) -> SquarespaceSandbox:
        return SquarespaceSandbox(rate_limit_per_minute=None)

    def seed(self) -> None:
        now = timezone.now()
        for index, (sku, quantity) in enumerate(CART_ITEMS.items(), 1):
            self.sandbox.add_inventory(f"6d1f0c2e-0000-4000-8000-{index:012d}", sku, quantity, descriptor=sku)
        for order in self.orders():
            placed, modified = _placed(order, now)
            a = order.address
            self.sandbox.add_order(
                order_number=order.number,
                created_on=placed,
                modified_on=modified,
                fulfillment_status="FULFILLED" if order.status == "fulfilled" else "PENDING",
                lines=[
                    {"sku": ln.sku, "quantity": ln.quantity, "price": ln.price, "name": ln.name} for ln in order.lines
                ],
                shipping_method=self.method_names[order.method],
                shipping_address={
                    "firstName": a["first_name"],
                    "lastName": a["last_name"],
                    "address1": a["address_1"] or None,
                    "city": a["city"] or None,
                    "state": a["state"],
                    "countryCode": a["country"],
                    "postalCode": a["zip"],
                    "phone": a["phone"],
                },
                id=f"6560f0a1c0ffee000000{int(order.number):04d}",
            )

    def account(self) -> SandboxAccount:
        return squarespace_account(self.sandbox.base_url, api_key=self.sandbox.api_key)

    def tracking_duplicates(self) -> int:
        numbers = [[f["trackingNumber"] for f in self.sandbox.fulfillments_for(i)] for i in self.sandbox.orders]
        return sum(len(n) - len(set(n)) for n in numbers)


class TradeGeckoCartDemo(DemoCart):
    def make_sandbox(self) -> TradeGeckoSandbox:
        return TradeGeckoSandbox(rate_limit=None)

    def seed(self) -> None:
        now = timezone.now()
        for sku, quantity in CART_ITEMS.items():
            self.sandbox.add_variant(sku, stock=quantity)
        for order in self.orders():
            placed, modified = _placed(order, now)
            a = order.address
            self.sandbox.add_order(
                order_number=order.number,
                lines=[{"sku": ln.sku, "quantity": ln.quantity, "price": ln.price} for ln in order.lines],
                shipping_method=self.method_names[order.method],
                shipping_address={
                    "first_name": a["first_name"],
                    "last_name": a["last_name"],
                    "address1": a["address_1"] or "12 Analytical Way",  # TradeGecko requires address1
                    "city": a["city"],
                    "state": a["state"],
                    "zip_code": a["zip"],
                    "country": a["country"],
                    "phone_number": a["phone"],
                },
                fulfillment_status="shipped" if order.status == "fulfilled" else "unshipped",
                issued_at=placed,
                created_at=placed,
                updated_at=modified,
            )

    def account(self) -> SandboxAccount:
        return tradegecko_account(self.sandbox.base_url, platform=self.platform, access_token=self.sandbox.access_token)

    def tracking_duplicates(self) -> int:
        seen = Counter(
            (f.get("order_id"), f.get("tracking_number")) for f in self.sandbox.fulfillments if f.get("tracking_number")
        )
        return sum(count - 1 for count in seen.values())


class OverstockDemo(DemoCart):
    # Overstock lists orders by creation time in one-hour windows: a short first import.
    earliest_days = 2
    method_names = {"standard": "UPS GROUND", "express": "FEDEX TWO_DAY", "exotic": "USPS MEDIA_MAIL"}
    carriers = {"standard": ("UPS", "GROUND"), "express": ("FEDEX", "TWO_DAY"), "exotic": ("USPS", "MEDIA_MAIL")}

    def make_sandbox(self) -> OverstockSandbox:
        return OverstockSandbox()

    def orders(self) -> list[DemoOrder]:
        # Overstock shows no already-shipped or back-dated orders in a creation window.
        return [o for o in ORDERS if o.status == "open" and not o.modified_days_ago]

    def seed(self) -> None:
        now = timezone.now()
        for sku in CART_ITEMS:
            self.sandbox.add_product(f"OPT-{sku}", sku)
        for order in self.orders():
            placed, _ = _placed(order, now)
            a = order.address
            carrier, service = self.carriers[order.method]
            self.sandbox.add_order(
                order_number=order.number,
                order_date=placed,
                created=placed,
                lines=[
                    {
                        "partner_sku": ln.sku,
                        "option_sku": f"OPT-{ln.sku}",
                        "quantity": ln.quantity,
                        "item_name": ln.name,
                        "unit_cost": ln.price,
                    }
                    for ln in order.lines
                ],
                ship_to={
                    "contactName": f"{a['first_name']} {a['last_name']}",
                    "address1": a["address_1"],
                    "city": a["city"],
                    "stateOrProvince": a["state"],
                    "postalCode": a["zip"],
                    "countryCode": a["country"],
                    "phone": a["phone"],
                },
                carrier=carrier,
                service_level=service,
            )

    def account(self) -> SandboxAccount:
        return overstock_account(
            self.sandbox.base_url,
            username=self.sandbox.username,
            password=self.sandbox.password,
            warehouse_name=self.sandbox.warehouses[0],
        )

    def tracking_duplicates(self) -> int:
        return self.sandbox.tracking_duplicate_count()


class DemoWarehouse:
    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.sandbox = self.make_sandbox()


class BergenDemo(DemoWarehouse):
    def make_sandbox(self) -> BergenSandbox:
        return BergenSandbox()

    def seed(self) -> None:
        for sku, on_hand in WAREHOUSE_ITEMS.items():
            self.sandbox.add_item(sku, on_hand=on_hand)

    def account(self) -> SandboxAccount:
        return bergen_account(
            self.sandbox.base_url,
            username=self.sandbox.username,
            password=self.sandbox.password,
            customer=self.sandbox.customer,
        )

    def holds(self, cust_ref: str) -> bool:
        return cust_ref in self.sandbox.orders_by_reference()

    def ship(self, cust_ref: str, parcels: list[dict], shipped_at: datetime) -> None:
        packages = [{**p, "lines": [{"sku": ln["sku"], "qty": ln["quantity"]} for ln in p["lines"]]} for p in parcels]
        self.sandbox.ship_order(cust_ref, packages, ship_date=shipped_at)

    def received(self) -> int:
        return len(self.sandbox.orders)

    def duplicates(self) -> int:
        return self.sandbox.duplicate_count()


class TradeGeckoWarehouseDemo(DemoWarehouse):
    def make_sandbox(self) -> TradeGeckoSandbox:
        return TradeGeckoSandbox(rate_limit=None)

    def seed(self) -> None:
        for sku, on_hand in WAREHOUSE_ITEMS.items():
            self.sandbox.add_variant(sku, stock=on_hand)

    def account(self) -> SandboxAccount:
        return tradegecko_account(
            self.sandbox.base_url,
            platform=self.platform,
            access_token=self.sandbox.access_token,
            stock_location_id=str(self.sandbox.primary_location_id),
        )

    def holds(self, cust_ref: str) -> bool:
        return cust_ref in self.sandbox.orders_by_reference()

    def ship(self, cust_ref: str, parcels: list[dict], shipped_at: datetime) -> None:
        packages = [
            {
                "tracking_number": p["tracking_number"],
                "tracking_company": p["carrier"],
                "service": p["service"],
                "lines": p["lines"],
            }
            for p in parcels
        ]
        self.sandbox.fulfil(cust_ref, packages, shipped_at=shipped_at)

    def received(self) -> int:
        return len(self.sandbox.orders)

    def duplicates(self) -> int:
        return self.sandbox.duplicate_count()


CARTS: dict[str, type[DemoCart]] = {
    "squarespace": SquarespaceDemo,
    "tradegecko": TradeGeckoCartDemo,
    "quickbooks_commerce": TradeGeckoCartDemo,
    "overstock": OverstockDemo,
}
WAREHOUSES: dict[str, type[DemoWarehouse]] = {
    "bergen": BergenDemo,
    "tradegecko": TradeGeckoWarehouseDemo,
    "quickbooks_commerce": TradeGeckoWarehouseDemo,
}
