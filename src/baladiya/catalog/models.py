from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from baladiya.core.models import BaseModel


class Agency(BaseModel):
    """A government body that owns services: civil affairs, justice, finance, the council…"""

    code = models.CharField(_("code"), max_length=20, unique=True)
    name_ar = models.CharField(_("name (Arabic)"), max_length=160)
    name_en = models.CharField(_("name (English)"), max_length=160)

    class Meta:
        ordering = ["code"]
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")

    def __str__(self) -> str:
        return self.name_ar


class DeliveryMode(models.TextChoices):
    PICKUP = "pickup", _("Pickup at a center")
    POST = "post", _("By post")


class Service(BaseModel):
    class Approval(models.TextChoices):
        COUNTER = "counter", _("At the counter (clerk)")
        BACK_OFFICE = "back_office", _("Back office (directorate officer)")

    code = models.CharField(_("code"), max_length=40, unique=True)
    agency = models.ForeignKey(
        Agency, on_delete=models.PROTECT, related_name="services", verbose_name=_("agency")
    )
    name_ar = models.CharField(_("name (Arabic)"), max_length=200)
    name_en = models.CharField(_("name (English)"), max_length=200)
    description_ar = models.TextField(_("description (Arabic)"), blank=True)
    description_en = models.TextField(_("description (English)"), blank=True)
    approval = models.CharField(
        _("approved by"), max_length=16, choices=Approval.choices, default=Approval.COUNTER
    )
    sla_days = models.PositiveSmallIntegerField(_("SLA (working days)"), default=1)
    delivery_modes = models.JSONField(_("delivery modes"), default=list)
    document_template = models.CharField(
        _("document template"), max_length=80, help_text=_("Typst template file name")
    )
    document_title_ar = models.CharField(_("document title (Arabic)"), max_length=200)
    document_title_en = models.CharField(_("document title (English)"), max_length=200)
    validity_days = models.PositiveSmallIntegerField(_("document valid for (days)"), default=90)
    citizen_download = models.BooleanField(
        _("citizens may download the signed document"),
        default=False,
        help_text=_("The electronic center offers the signed PDF to the applicant."),
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["agency__code", "code"]
        verbose_name = _("service")
        verbose_name_plural = _("services")

    def __str__(self) -> str:
        return self.name_ar

    def clean(self) -> None:
        modes = self.delivery_modes or []
        if not modes or any(m not in DeliveryMode.values for m in modes):
            raise ValidationError({"delivery_modes": _("Choose pickup, post or both.")})
        from baladiya.documents.rendering import template_exists

        if not template_exists(self.document_template):
            raise ValidationError({"document_template": _("No such document template.")})

    def name(self, language: str = "ar") -> str:
        return self.name_en if language == "en" else self.name_ar

    def fee_on(self, day: dt.date) -> int:
        """The total fee in piastres in force on `day` (0 when none is set)."""
        return sum(fee.amount for fee in self.fees.all() if fee.applies_on(day))


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NATIONAL_NUMBER = "national_number", _("National number")
    PHONE = "phone", _("Mobile number")
    DATE = "date", _("Date")
    NUMBER = "number", _("Number")
    CHOICE = "choice", _("Choice")


class ServiceField(models.Model):
    """A typed field of a service's form, validated by `catalog.forms.validate_field`."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="fields")
    name = models.SlugField(_("name"), max_length=40)
    label_ar = models.CharField(_("label (Arabic)"), max_length=120)
    label_en = models.CharField(_("label (English)"), max_length=120)
    type = models.CharField(_("type"), max_length=20, choices=FieldType.choices)
    required = models.BooleanField(_("required"), default=True)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["service", "name"], name="service_field_unique")
        ]

    def __str__(self) -> str:
        return f"{self.service.code}.{self.name}"

    def label(self, language: str = "ar") -> str:
        return self.label_en if language == "en" else self.label_ar


class RequiredAttachment(models.Model):
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="attachments")
    code = models.SlugField(_("code"), max_length=40)
    label_ar = models.CharField(_("label (Arabic)"), max_length=120)
    label_en = models.CharField(_("label (English)"), max_length=120)
    required = models.BooleanField(_("required"), default=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["service", "code"], name="service_attachment_unique")
        ]

    def __str__(self) -> str:
        return f"{self.service.code}:{self.code}"

    def label(self, language: str = "ar") -> str:
        return self.label_en if language == "en" else self.label_ar


class Fee(models.Model):
    """A dated fee line in piastres; an application snapshots the total at submission."""

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="fees")
    label_ar = models.CharField(_("label (Arabic)"), max_length=120)
    label_en = models.CharField(_("label (English)"), max_length=120)
    amount = models.PositiveBigIntegerField(_("amount (piastres)"))
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    class Meta:
        ordering = ["valid_from", "id"]

    def __str__(self) -> str:
        return f"{self.service.code} {self.amount} from {self.valid_from}"

    def applies_on(self, day: dt.date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def clean(self) -> None:
        if self.valid_to and self.valid_to < self.valid_from:
            raise ValidationError({"valid_to": _("The end date is before the start date.")})
