"""Water tariffs: which one applies, and what a cycle's consumption costs."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from baladiya.core.errors import DomainError
from baladiya.water.models import Slab, Tariff


@dataclass(frozen=True)
class Charge:
    consumption: int  # m³
    slab: Slab | None  # the slab the whole quantity was priced at (None: no consumption)
    water: int  # piastres
    fixed: int  # piastres

    @property
    def total(self) -> int:
        return self.water + self.fixed


def tariff_for(category: str, day: dt.date) -> Tariff:
    """The tariff of `category` in force on `day` (the latest that started on or before it)."""
    tariff = (
        Tariff.objects.filter(category=category, valid_from__lte=day)
        .order_by("-valid_from")
        .prefetch_related("slabs")
        .first()
    )
    if tariff is None:
        raise DomainError(
            _("No water tariff for %(category)s on %(day)s.") % {"category": category, "day": day},
            code="no_tariff",
        )
    return tariff


def charge(tariff: Tariff, consumption: int) -> Charge:
    """Price `consumption` m³ for one cycle: the whole quantity at the price of the slab it
    falls in, plus the fixed charge. Slabs must cover every quantity from 0 (checked here:
    a gap is an error in the tariff, never a free quantity)."""
    if consumption < 0:
        raise DomainError(_("Consumption cannot be negative."), code="negative_consumption")
    slabs = sorted(tariff.slabs.all(), key=lambda s: s.from_m3)
    for slab in slabs:
        if slab.from_m3 <= consumption and (slab.to_m3 is None or consumption <= slab.to_m3):
            water = consumption * slab.price_per_m3
            return Charge(consumption, slab, water, tariff.fixed_charge)
    raise DomainError(
        _("The tariff %(tariff)s has no slab for %(m3)s m³.")
        % {"tariff": tariff, "m3": consumption},
        code="tariff_gap",
    )
