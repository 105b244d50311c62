from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from baladiya.core.models import BaseModel
from baladiya.core.text import normalize_arabic


class Neighbourhood(BaseModel):
    name_ar = models.CharField(_("name (Arabic)"), max_length=120, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=120)
    name_normalized = models.CharField(max_length=120, editable=False, db_index=True)

    class Meta:
        ordering = ["name_ar"]
        verbose_name = _("neighbourhood")
        verbose_name_plural = _("neighbourhoods")

    def __str__(self) -> str:
        return self.name_ar

    def save(self, *args: object, **kwargs: object) -> None:
        self.name_normalized = normalize_arabic(self.name_ar)
        super().save(*args, **kwargs)  # type: ignore[arg-type]


class Center(BaseModel):
    class Kind(models.TextChoices):
        NEIGHBOURHOOD = "neighbourhood", _("Neighbourhood center")
        INSTITUTIONAL = "institutional", _("Institutional center")
        ELECTRONIC = "electronic", _("Electronic center")

    class Power(models.TextChoices):
        GRID = "grid", _("Grid")
        SOLAR = "solar", _("Solar")

    code = models.CharField(_("code"), max_length=8, unique=True)
    name_ar = models.CharField(_("name (Arabic)"), max_length=120)
    name_en = models.CharField(_("name (English)"), max_length=120)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    power_source = models.CharField(
        _("power source"), max_length=8, choices=Power.choices, default=Power.GRID
    )
    solar_kw = models.DecimalField(
        _("solar capacity (kW)"), max_digits=6, decimal_places=1, null=True, blank=True
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    opening_hours = models.CharField(_("opening hours"), max_length=120, blank=True)
    neighbourhoods = models.ManyToManyField(
        Neighbourhood, blank=True, related_name="centers", verbose_name=_("neighbourhoods served")
    )
    accepts_pickup = models.BooleanField(_("documents can be picked up here"), default=True)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("service center")
        verbose_name_plural = _("service centers")

    def __str__(self) -> str:
        return f"{self.code} {self.name_ar}"

    def display_name(self, language: str = "ar") -> str:
        return self.name_en if language == "en" else self.name_ar
