from django.urls import path

from integrations import views

urlpatterns = [
    path("connections/<str:kind>/<int:pk>/grant/", views.oauth_start, name="oauth_start"),
    path("oauth/callback/", views.oauth_callback, name="oauth_callback"),
]
