"""Uptime arithmetic: shares of a period not covered by outages, at local day boundaries."""

from __future__ import annotations

import datetime as dt

import pytest

from baladiya.centers.models import Center, CenterStatus, Outage
from baladiya.centers.tests.conftest import Beat
from baladiya.centers.uptime import (
    covered_seconds,
    daily_uptime,
    local_midnight,
    monthly_uptime,
    network_status,
    uptime,
)

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)
DAY1 = local_midnight(dt.date(2026, 11, 9))  # 2026-11-09 00:00 in Homs (21:00 UTC the day before)
DAY2 = DAY1 + 24 * H
DAY3 = DAY2 + 24 * H


def _outage(center: Center, start: dt.datetime, end: dt.datetime | None) -> Outage:
    return Outage.objects.create(center=center, started_at=start, ended_at=end)


def test_days_are_local_damascus_days() -> None:
    assert dt.datetime(2026, 11, 8, 21, 0, tzinfo=dt.UTC) == DAY1


def test_an_open_outage_across_midnight_counts_up_to_now(center: Center) -> None:
    _outage(center, DAY1 + 22 * H, None)  # a power cut at 22:00 that is still going on
    now = DAY2 + 6 * H  # 06:00 the next morning
    assert uptime(center, DAY1, DAY2, now=now) == pytest.approx(22 / 24)
    # Today so far: six hours, all of them down.
    assert uptime(center, DAY2, DAY3, now=now) == 0.0
    # The two days together: 22 h up out of the 30 elapsed.
    assert uptime(center, DAY1, DAY3, now=now) == pytest.approx(22 / 30)


def test_a_closed_outage_is_split_at_midnight(center: Center) -> None:
    _outage(center, DAY1 + 23 * H, DAY2 + 2 * H)
    now = DAY3 + 12 * H
    assert uptime(center, DAY1, DAY2, now=now) == pytest.approx(23 / 24)
    assert uptime(center, DAY2, DAY3, now=now) == pytest.approx(22 / 24)
    assert uptime(center, DAY3, DAY3 + 24 * H, now=now) == 1.0  # nothing today


def test_boundaries_are_half_open(center: Center) -> None:
    _outage(center, DAY1, DAY2)  # exactly the whole first day
    now = DAY3
    assert uptime(center, DAY1, DAY2, now=now) == 0.0
    assert uptime(center, DAY2, DAY3, now=now) == 1.0


def test_other_centers_and_the_future_do_not_count(center: Center, c04: Center) -> None:
    _outage(c04, DAY1, None)
    now = DAY1 + 12 * H
    assert uptime(center, DAY1, DAY2, now=now) == 1.0
    assert uptime(c04, DAY1, DAY2, now=now) == 0.0  # twelve elapsed hours, all down
    assert uptime(c04, DAY2, DAY3, now=now) == 1.0  # tomorrow has not happened yet


def test_overlapping_intervals_are_counted_once() -> None:
    intervals = [(DAY1, DAY1 + 2 * H), (DAY1 + H, DAY1 + 3 * H), (DAY1 + 5 * H, DAY1 + 6 * H)]
    assert covered_seconds(intervals, DAY1, DAY2) == 4 * 3600
    assert covered_seconds(intervals, DAY1 + 90 * dt.timedelta(minutes=1), DAY2) == 2.5 * 3600
    assert covered_seconds([], DAY1, DAY2) == 0


def test_daily_figures_start_with_the_first_heartbeat(center: Center, beat: Beat) -> None:
    beat(center, DAY2 + 8 * H)  # first heard at 08:00 on day 2
    _outage(center, DAY2 + 20 * H, DAY2 + 22 * H)
    _outage(center, DAY3 + 1 * H, None)
    now = DAY3 + 4 * H
    days = daily_uptime(center, 3, now=now)
    assert [d.start for d in days] == [
        dt.date(2026, 11, 9),
        dt.date(2026, 11, 10),
        dt.date(2026, 11, 11),
    ]
    assert days[0].share is None  # not watched yet: no figure, not 100 %
    assert days[1].share == pytest.approx(14 / 16)  # 08:00–24:00, two hours down
    assert days[2].share == pytest.approx(1 / 4)  # 00:00–04:00, down since 01:00
    assert days[2].percent == 25.0


def test_monthly_figures(center: Center, beat: Beat) -> None:
    start = local_midnight(dt.date(2026, 10, 1))
    beat(center, start)
    _outage(
        center,
        local_midnight(dt.date(2026, 10, 31)) + 18 * H,
        local_midnight(dt.date(2026, 11, 1)) + 6 * H,
    )
    now = local_midnight(dt.date(2026, 11, 2))  # one day of November has passed
    october, november = monthly_uptime(center, 2, now=now)
    assert (october.start, november.start) == (dt.date(2026, 10, 1), dt.date(2026, 11, 1))
    assert october.share == pytest.approx(1 - 6 / (31 * 24))
    assert november.share == pytest.approx(18 / 24)
    # Across a year end.
    december_now = local_midnight(dt.date(2027, 1, 15))
    assert [m.start for m in monthly_uptime(center, 3, now=december_now)] == [
        dt.date(2026, 11, 1),
        dt.date(2026, 12, 1),
        dt.date(2027, 1, 1),
    ]


def test_network_rows_for_the_status_page(
    center: Center, c04: Center, electronic_center: Center, beat: Beat
) -> None:
    beat(center, DAY1, "battery")
    _outage(center, DAY2 + 12 * H, None)
    CenterStatus.objects.filter(center=center).update(online=False)
    now = DAY2 + 18 * H
    rows = network_status(3, now=now)
    assert [r.center.code for r in rows] == ["C03", "C04"]  # C00 is the central node itself
    c03, c04_row = rows
    assert c03.state == "offline" and c03.open_outage is not None
    assert c03.offline_for == 6 * H
    assert c03.today == pytest.approx(12 / 18)
    assert [d.share for d in c03.days] == [None, 1.0, pytest.approx(12 / 18)]
    assert c04_row.state == "unknown" and c04_row.today is None
