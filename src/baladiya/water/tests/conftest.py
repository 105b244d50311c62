"""Water fixtures: the Homs household tariff, two neighbourhoods, the officers who exchange
files with the establishment, and a sandbox establishment in a per-test folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.catalog.models import Agency
from baladiya.centers.models import Neighbourhood
from baladiya.water.exchange import SandboxEstablishment
from baladiya.water.seed import seed_tariffs


@pytest.fixture(autouse=True)
def _exchange_dir(settings: Any, tmp_path: Path) -> Path:
    """The sandbox establishment's folders live under the test's own folder."""
    settings.WATER_EXCHANGE_DIR = tmp_path / "water-exchange"
    settings.WATER_ESTABLISHMENT = "sandbox"
    return settings.WATER_EXCHANGE_DIR  # type: ignore[no-any-return]


@pytest.fixture
def sandbox(_exchange_dir: Path) -> SandboxEstablishment:
    return SandboxEstablishment(_exchange_dir)


@pytest.fixture
def tariffs(db: None) -> None:
    seed_tariffs()


@pytest.fixture
def neighbourhoods(db: None) -> dict[str, Neighbourhood]:
    return {
        "inshaat": Neighbourhood.objects.create(name_ar="الإنشاءات", name_en="al-Inshaat"),
        "waer": Neighbourhood.objects.create(name_ar="الوعر", name_en="al-Waer"),
    }


@pytest.fixture
def water_officer(make_user: Callable[..., User]) -> User:
    """An officer of the water establishment's agency: imports its files."""
    agency = Agency.objects.create(
        code="water", name_ar="المؤسسة العامة لمياه الشرب بحمص", name_en="Homs Water"
    )
    return make_user("officer.water", roles.OFFICER, agency=agency)


@pytest.fixture
def civil_officer(make_user: Callable[..., User]) -> User:
    """An officer of another agency: no business with water files."""
    agency = Agency.objects.create(code="civil", name_ar="الشؤون المدنية", name_en="Civil")
    return make_user("officer.civil", roles.OFFICER, agency=agency)
