"""Uptime of the centers: arithmetic over outages, per day and month, the status page's rows
and its SVG chart (read-only; the writes are in `centers.status`).

Uptime is the share of a period not covered by outages, an open outage counting up to now.
Only the elapsed part of a period counts (today at 10:00 is judged on its first ten hours),
and days before a center's first heartbeat have no figure (None: shown grey), not 100 %.
Days and months are local (Asia/Damascus), as the centers live them.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from baladiya.centers.models import Center, CenterStatus, Outage
from baladiya.core.dates import local_midnight

# ---------------------------------------------------------------- uptime


Interval = tuple[dt.datetime, dt.datetime]


def covered_seconds(intervals: Iterable[Interval], start: dt.datetime, end: dt.datetime) -> float:
    """Seconds of [start, end) covered by the union of `intervals` (overlaps counted once)."""
    clipped = sorted((max(a, start), min(b, end)) for a, b in intervals if a < end and b > start)
    total = 0.0
    current: Interval | None = None
    for a, b in clipped:
        if current is None or a > current[1]:
            if current is not None:
                total += (current[1] - current[0]).total_seconds()
            current = (a, b)
        else:
            current = (current[0], max(current[1], b))
    if current is not None:
        total += (current[1] - current[0]).total_seconds()
    return total


def share_up(
    intervals: Iterable[Interval], start: dt.datetime, end: dt.datetime, now: dt.datetime
) -> float | None:
    """Share of [start, min(end, now)) not covered by `intervals`; None for a future period.
    The part of the period still to come is neither up nor down, so it is left out."""
    end = min(end, now)
    if end <= start:
        return None
    down = covered_seconds(intervals, start, end)
    return max(0.0, 1.0 - down / (end - start).total_seconds())


def _intervals(outages: Iterable[Outage], now: dt.datetime) -> list[Interval]:
    """Outages as intervals; an open one lasts until now."""
    return [(o.started_at, o.ended_at or now) for o in outages]


def _overlapping(start: dt.datetime, end: dt.datetime) -> Q:
    return Q(started_at__lt=end) & (Q(ended_at__isnull=True) | Q(ended_at__gt=start))


def uptime(
    center: Center, start: dt.datetime, end: dt.datetime, *, now: dt.datetime | None = None
) -> float:
    """Share (0–1) of [start, end) the center was not in an outage, an open outage counting up
    to now. Only the elapsed part of the period counts; a period entirely in the future is
    1.0 (nothing went wrong in it yet)."""
    now = now or timezone.now()
    outages = Outage.objects.filter(_overlapping(start, end), center=center)
    share = share_up(_intervals(outages, now), start, end, now)
    return 1.0 if share is None else share


@dataclass(frozen=True)
class PeriodUptime:
    start: dt.date  # the day, or the first day of the month
    share: float | None  # None: not watched yet in that period, or still to come

    @property
    def percent(self) -> float | None:
        return None if self.share is None else round(100 * self.share, 1)


def _periods(
    bounds: list[tuple[dt.date, dt.datetime, dt.datetime]],
    outages: list[Outage],
    watched_since: dt.datetime | None,
    now: dt.datetime,
) -> list[PeriodUptime]:
    intervals = _intervals(outages, now)
    result = []
    for label, start, end in bounds:
        if watched_since is None or end <= watched_since:
            result.append(PeriodUptime(label, None))  # no heartbeat yet: nothing to say
            continue
        result.append(PeriodUptime(label, share_up(intervals, max(start, watched_since), end, now)))
    return result


def day_bounds(days: int, now: dt.datetime) -> list[tuple[dt.date, dt.datetime, dt.datetime]]:
    """The last `days` local days, oldest first, today included."""
    today = timezone.localdate(now)
    first = today - dt.timedelta(days=days - 1)
    return [
        (d, local_midnight(d), local_midnight(d + dt.timedelta(days=1)))
        for d in (first + dt.timedelta(days=i) for i in range(days))
    ]


def month_bounds(months: int, now: dt.datetime) -> list[tuple[dt.date, dt.datetime, dt.datetime]]:
    """The last `months` local calendar months, oldest first, this month included."""
    today = timezone.localdate(now)
    firsts = []
    year, month = today.year, today.month
    for _i in range(months):
        firsts.append(dt.date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    firsts.reverse()
    bounds = []
    for first in firsts:
        following = dt.date(first.year + first.month // 12, first.month % 12 + 1, 1)
        bounds.append((first, local_midnight(first), local_midnight(following)))
    return bounds


def daily_uptime(
    center: Center, days: int = 30, *, now: dt.datetime | None = None
) -> list[PeriodUptime]:
    """Uptime per local day for the last `days` days (oldest first, today so far)."""
    now = now or timezone.now()
    bounds = day_bounds(days, now)
    return _for_center(center, bounds, now)


def monthly_uptime(
    center: Center, months: int = 6, *, now: dt.datetime | None = None
) -> list[PeriodUptime]:
    """Uptime per calendar month for the last `months` months (this month so far)."""
    now = now or timezone.now()
    return _for_center(center, month_bounds(months, now), now)


def _for_center(
    center: Center, bounds: list[tuple[dt.date, dt.datetime, dt.datetime]], now: dt.datetime
) -> list[PeriodUptime]:
    start, end = bounds[0][1], bounds[-1][2]
    outages = list(Outage.objects.filter(_overlapping(start, end), center=center))
    status = CenterStatus.objects.filter(center=center).first()
    return _periods(bounds, outages, status.first_heartbeat_at if status else None, now)


# ---------------------------------------------------------------- the network at a glance


@dataclass
class CenterRow:
    """One center on the status page."""

    center: Center
    status: CenterStatus | None
    open_outage: Outage | None
    today: float | None
    month: float | None
    days: list[PeriodUptime]
    offline_for: dt.timedelta | None = None  # how long the open outage has lasted

    @property
    def watched(self) -> bool:
        return self.status is not None

    @property
    def state(self) -> str:
        """`online`, `offline` or `unknown` (never reported)."""
        if self.status is None:
            return "unknown"
        return "online" if self.status.online else "offline"


def network_status(days: int = 30, *, now: dt.datetime | None = None) -> list[CenterRow]:
    """Every active physical center with its status, open outage and uptime figures, in a
    handful of queries (outages of the whole window fetched once)."""
    now = now or timezone.now()
    centers = list(
        Center.objects.filter(active=True)
        .exclude(kind=Center.Kind.ELECTRONIC)
        .select_related("live_status")
        .order_by("code")
    )
    day_b = day_bounds(days, now)
    month_b = month_bounds(1, now)
    start = min(day_b[0][1], month_b[0][1])
    by_center: dict[Any, list[Outage]] = defaultdict(list)
    for outage in Outage.objects.filter(_overlapping(start, now), center__in=centers):
        by_center[outage.center_id].append(outage)
    rows = []
    for center in centers:
        status = getattr(center, "live_status", None)
        outages = by_center.get(center.pk, [])
        since = status.first_heartbeat_at if status else None
        per_day = _periods(day_b, outages, since, now)
        open_outage = next((o for o in outages if o.ended_at is None), None)
        rows.append(
            CenterRow(
                center=center,
                status=status,
                open_outage=open_outage,
                offline_for=now - open_outage.started_at if open_outage else None,
                today=per_day[-1].share,
                month=_periods(month_b, outages, since, now)[0].share,
                days=per_day,
            )
        )
    return rows


def open_alerts() -> list[Outage]:
    """Outages still open whose alert went out: what the directorate must act on now."""
    return list(
        Outage.objects.filter(ended_at__isnull=True, alerted_at__isnull=False)
        .select_related("center")
        .order_by("started_at")
    )


# ---------------------------------------------------------------- the uptime chart (SVG)

CHART_LABEL = 48  # room for the center code
CHART_BAR = 11
CHART_GAP = 3
CHART_ROW = 30
CHART_BAR_MAX = 22
GOOD, FAIR, POOR, NO_DATA = "#1e6b34", "#e0a800", "#a11d2b", "#d7dde4"


@dataclass(frozen=True)
class ChartBar:
    x: int
    y: int  # top, inside the row
    height: int
    color: str
    title: str


@dataclass(frozen=True)
class ChartRow:
    code: str
    y: int
    bars: list[ChartBar]


@dataclass(frozen=True)
class UptimeChart:
    rows: list[ChartRow]
    width: int
    height: int
    ticks: list[tuple[int, str]]  # (x, label) under the last row


def bar_color(share: float | None) -> str:
    if share is None:
        return NO_DATA
    return GOOD if share >= 0.99 else FAIR if share >= 0.95 else POOR


def uptime_chart(rows: list[CenterRow]) -> UptimeChart:
    """One row of daily bars per center (oldest day on the left), geometry in SVG units, so
    the template only places rectangles: no JavaScript, no asset, works offline."""
    chart_rows = []
    days = len(rows[0].days) if rows else 0
    for i, row in enumerate(rows):
        bars = []
        for j, period in enumerate(row.days):
            share = period.share
            height = CHART_BAR_MAX if share is None else max(2, round(CHART_BAR_MAX * share))
            shown = (
                gettext("no data") if share is None else f"{100 * share:.1f}%".replace(".0%", "%")
            )
            bars.append(
                ChartBar(
                    x=CHART_LABEL + j * (CHART_BAR + CHART_GAP),
                    y=CHART_BAR_MAX - height + 2,
                    height=height,
                    color=bar_color(share),
                    title=f"{row.center.code} {period.start:%Y-%m-%d}: {shown}",
                )
            )
        chart_rows.append(ChartRow(code=row.center.code, y=i * CHART_ROW, bars=bars))
    ticks: list[tuple[int, str]] = []
    if rows and days:
        for j in sorted({0, days // 2, days - 1}):
            x = CHART_LABEL + j * (CHART_BAR + CHART_GAP) + CHART_BAR // 2
            ticks.append((x, f"{rows[0].days[j].start:%m-%d}"))
    return UptimeChart(
        rows=chart_rows,
        width=CHART_LABEL + days * (CHART_BAR + CHART_GAP) + 10,
        height=max(1, len(rows)) * CHART_ROW + 20,
        ticks=ticks,
    )
