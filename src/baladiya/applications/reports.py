"""Read-only figures for supervisors: what came in and what went out, day by day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from baladiya.applications.models import Application, ApplicationEvent
from baladiya.applications.services import WEEKEND
from baladiya.applications.workflow import Status
from baladiya.core.dates import local_midnight

CHART_DAYS = 21  # calendar days: three weeks, today included

# An application is done for the citizen when the document is in their hands.
COMPLETED = (Status.HANDED_OVER, Status.DELIVERED)


@dataclass(frozen=True)
class DayWork:
    day: dt.date
    received: int  # applications submitted that day (counters and online)
    issued: int  # documents issued that day
    completed: int  # handed over at a center or delivered by post that day

    @property
    def weekend(self) -> bool:  # the counters are closed; the electronic center is not
        return self.day.weekday() in WEEKEND


def last_days(today: dt.date, count: int = CHART_DAYS) -> list[dt.date]:
    """`count` calendar days ending with `today`, oldest first."""
    return [today - dt.timedelta(days=n) for n in range(count - 1, -1, -1)]


def work_by_day(scope: QuerySet[Application], days: list[dt.date]) -> list[DayWork]:
    """For each of `days` (Homs dates): how many of the applications in `scope` came in,
    had their document issued, and were completed. Three grouped queries, whatever the
    number of days."""
    start, end = local_midnight(days[0]), local_midnight(days[-1] + dt.timedelta(days=1))
    received = _per_day(scope.filter(created_at__gte=start, created_at__lt=end))
    events = ApplicationEvent.objects.filter(
        application__in=scope.order_by().values("pk"), created_at__gte=start, created_at__lt=end
    )
    issued = _per_day(events.filter(action="issue"))
    completed = _per_day(events.filter(to_status__in=COMPLETED))
    return [
        DayWork(day, received.get(day, 0), issued.get(day, 0), completed.get(day, 0))
        for day in days
    ]


def _per_day(qs: QuerySet[Application] | QuerySet[ApplicationEvent]) -> dict[dt.date, int]:
    rows = (
        qs.order_by()
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("pk"))
        .values_list("day", "n")
    )
    return {day: n for day, n in rows}
