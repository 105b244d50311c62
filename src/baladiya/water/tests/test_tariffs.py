"""Household water prices at every slab boundary (DESIGN §7: the slab's price applies to the
whole quantity), the tariff in force on a date, and a broken tariff refused clearly."""

from __future__ import annotations

import datetime as dt

import pytest

from baladiya.core.errors import DomainError
from baladiya.water.models import Category, Slab, Tariff
from baladiya.water.seed import seed_tariffs
from baladiya.water.tariffs import charge, tariff_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def household() -> Tariff:
    seed_tariffs()
    return tariff_for(Category.HOUSEHOLD, dt.date(2026, 6, 1))


@pytest.mark.parametrize(
    ("m3", "per_m3"),
    [
        (0, 150),
        (35, 150),
        (36, 150),
        (50, 150),
        (51, 400),  # one m³ more and the whole quantity is priced higher
        (80, 400),
        (81, 1_500),
        (120, 1_500),
        (121, 3_000),
        (400, 3_000),
    ],
)
def test_the_whole_quantity_is_priced_at_its_slab(household: Tariff, m3: int, per_m3: int) -> None:
    result = charge(household, m3)
    assert result.water == m3 * per_m3
    assert result.total == m3 * per_m3 + household.fixed_charge


def test_crossing_a_boundary_is_a_step_not_a_ramp(household: Tariff) -> None:
    # 50 m³: 50 × 1.50 = 75 new pounds; 51 m³: 51 × 4.00 = 204 new pounds (piastres below).
    assert charge(household, 50).water == 7_500
    assert charge(household, 51).water == 20_400


def test_the_tariff_in_force_on_the_day(household: Tariff) -> None:
    newer = Tariff.objects.create(
        category=Category.HOUSEHOLD, valid_from=dt.date(2026, 7, 1), fixed_charge=1_000
    )
    Slab.objects.create(tariff=newer, from_m3=0, to_m3=None, price_per_m3=200)
    assert tariff_for(Category.HOUSEHOLD, dt.date(2026, 6, 30)) == household
    assert tariff_for(Category.HOUSEHOLD, dt.date(2026, 7, 1)) == newer
    assert charge(newer, 10).total == 10 * 200 + 1_000
    with pytest.raises(DomainError) as before:
        tariff_for(Category.HOUSEHOLD, dt.date(2025, 12, 31))
    assert before.value.code == "no_tariff"


def test_a_category_without_a_tariff_is_refused(household: Tariff) -> None:
    with pytest.raises(DomainError) as refused:
        tariff_for(Category.COMMERCIAL, dt.date(2026, 6, 1))
    assert refused.value.code == "no_tariff"


def test_a_gap_in_the_slabs_is_an_error_not_free_water() -> None:
    broken = Tariff.objects.create(category=Category.TOURIST, valid_from=dt.date(2026, 1, 1))
    Slab.objects.create(tariff=broken, from_m3=0, to_m3=10, price_per_m3=500)
    Slab.objects.create(tariff=broken, from_m3=20, to_m3=None, price_per_m3=900)
    assert charge(broken, 10).water == 5_000
    with pytest.raises(DomainError) as gap:
        charge(broken, 15)
    assert gap.value.code == "tariff_gap"
    with pytest.raises(DomainError):
        charge(broken, -1)


def test_seeding_twice_adds_nothing() -> None:
    assert seed_tariffs() == 1
    assert seed_tariffs() == 0
    assert Slab.objects.count() == 5
