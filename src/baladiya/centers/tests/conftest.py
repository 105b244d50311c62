"""Helpers for the center-status and ticket tests: a second neighbourhood center (C04), the
informatics directorate, heartbeats at chosen times."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.catalog.models import Agency
from baladiya.centers.models import Center, CenterStatus
from baladiya.centers.status import HeartbeatReport, record_heartbeat

# A fixed afternoon in Homs (UTC+3): 2026-11-10 14:00 local.
T0 = dt.datetime(2026, 11, 10, 11, 0, tzinfo=dt.UTC)

Beat = Callable[..., CenterStatus]


def report(at: dt.datetime, power: str = "grid", backlog: int = 0, **extra: Any) -> HeartbeatReport:
    return HeartbeatReport(
        power_source=power,
        outbox_backlog=backlog,
        last_sync_at=extra.get("last_sync_at", at),
        version=extra.get("version", "0.4.2"),
        reported_at=at,
    )


@pytest.fixture
def beat(db: None) -> Beat:
    """`beat(center, at, power="grid", backlog=0)`: a heartbeat received at `at`."""

    def send(center: Center, at: dt.datetime, power: str = "grid", backlog: int = 0) -> Any:
        return record_heartbeat(center, report(at, power, backlog), received_at=at)

    return send


@pytest.fixture
def c04(db: None) -> Center:
    return Center.objects.create(
        code="C04",
        name_ar="مركز خدمة المواطن في الوعر",
        name_en="al-Waer center",
        kind=Center.Kind.NEIGHBOURHOOD,
        power_source=Center.Power.SOLAR,
        solar_kw=Decimal("10.0"),
    )


@pytest.fixture
def clerk04(make_user: Callable[..., User], c04: Center) -> User:
    return make_user("clerk04", roles.CLERK, center=c04)


@pytest.fixture
def agency_officer(make_user: Callable[..., User]) -> User:
    civil = Agency.objects.create(code="civil2", name_ar="الشؤون المدنية", name_en="Civil affairs")
    return make_user("officer.civil", roles.OFFICER, agency=civil)
