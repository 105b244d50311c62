"""The audit log for a period as a CSV file (`core.csvstream`), for an auditor's own tools:
one line per event with its action in words, the data as JSON and both hashes, so the file
can be checked against the chain. Taking a copy of the log is itself recorded in it."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from baladiya.core import audit
from baladiya.core.audit_labels import action_label
from baladiya.core.csvstream import BATCH, stream_csv
from baladiya.core.models import AuditEvent


def period_events(start: dt.date, end: dt.date) -> Any:
    """The events recorded from the start of `start` to the end of `end` (Homs days)."""
    since = timezone.make_aware(dt.datetime.combine(start, dt.time.min))
    until = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min))
    return AuditEvent.objects.filter(at__gte=since, at__lt=until).order_by("seq")


def record_export(actor: Any, start: dt.date, end: dt.date) -> int:
    """Write down who took a copy of which days; return how many events it holds."""
    count = period_events(start, end).count()
    with transaction.atomic():
        audit.record(
            "audit.exported",
            actor=actor,
            start=start.isoformat(),
            end=end.isoformat(),
            events=count,
        )
    return count


def csv_lines(start: dt.date, end: dt.date, language: str) -> Iterator[bytes]:
    """Headers and action names in `language` (a streamed response is read after the view
    has returned, and its language with it)."""
    with translation.override(language):
        events = period_events(start, end).iterator(chunk_size=BATCH)
        yield from stream_csv(
            [
                _("Sequence number"),
                _("Time"),
                _("Actor"),
                _("What happened"),
                _("Action code"),
                _("Object type"),
                _("Object id"),
                _("Center"),
                _("Data"),
                _("Previous hash"),
                _("Hash"),
            ],
            (_row(event) for event in events),
        )


def _row(event: AuditEvent) -> list[Any]:
    return [
        event.seq,
        timezone.localtime(event.at).isoformat(timespec="seconds"),
        event.actor,
        action_label(event.action),
        event.action,
        event.object_type,
        event.object_id,
        event.center,
        json.dumps(event.data, ensure_ascii=False, sort_keys=True),
        event.prev_hash,
        event.hash,
    ]
