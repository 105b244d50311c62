"""Database-backed rate limits: counted events live in `RateHit` rows, so every worker process
(and every app server behind the proxy) sees the same counts. No in-memory counters.

A limit is "at most `limit` events for (scope, key) within the last `window` seconds"; while
it is reached, `wait_seconds` says how long until the oldest counted event leaves the window.
"""

from __future__ import annotations

import datetime as dt
import math

from django.utils import timezone
from django.utils.translation import ngettext

from baladiya.accounts.models import RateHit


def hit(scope: str, key: str) -> None:
    """Count one event (inside the caller's transaction, if any)."""
    RateHit.objects.create(scope=scope, key=key[:150])


def wait_for(times: list[dt.datetime], limit: int, window: int) -> int:
    """Seconds until fewer than `limit` of `times` (newest first) are inside the window."""
    if limit <= 0 or len(times) < limit:
        return 0
    release = times[limit - 1] + dt.timedelta(seconds=window)
    return max(0, math.ceil((release - timezone.now()).total_seconds()))


def wait_seconds(scope: str, key: str, limit: int, window: int) -> int:
    """0 if another event is allowed now, else the seconds to wait."""
    since = timezone.now() - dt.timedelta(seconds=window)
    times = list(
        RateHit.objects.filter(scope=scope, key=key[:150], at__gte=since)
        .order_by("-at")
        .values_list("at", flat=True)[:limit]
    )
    return wait_for(times, limit, window)


def minutes_message(seconds: int) -> str:
    """The wait in minutes, or in hours beyond two hours (a daily limit)."""
    if seconds > 2 * 3600:
        hours = math.ceil(seconds / 3600)
        return ngettext(
            "Too many attempts. Try again in %(hours)d hour.",
            "Too many attempts. Try again in %(hours)d hours.",
            hours,
        ) % {"hours": hours}
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many attempts. Try again in %(minutes)d minute.",
        "Too many attempts. Try again in %(minutes)d minutes.",
        minutes,
    ) % {"minutes": minutes}


def purge(older_than_days: int = 2) -> int:
    """Delete events long past every window (a periodic task may call this)."""
    cutoff = timezone.now() - dt.timedelta(days=older_than_days)
    deleted, _counts = RateHit.objects.filter(at__lt=cutoff).delete()
    return deleted
