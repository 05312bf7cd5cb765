"""The merchants' self-service pages (filled in by the portal work)."""

app_name = "portal"
urlpatterns: list = []
