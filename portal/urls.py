"""The merchant pages, mounted at /merchant/.

Every page but sign-in, sign-out and staff's "view as merchant" start and stop goes through
`page()`, which wraps its view in `merchant_required`: login, the merchant scope and no-cache are
enforced here, once, not in each view (CSRF is Django's middleware, for every POST). The tests
check that every pattern is wrapped.
"""

from django.urls import path

from portal.scope import merchant_required
from portal.views import aliases, connections, home, orders, view_as

app_name = "portal"


def page(route: str, view, name: str):
    return path(route, merchant_required(view), name=name)


urlpatterns = [
    path("login/", home.LoginView.as_view(), name="login"),
    path("logout/", home.LogoutView.as_view(), name="logout"),
    path("view-as/<int:pk>/", view_as.view_as_start, name="view_as_start"),
    path("view-as/stop/", view_as.view_as_stop, name="view_as_stop"),
    page("", home.home, "home"),
    page("password/", home.PasswordChangeView.as_view(), "password_change"),
    # connections
    page("connections/", connections.connection_list, "connection_list"),
    page("connections/<str:kind>/new/", connections.connection_new, "connection_new"),
    page("connections/<str:kind>/new/<str:platform>/", connections.connection_create, "connection_create"),
    page("connections/<str:kind>/<int:pk>/", connections.connection_edit, "connection_edit"),
    page("connections/<str:kind>/<int:pk>/test/", connections.connection_test_view, "connection_test"),
    page("connections/<str:kind>/<int:pk>/grant/", connections.connection_grant, "connection_grant"),
    page("connections/cart/<int:pk>/sync/", connections.connection_sync, "connection_sync"),
    page("jobs/<int:pk>/", connections.job_status_view, "job_status"),
    page("warehouses/<int:pk>/shipping-methods/", connections.shipping_method_add, "shipping_method_add"),
    page("shipping-methods/<int:pk>/delete/", connections.shipping_method_delete, "shipping_method_delete"),
    # SKU aliases
    page("aliases/", aliases.alias_list, "alias_list"),
    page("aliases/new/", aliases.alias_create, "alias_create"),
    page("aliases/<int:pk>/", aliases.alias_edit, "alias_edit"),
    page("aliases/<int:pk>/delete/", aliases.alias_delete, "alias_delete"),
    page("aliases/export.csv", aliases.alias_export, "alias_export"),
    page("aliases/import/", aliases.alias_import, "alias_import"),
    # orders
    page("orders/", orders.order_list, "order_list"),
    page("orders/test/", orders.test_order, "test_order"),
    page("orders/<int:pk>/", orders.order_detail, "order_detail"),
    page("orders/<int:pk>/retry/", orders.order_retry, "order_retry"),
    page("orders/<int:pk>/send/", orders.order_send, "order_send"),
    page("orders/<int:pk>/hold/", orders.order_hand_hold, "order_hand_hold"),
    page("orders/<int:pk>/release/", orders.order_release, "order_release"),
    page("orders/<int:pk>/alias/", orders.order_alias, "order_alias"),
    page("orders/<int:pk>/mapping/", orders.order_mapping, "order_mapping"),
    page("orders/<int:pk>/ship-to/", orders.order_ship_to, "order_ship_to"),
    page("orders/<int:pk>/payload/", orders.order_payload, "order_payload"),
]
