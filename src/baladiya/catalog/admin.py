"""The service catalog is reference data, edited by the council's administrators here."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from baladiya.catalog.models import (
    Agency,
    DeliveryMode,
    Fee,
    FieldType,
    RequiredAttachment,
    Service,
)
from baladiya.catalog.models import ServiceField as ServiceFieldModel
from baladiya.core.admin import AuditedAdmin
from baladiya.core.money import format_pounds

if TYPE_CHECKING:
    TabularInlineBase = admin.TabularInline[Any, Any]
else:
    TabularInlineBase = admin.TabularInline


def template_choices() -> list[tuple[str, str]]:
    """The Typst templates a service can issue its document with (read at form time)."""
    from baladiya.documents import rendering

    names = sorted(p.name for p in rendering.TEMPLATE_DIR.glob("*.typ") if p.is_file())
    return [("", "---------"), *((name, name) for name in names)]


class ServiceAdminForm(forms.ModelForm):  # type: ignore[type-arg]
    # `required=False`: an empty choice reaches Service.clean, which says what to choose.
    delivery_modes = forms.MultipleChoiceField(
        label=_("delivery modes"),
        choices=DeliveryMode.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    document_template = forms.ChoiceField(
        label=_("document template"), choices=template_choices, required=False
    )

    class Meta:
        model = Service
        fields = "__all__"  # noqa: DJ007 — every field is reference data an admin may set


class ServiceFieldForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = ServiceFieldModel
        fields = ("position", "name", "label_ar", "label_en", "type", "required", "choices")

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        choices = cleaned.get("choices")
        if choices is not None and not (
            isinstance(choices, list) and all(isinstance(c, str) and c for c in choices)
        ):
            self.add_error("choices", _('Enter a list of texts, e.g. ["yes", "no"].'))
        elif cleaned.get("type") == FieldType.CHOICE and not choices:
            self.add_error("choices", _("A choice field needs at least one option."))
        return cleaned


class ServiceFieldInline(TabularInlineBase):
    model = ServiceFieldModel
    form = ServiceFieldForm
    extra = 0
    fields = ("position", "name", "label_ar", "label_en", "type", "required", "choices")
    ordering = ("position", "id")


class RequiredAttachmentInline(TabularInlineBase):
    model = RequiredAttachment
    extra = 0
    fields = ("code", "label_ar", "label_en", "required")


class FeeInline(TabularInlineBase):
    model = Fee
    extra = 0
    fields = ("label_ar", "label_en", "amount", "amount_in_pounds", "valid_from", "valid_to")
    readonly_fields = ("amount_in_pounds",)

    @admin.display(description=_("amount (SYP)"))
    def amount_in_pounds(self, fee: Fee) -> str:
        return format_pounds(fee.amount) if fee.amount is not None else ""


@admin.register(Agency)
class AgencyAdmin(AuditedAdmin):
    list_display = ("code", "name_ar", "name_en", "service_count")
    search_fields = ("code", "name_ar", "name_en")

    @admin.display(description=_("services"))
    def service_count(self, agency: Agency) -> int:
        return agency.services.count()


@admin.register(Service)
class ServiceAdmin(AuditedAdmin):
    form = ServiceAdminForm
    inlines = (ServiceFieldInline, RequiredAttachmentInline, FeeInline)
    list_display = (
        "code",
        "name_ar",
        "name_en",
        "agency",
        "approval",
        "sla_days",
        "fee_today",
        "active",
    )
    list_filter = ("agency", "approval", "active")
    list_select_related = ("agency",)
    search_fields = ("code", "name_ar", "name_en")
    ordering = ("agency__code", "code")
    fieldsets = (
        (None, {"fields": ("code", "agency", "name_ar", "name_en", "active")}),
        (_("Description"), {"fields": ("description_ar", "description_en")}),
        (_("Processing"), {"fields": ("approval", "sla_days", "delivery_modes")}),
        (
            _("Document"),
            {
                "fields": (
                    "document_template",
                    "document_title_ar",
                    "document_title_en",
                    "validity_days",
                    "citizen_download",
                )
            },
        ),
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Service]:
        return super().get_queryset(request).prefetch_related("fees")

    @admin.display(description=_("fee today (SYP)"))
    def fee_today(self, service: Service) -> str:
        today: dt.date = timezone.localdate()
        return format_pounds(service.fee_on(today))
