from __future__ import annotations

import datetime as dt

import factory
from django.contrib.auth.models import User
from django.utils import timezone

from integrations.accounts import connection_account_key
from integrations.models import (
    CartConnection,
    Merchant,
    MerchantMembership,
    OAuthGrantState,
    PlatformBudget,
    PlatformCooldown,
    SyncOutcome,
    WebhookSubscription,
    WMSConnection,
)
from inventory.models import CartInventoryLevel, StockLevel
from orders.models import (
    CarrierNameMap,
    Order,
    OrderChange,
    OrderEvent,
    OrderLine,
    OrderStatus,
    Problem,
    Shipment,
    ShippingMethodMap,
    SkippedOrder,
    SKUAlias,
    SyncLock,
    SyncRun,
    WarehouseSKUList,
)
from sandbox.wiring import ANY_RATE_PER_MINUTE
from sync.models import Job, Reconciliation, WebhookNotification, WorkerHeartbeat


class MerchantFactory(factory.django.DjangoModelFactory[Merchant]):
    class Meta:
        model = Merchant
        django_get_or_create = ["slug"]

    name = factory.Sequence(lambda n: f"Merchant {n}")
    slug = factory.Sequence(lambda n: f"merchant-{n}")
    contact_email = "ops@example.com"


class WMSConnectionFactory(factory.django.DjangoModelFactory[WMSConnection]):
    class Meta:
        model = WMSConnection
        skip_postgeneration_save = True

    merchant = factory.SubFactory(MerchantFactory)
    platform = "bergen"
    # The test sandboxes start without a rate limit (a test of one sets its own): the budget keeps to theirs.
    sandbox_tooling = False
    sandbox_requests_per_minute = factory.Maybe("sandbox_tooling", ANY_RATE_PER_MINUTE, None)
    name = "Warehouse"
    api_base_url = "http://127.0.0.1:9"
    settings = factory.LazyAttribute(
        lambda o: {"account_web_address": o.api_base_url, "customer_name": "DEMO", "facility": "NJ"}
    )

    @factory.post_generation
    def credentials_values(obj, create, extracted, **kwargs):
        obj.set_credentials(extracted or {"username": "sandbox-user", "password": "sandbox-pass"})
        if create:
            obj.save()


class CartConnectionFactory(factory.django.DjangoModelFactory[CartConnection]):
    class Meta:
        model = CartConnection
        skip_postgeneration_save = True

    merchant = factory.SubFactory(MerchantFactory)
    platform = "squarespace"
    # The test sandboxes start without a rate limit (a test of one sets its own): the budget keeps to theirs.
    sandbox_tooling = False
    sandbox_requests_per_minute = factory.Maybe("sandbox_tooling", ANY_RATE_PER_MINUTE, None)
    name = "Store"
    api_base_url = "http://127.0.0.1:9"
    warehouse = factory.SubFactory(WMSConnectionFactory, merchant=factory.SelfAttribute("..merchant"))
    earliest_order_date = factory.LazyFunction(lambda: (timezone.now() - dt.timedelta(days=30)).date())

    @factory.post_generation
    def credentials_values(obj, create, extracted, **kwargs):
        obj.set_credentials(extracted or {"api_key": "sandbox-squarespace-key"})
        if create:
            obj.save()


class ShippingMethodMapFactory(factory.django.DjangoModelFactory[ShippingMethodMap]):
    class Meta:
        model = ShippingMethodMap

    warehouse = factory.SubFactory(WMSConnectionFactory)
    cart_method = "Standard"
    ship_code = "UPS:Ground"


class SKUAliasFactory(factory.django.DjangoModelFactory[SKUAlias]):
    class Meta:
        model = SKUAlias

    merchant = factory.SubFactory(MerchantFactory)
    cart_sku = factory.Sequence(lambda n: f"CART-{n}")
    warehouse_sku = factory.Sequence(lambda n: f"WMS-{n}")


class WarehouseSKUListFactory(factory.django.DjangoModelFactory[WarehouseSKUList]):
    class Meta:
        model = WarehouseSKUList

    warehouse = factory.SubFactory(WMSConnectionFactory)
    skus = factory.LazyFunction(lambda: ["SKU-1", "SKU-2"])
    read_at = factory.LazyFunction(timezone.now)


class OrderFactory(factory.django.DjangoModelFactory[Order]):
    class Meta:
        model = Order

    cart_connection = factory.SubFactory(CartConnectionFactory)
    merchant = factory.SelfAttribute("cart_connection.merchant")
    warehouse = factory.SelfAttribute("cart_connection.warehouse")
    cart_order_id = factory.Sequence(lambda n: f"cart-{n}")
    order_number = factory.Sequence(lambda n: f"{1000 + n}")
    cust_po_no = factory.SelfAttribute("order_number")
    cust_ref = None
    # A reference is reserved in its warehouse's account, as the pipeline reserves it.
    warehouse_account = factory.LazyAttribute(
        lambda o: connection_account_key(o.warehouse) if o.cust_ref and o.warehouse else None
    )
    ship_first_name = "Ada"
    ship_last_name = "Lovelace"
    ship_address_1 = "1 Main St"
    ship_city = "Newark"
    ship_state = "NJ"
    ship_zip = "07102"
    ship_country = "US"
    orig_ship_code = "Standard"
    ship_code = "UPS:Ground"
    ordered_at = factory.LazyFunction(timezone.now)


class OrderLineFactory(factory.django.DjangoModelFactory[OrderLine]):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    line_no = factory.Sequence(lambda n: n + 1)
    cart_sku = "SKU-1"
    warehouse_sku = "SKU-1"
    quantity = 1
    price = "10.00"


class UserFactory(factory.django.DjangoModelFactory[User]):
    class Meta:
        model = User
        django_get_or_create = ["username"]

    username = factory.Sequence(lambda n: f"user-{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("correct-horse-battery-staple-42")


class MerchantMembershipFactory(factory.django.DjangoModelFactory[MerchantMembership]):
    class Meta:
        model = MerchantMembership

    user = factory.SubFactory(UserFactory)
    merchant = factory.SubFactory(MerchantFactory)


class OAuthGrantStateFactory(factory.django.DjangoModelFactory[OAuthGrantState]):
    """A grant under way for a cart connection (the row names exactly one connection)."""

    class Meta:
        model = OAuthGrantState

    nonce = factory.Sequence(lambda n: f"nonce-{n:08d}")
    user = factory.SubFactory(UserFactory)
    cart_connection = factory.SubFactory(CartConnectionFactory)
    warehouse_connection = None
    origin = "admin"


class PlatformCooldownFactory(factory.django.DjangoModelFactory[PlatformCooldown]):
    class Meta:
        model = PlatformCooldown

    key = factory.Sequence(lambda n: f"squarespace:account-{n}")
    until = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(minutes=15))
    reason = "429 Too Many Requests, Retry-After: 900"


class PlatformBudgetFactory(factory.django.DjangoModelFactory[PlatformBudget]):
    class Meta:
        model = PlatformBudget

    key = factory.Sequence(lambda n: f"squarespace:account-{n}")
    tokens = 25.0
    refreshed_at = factory.LazyFunction(lambda: timezone.now().timestamp())


class CarrierNameMapFactory(factory.django.DjangoModelFactory[CarrierNameMap]):
    class Meta:
        model = CarrierNameMap

    cart_connection = factory.SubFactory(CartConnectionFactory)
    warehouse_carrier = factory.Sequence(lambda n: f"CARRIER-{n}")
    cart_carrier = "FedEx"


class OrderEventFactory(factory.django.DjangoModelFactory[OrderEvent]):
    class Meta:
        model = OrderEvent

    order = factory.SubFactory(OrderFactory)
    from_status = ""
    to_status = OrderStatus.NEW
    code = "imported"
    message = "Imported from the cart."


class OrderChangeFactory(factory.django.DjangoModelFactory[OrderChange]):
    class Meta:
        model = OrderChange

    order = factory.SubFactory(OrderFactory, status=OrderStatus.AT_WMS)
    merchant = factory.SelfAttribute("order.merchant")
    kind = OrderChange.Kind.CANCEL
    what = "Canceled at the cart"


class SkippedOrderFactory(factory.django.DjangoModelFactory[SkippedOrder]):
    class Meta:
        model = SkippedOrder

    cart_connection = factory.SubFactory(CartConnectionFactory)
    cart_order_id = factory.Sequence(lambda n: f"skipped-{n}")
    order_number = factory.Sequence(lambda n: f"{9000 + n}")
    reason_code = "already_fulfilled"
    reason = "Already shipped or closed at the cart when first seen: not imported."


class SyncRunFactory(factory.django.DjangoModelFactory[SyncRun]):
    """A finished orders run (a running one would look like a worker that died to the sweep)."""

    class Meta:
        model = SyncRun

    kind = SyncRun.Kind.ORDERS
    cart_connection = factory.SubFactory(CartConnectionFactory)
    merchant = factory.SelfAttribute("cart_connection.merchant")
    warehouse = factory.SelfAttribute("cart_connection.warehouse")
    status = SyncOutcome.SUCCEEDED
    finished_at = factory.LazyFunction(timezone.now)


class ShipmentFactory(factory.django.DjangoModelFactory[Shipment]):
    class Meta:
        model = Shipment

    order = factory.SubFactory(OrderFactory)
    warehouse = factory.SelfAttribute("order.warehouse")
    warehouse_shipment_id = factory.Sequence(lambda n: f"shipment-{n}")
    carrier = "UPS"
    service = "Ground"
    tracking_numbers = factory.Sequence(lambda n: [f"1Z{n:016d}"])
    shipped_at = factory.LazyFunction(timezone.now)


class SyncLockFactory(factory.django.DjangoModelFactory[SyncLock]):
    class Meta:
        model = SyncLock

    key = factory.Sequence(lambda n: f"orders:cart:{n}")


class ProblemFactory(factory.django.DjangoModelFactory[Problem]):
    class Meta:
        model = Problem

    key = factory.Sequence(lambda n: f"connection:{n}:unreachable")
    cart_connection = factory.SubFactory(CartConnectionFactory)
    merchant = factory.SelfAttribute("cart_connection.merchant")
    reason_code = "unreachable"
    message = "The cart did not answer: check its address."
    last_seen_at = factory.LazyFunction(timezone.now)


class ReconciliationFactory(factory.django.DjangoModelFactory[Reconciliation]):
    class Meta:
        model = Reconciliation

    cart_connection = factory.SubFactory(CartConnectionFactory)
    merchant = factory.SelfAttribute("cart_connection.merchant")
    window_start = factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=7))
    window_end = factory.LazyFunction(timezone.now)
    counts = factory.LazyFunction(lambda: {"cart_orders": 3, "delivered_once": 3, "gaps": 0})
    finished_at = factory.LazyFunction(timezone.now)


class JobFactory(factory.django.DjangoModelFactory[Job]):
    class Meta:
        model = Job

    kind = Job.Kind.SYNC_ORDERS
    cart_connection = factory.SubFactory(CartConnectionFactory)
    merchant = factory.SelfAttribute("cart_connection.merchant")


class WorkerHeartbeatFactory(factory.django.DjangoModelFactory[WorkerHeartbeat]):
    class Meta:
        model = WorkerHeartbeat

    host = "worker-1"
    pid = factory.Sequence(lambda n: 1000 + n)
    cluster = "orderbridge"
    last_seen = factory.LazyFunction(timezone.now)


class StockLevelFactory(factory.django.DjangoModelFactory[StockLevel]):
    class Meta:
        model = StockLevel

    warehouse = factory.SubFactory(WMSConnectionFactory)
    warehouse_sku = factory.Sequence(lambda n: f"WMS-{n}")
    available = 10
    on_hand = 12
    read_at = factory.LazyFunction(timezone.now)


class CartInventoryLevelFactory(factory.django.DjangoModelFactory[CartInventoryLevel]):
    class Meta:
        model = CartInventoryLevel

    cart_connection = factory.SubFactory(CartConnectionFactory)
    cart_item_key = factory.Sequence(lambda n: f"variant-{n}")
    cart_sku = factory.Sequence(lambda n: f"CART-{n}")
    warehouse_sku = factory.Sequence(lambda n: f"WMS-{n}")
    cart_quantity = 10
    computed_quantity = 10
    pushed_quantity = 10


def unsaved_orders(connection: CartConnection, count: int, prefix: str = "bulk") -> list[Order]:
    """`count` orders of `connection`, not stored (for the bulk writes to store)."""
    return [
        Order(
            merchant_id=connection.merchant_id,
            cart_connection=connection,
            warehouse=connection.warehouse,
            cart_order_id=f"{prefix}-{n}",
            order_number=f"#{n}",
            cart_payload={"id": n, "note": "ünïcode"},
            bill_to={"cust_name": "Ada"},
        )
        for n in range(count)
    ]


class WebhookSubscriptionFactory(factory.django.DjangoModelFactory[WebhookSubscription]):
    class Meta:
        model = WebhookSubscription

    connection = factory.SubFactory(CartConnectionFactory)
    platform_id = factory.Sequence(lambda n: f"{n:024x}")
    token = factory.Sequence(lambda n: f"webhook-token-{n}")
    topics = factory.LazyFunction(lambda: ["order.create", "order.update"])
    endpoint_url = factory.LazyAttribute(lambda o: f"https://orderbridge.example/hooks/squarespace/{o.token}/")
    secret = "ab" * 32


class WebhookNotificationFactory(factory.django.DjangoModelFactory[WebhookNotification]):
    class Meta:
        model = WebhookNotification

    platform = "squarespace"
    cart_connection = factory.SubFactory(CartConnectionFactory)
    notification_id = factory.Sequence(lambda n: f"notification-{n}")
    topic = "order.create"
    cart_order_id = factory.Sequence(lambda n: f"{n:024x}")
    event_at = factory.LazyFunction(timezone.now)
