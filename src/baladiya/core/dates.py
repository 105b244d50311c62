"""Days as the centers live them: Homs (Damascus) time."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def local_midnight(day: dt.date) -> dt.datetime:
    """Start of `day` in Damascus time (days and months are counted as the centers live them)."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
