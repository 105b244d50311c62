"""Handovers at a pickup center: recorded only by `delivery.services`, read-only here."""

from __future__ import annotations

from django.contrib import admin

from baladiya.core.admin import ReadOnlyAdmin
from baladiya.delivery.models import Handover


@admin.register(Handover)
class HandoverAdmin(ReadOnlyAdmin):
    list_display = (
        "application",
        "center",
        "recipient_name",
        "id_kind",
        "is_applicant",
        "handed_by",
        "created_at",
    )
    list_filter = ("center", "id_kind", "is_applicant", ("created_at", admin.DateFieldListFilter))
    list_select_related = ("application", "center", "handed_by")
    search_fields = ("=application__reference", "recipient_name", "=id_number")
    date_hierarchy = "created_at"
