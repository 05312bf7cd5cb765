from django.contrib import admin
from django.urls import include, path

from portal.views.home import favicon, root
from sync.webhooks.views import webhook_receive

admin.site.site_header = "Orderbridge back office"
admin.site.site_title = "Orderbridge"
admin.site.index_title = "Merchants, connections and orders"

urlpatterns = [
    path("", root, name="root"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("hooks/<slug:platform>/<str:token>/", webhook_receive, name="webhook_receive"),
    path("", include("integrations.urls")),
    path("merchant/", include("portal.urls")),
]
