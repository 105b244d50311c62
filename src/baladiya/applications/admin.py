"""Applications change only through `applications.services`: the admin is a read-only view."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from baladiya.applications.models import (
    Application,
    ApplicationEvent,
    Attachment,
    InspectionVisit,
)
from baladiya.core.admin import ReadOnlyAdmin, ReadOnlyInline
from baladiya.core.money import format_pounds
from baladiya.core.text import normalize_arabic


class ApplicationEventInline(ReadOnlyInline):
    model = ApplicationEvent
    fields = ("created_at", "action", "from_status", "to_status", "actor_name", "note")
    readonly_fields = fields
    ordering = ("created_at", "id")


class AttachmentInline(ReadOnlyInline):
    model = Attachment
    # The file itself is not linked: attachments are personal data served only by the app.
    fields = ("code", "original_name", "content_type", "size", "sha256", "created_at")
    readonly_fields = fields


class InspectionVisitInline(ReadOnlyInline):
    model = InspectionVisit
    fields = (
        "scheduled_for",
        "inspector_name",
        "scheduled_by",
        "result",
        "notes",
        "meter_number",
        "recorded_at",
        "recorded_by",
    )
    readonly_fields = fields
    ordering = ("created_at", "id")


@admin.register(Application)
class ApplicationAdmin(ReadOnlyAdmin):
    inlines = (ApplicationEventInline, AttachmentInline, InspectionVisitInline)
    list_display = (
        "reference",
        "service",
        "applicant",
        "center",
        "pickup_center",
        "status",
        "channel",
        "fee",
        "sla_due",
        "created_at",
    )
    list_filter = (
        "status",
        "center",
        "channel",
        "delivery_mode",
        "service__agency",
        "service",
        ("created_at", admin.DateFieldListFilter),
    )
    list_select_related = ("service", "applicant", "center", "pickup_center")
    search_fields = ("=reference", "=applicant__national_number", "applicant__name_normalized")
    date_hierarchy = "created_at"
    exclude = ("idempotency_key",)
    show_full_result_count = False

    @admin.display(description=_("fee (SYP)"), ordering="fee_amount")
    def fee(self, app: Application) -> str:
        return format_pounds(app.fee_amount)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        # `=reference` is case-insensitive; names match in their normalized form.
        return super().get_search_results(request, queryset, normalize_arabic(search_term))
