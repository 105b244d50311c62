"""The public coverage page: every center, its power and hours, and the uncovered areas."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from baladiya.centers.models import Center, Neighbourhood
from baladiya.centers.services import chart_bars, coverage, neighbourhoods_without_center

pytestmark = pytest.mark.django_db


@pytest.fixture
def network(db: None) -> dict[str, Center]:
    names = {
        "الأرمن": "al-Arman",
        "الزهراء": "al-Zahraa",
        "المهاجرين": "al-Muhajirin",
        "الوعر": "al-Waer",
        "جوبر": "Jobar",
        "الشماس": "al-Shammas",
    }
    hoods = {ar: Neighbourhood.objects.create(name_ar=ar, name_en=en) for ar, en in names.items()}
    c02 = Center.objects.create(
        code="C02",
        name_ar="مركز خدمة المواطن في الزهراء",
        name_en="al-Zahraa center",
        kind=Center.Kind.NEIGHBOURHOOD,
        power_source=Center.Power.SOLAR,
        solar_kw=Decimal("10.0"),
        opening_hours="الأحد–الخميس 08:00–14:00",
    )
    c02.neighbourhoods.set([hoods["الأرمن"], hoods["الزهراء"], hoods["المهاجرين"]])
    c04 = Center.objects.create(
        code="C04", name_ar="مركز الوعر", name_en="al-Waer center", kind=Center.Kind.NEIGHBOURHOOD
    )
    c04.neighbourhoods.set([hoods["الوعر"]])
    closed = Center.objects.create(
        code="C09", name_ar="مركز مغلق", name_en="Closed center", kind="neighbourhood", active=False
    )
    closed.neighbourhoods.set([hoods["جوبر"]])  # an inactive center covers nothing
    c00 = Center.objects.create(
        code="C00", name_ar="المركز الإلكتروني", name_en="Electronic center", kind="electronic"
    )
    return {"C00": c00, "C02": c02, "C04": c04, "C09": closed}


def test_neighbourhoods_without_an_active_center(network: dict[str, Center]) -> None:
    assert [n.name_en for n in neighbourhoods_without_center()] == ["al-Shammas", "Jobar"]


def test_coverage_counts(network: dict[str, Center]) -> None:
    cov = coverage()
    assert [c.code for c in cov.centers] == ["C00", "C02", "C04"]
    assert cov.kinds == {"neighbourhood": 2, "institutional": 0, "electronic": 1}
    assert (cov.solar_centers, cov.solar_kw) == (1, Decimal("10.0"))
    assert (cov.neighbourhood_centers, cov.solar_neighbourhood_centers) == (2, 1)
    assert (cov.neighbourhood_total, cov.covered, cov.covered_percent) == (6, 4, 67)


def test_chart_has_one_bar_per_physical_center_scaled_to_the_largest(
    network: dict[str, Center],
) -> None:
    bars = chart_bars(coverage().centers)
    assert [(b.code, b.value, b.solar) for b in bars] == [("C02", 3, True), ("C04", 1, False)]
    assert bars[0].width == 300 and bars[1].width == 100
    assert bars[1].y > bars[0].y


def test_public_page_lists_centers_power_hours_and_gaps(network: dict[str, Center]) -> None:
    response = Client().get(reverse("centers:coverage"))  # Arabic by default
    assert response.status_code == 200
    html = response.content.decode()
    for text in ("C02", "C04", "مركز خدمة المواطن في الزهراء", "08:00–14:00", "10.0"):
        assert text in html
    assert "الأرمن" in html and "المهاجرين" in html
    uncovered = html[html.index('id="uncovered"') :]
    assert "جوبر" in uncovered and "الشماس" in uncovered
    assert "الوعر" not in uncovered
    assert "C09" not in html  # inactive centers are not listed
    assert "<svg" in html and "<script" not in html.split("<main", 1)[1]


def test_page_in_english(network: dict[str, Center]) -> None:
    response = Client(headers={"accept-language": "en"}).get(reverse("centers:coverage"))
    html = response.content.decode()
    assert "al-Arman" in html
    assert "Neighbourhoods without a center" in html


def test_empty_network_renders(db: None) -> None:
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get(reverse("centers:coverage"))
    assert response.status_code == 200
    assert "Every neighbourhood has a center" in response.content.decode()


def test_page_is_read_only(network: dict[str, Center]) -> None:
    assert Client().post(reverse("centers:coverage")).status_code == 405
