"""Handovers and shipments: recorded only by `delivery.services` / `delivery.post.services`,
read-only here."""

from __future__ import annotations

from django.contrib import admin

from baladiya.core.admin import ReadOnlyAdmin, ReadOnlyInline
from baladiya.delivery.models import Handover, Shipment, ShipmentEvent


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


class ShipmentEventInline(ReadOnlyInline):
    model = ShipmentEvent
    fields = ("occurred_at", "kind", "location", "detail", "outcome", "event_id", "created_at")
    readonly_fields = fields


@admin.register(Shipment)
class ShipmentAdmin(ReadOnlyAdmin):
    list_display = (
        "tracking_number",
        "application",
        "state",
        "last_event",
        "dispatch_date",
        "center",
        "returned_to",
    )
    list_filter = ("state", "carrier", "center", ("dispatch_date", admin.DateFieldListFilter))
    list_select_related = ("application", "center", "returned_to")
    search_fields = ("=tracking_number", "=application__reference", "recipient_name")
    date_hierarchy = "dispatch_date"
    inlines = [ShipmentEventInline]
