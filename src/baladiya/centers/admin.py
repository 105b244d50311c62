"""Centers and the neighbourhoods they serve: reference data, audited on every change."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from baladiya.centers.models import Center, Neighbourhood
from baladiya.core.admin import AuditedAdmin
from baladiya.core.text import normalize_arabic


@admin.register(Neighbourhood)
class NeighbourhoodAdmin(AuditedAdmin):
    list_display = ("name_ar", "name_en")
    search_fields = ("name_normalized", "name_en")
    ordering = ("name_ar",)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        # Search the stored normalized form: أ/إ/آ, ة/ه, ى/ي and diacritics all match.
        return super().get_search_results(request, queryset, normalize_arabic(search_term))


@admin.register(Center)
class CenterAdmin(AuditedAdmin):
    list_display = (
        "code",
        "name_ar",
        "name_en",
        "kind",
        "power_source",
        "solar_kw",
        "accepts_pickup",
        "active",
    )
    list_filter = ("kind", "power_source", "accepts_pickup", "active")
    search_fields = ("code", "name_ar", "name_en")
    filter_horizontal = ("neighbourhoods",)
    ordering = ("code",)
