"""Meter registration, ownership transfer and field inspections (see meter_views)."""

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
