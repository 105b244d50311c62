from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from baladiya.core.models import BaseModel


class IdKind(models.TextChoices):
    NATIONAL_ID = "national_id", _("National ID card")
    PASSPORT = "passport", _("Passport")
    FAMILY_BOOK = "family_book", _("Family book")
    POWER_OF_ATTORNEY = "proxy", _("Power of attorney (proxy)")


class Handover(BaseModel):
    """The moment a document leaves the council's hands at a pickup center."""

    application = models.OneToOneField(
        "applications.Application",
        on_delete=models.PROTECT,
        related_name="handover",
        verbose_name=_("application"),
    )
    center = models.ForeignKey(
        "centers.Center", on_delete=models.PROTECT, related_name="+", verbose_name=_("center")
    )
    handed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("handed over by"),
    )
    recipient_name = models.CharField(_("recipient"), max_length=200)
    id_kind = models.CharField(_("ID shown"), max_length=16, choices=IdKind.choices)
    id_number = models.CharField(_("ID number"), max_length=40)
    is_applicant = models.BooleanField(_("recipient is the applicant"), default=True)

    class Meta:
        verbose_name = _("handover")
        verbose_name_plural = _("handovers")


# The post's models live with their services in `delivery.post`; imported here so Django
# registers them with this app.
from baladiya.delivery.post.models import SandboxParcel, Shipment, ShipmentEvent  # noqa: E402

__all__ = ["Handover", "IdKind", "SandboxParcel", "Shipment", "ShipmentEvent"]
