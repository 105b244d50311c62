"""Coverage of the city by service centers: who serves which neighbourhood, and the gaps.

The council's aim is one center in every neighbourhood; the coverage page shows how far it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from baladiya.centers.models import Center, Neighbourhood
from baladiya.core.errors import DomainError
from baladiya.core.queries import unique_or_none

ELECTRONIC_CENTER = "C00"
StrOrPromise = str | Promise


def electronic_center(missing: StrOrPromise | None = None) -> Center:
    """C00: where online applications and online payments are numbered. `missing`: what to
    tell the caller when it is not set up (a citizen is sent to a service center)."""
    center = unique_or_none(Center.objects.filter(code=ELECTRONIC_CENTER))
    if center is None:
        raise DomainError(
            missing or _("The electronic center is not set up on this server."),
            code="no_electronic_center",
        )
    return center


def active_centers() -> QuerySet[Center]:
    """Active centers with their neighbourhoods (prefetched), in code order."""
    return (
        Center.objects.filter(active=True)
        .prefetch_related(
            Prefetch("neighbourhoods", queryset=Neighbourhood.objects.order_by("name_ar"))
        )
        .annotate(neighbourhood_count=Count("neighbourhoods", distinct=True))
        .order_by("code")
    )


def neighbourhoods_without_center() -> QuerySet[Neighbourhood]:
    """Neighbourhoods that no active center serves, by Arabic name."""
    return (
        Neighbourhood.objects.annotate(
            serving=Count("centers", filter=Q(centers__active=True), distinct=True)
        )
        .filter(serving=0)
        .order_by("name_ar")
    )


@dataclass(frozen=True)
class Bar:
    """One bar of the coverage chart (SVG user units)."""

    code: str
    label: str
    value: int
    y: int
    width: int
    solar: bool


@dataclass
class Coverage:
    centers: list[Center]
    uncovered: list[Neighbourhood]
    neighbourhood_total: int
    kinds: dict[str, int] = field(default_factory=dict)
    solar_centers: int = 0
    solar_kw: Decimal = Decimal(0)
    neighbourhood_centers: int = 0
    solar_neighbourhood_centers: int = 0

    @property
    def covered(self) -> int:
        return self.neighbourhood_total - len(self.uncovered)

    @property
    def covered_percent(self) -> int:
        if not self.neighbourhood_total:
            return 0
        return round(100 * self.covered / self.neighbourhood_total)


def coverage() -> Coverage:
    centers = list(active_centers())
    uncovered = list(neighbourhoods_without_center())
    kinds = {kind: 0 for kind in Center.Kind.values}
    for c in centers:
        kinds[c.kind] = kinds.get(c.kind, 0) + 1
    solar = [c for c in centers if c.power_source == Center.Power.SOLAR]
    local = [c for c in centers if c.kind == Center.Kind.NEIGHBOURHOOD]
    return Coverage(
        centers=centers,
        uncovered=uncovered,
        neighbourhood_total=Neighbourhood.objects.count(),
        kinds=kinds,
        solar_centers=len(solar),
        solar_kw=sum((c.solar_kw or Decimal(0) for c in solar), Decimal(0)),
        neighbourhood_centers=len(local),
        solar_neighbourhood_centers=sum(1 for c in local if c.power_source == Center.Power.SOLAR),
    )


CHART_ROW = 22  # height of one bar row
CHART_WIDTH = 300  # longest bar


def chart_bars(centers: list[Center], language: str = "ar") -> list[Bar]:
    """Neighbourhoods served per center, scaled to the chart width (no JS, no assets)."""
    rows = [c for c in centers if c.kind != Center.Kind.ELECTRONIC]
    most = max((getattr(c, "neighbourhood_count", 0) for c in rows), default=0) or 1
    bars = []
    for i, c in enumerate(rows):
        value = int(getattr(c, "neighbourhood_count", 0))
        bars.append(
            Bar(
                code=c.code,
                label=c.display_name(language),
                value=value,
                y=i * CHART_ROW,
                width=max(2, round(CHART_WIDTH * value / most)) if value else 0,
                solar=c.power_source == Center.Power.SOLAR,
            )
        )
    return bars
