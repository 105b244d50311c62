"""Exchange with the water establishment and collection reports (see exchange_views)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
