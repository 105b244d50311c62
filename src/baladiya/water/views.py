"""Water bills at the counter and in the citizen portal."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
