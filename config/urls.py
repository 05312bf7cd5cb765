from django.contrib import admin
from django.urls import include, path

from portal.views.home import favicon, root

admin.site.site_header = "Orderbridge back office"
admin.site.site_title = "Orderbridge"
admin.site.index_title = "Merchants, connections and orders"

urlpatterns = [
    path("", root, name="root"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    path("", include("integrations.urls")),
    path("merchant/", include("portal.urls")),
]
