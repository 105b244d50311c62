"""Center status for the directorate: heartbeats, outages and alerts (issue 4, point 7).

Each center node sends a heartbeat about once a minute through the sync loop; the central
node's sync endpoint hands it to `record_heartbeat`. The background pump runs
`detect_outages` every minute (`core.periodic`): a watched center silent for longer than
`CENTER_OFFLINE_AFTER_SECONDS` gets one open `Outage` starting at its last heartbeat, and
an outage open for longer than `CENTER_ALERT_AFTER_SECONDS` sends one SMS alert to
`CENTER_ALERT_PHONES`. The next heartbeat closes the outage.

Liveness is judged by the central clock only (`received_at`): a node's clock is shown, never
trusted (decision 0009). Outage lifecycle, with what each step writes:

    (no status) --first heartbeat--> online          audit `center.watch_started`
    online --silence > offline-after--> offline      Outage opened, audit `center.offline`
    offline --open > alert-after--> offline,alerted  SMS queued (outbox), audit `center.alerted`
    offline --heartbeat--> online                    Outage closed, audit `center.back_online`

Heartbeats themselves are not audited: one a minute per center would drown the log.
Uptime figures and the status page's rows and chart: `centers.uptime`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from baladiya.centers.models import Center, CenterStatus, Heartbeat, Outage, PowerSource
from baladiya.core import audit
from baladiya.core.errors import DomainError

HEARTBEAT_KEEP_DAYS = 62  # two full months of charts, whatever the month lengths
MAX_BACKLOG = 10_000_000  # far above any real outbox: a bigger number is a broken node
MAX_VERSION_CHARS = 40
# The last power source a node reported before it fell silent says why: on its battery or
# generator the power was already failing, so the silence is most likely a power cut.
POWER_FAILING = frozenset({PowerSource.BATTERY, PowerSource.GENERATOR})


def offline_after() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "CENTER_OFFLINE_AFTER_SECONDS", 180)))


def alert_after() -> dt.timedelta:
    return dt.timedelta(seconds=int(getattr(settings, "CENTER_ALERT_AFTER_SECONDS", 1800)))


def alert_phones() -> list[str]:
    return [p for p in getattr(settings, "CENTER_ALERT_PHONES", []) if p]


# ---------------------------------------------------------------- the heartbeat report


def _bad(message: Any) -> DomainError:
    return DomainError(message, code="invalid_heartbeat")


def _aware(value: Any, name: str, *, required: bool) -> dt.datetime | None:
    """An ISO 8601 string (or datetime) with its UTC offset; naive times are refused: a node
    in Homs and the central node must not disagree on what "14:00" means."""
    if value is None or value == "":
        if required:
            raise _bad(_("Heartbeat: “%(field)s” is missing.") % {"field": name})
        return None
    if isinstance(value, dt.datetime):
        parsed: dt.datetime | None = value
    elif isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
    else:
        parsed = None
    if parsed is None:
        raise _bad(
            _("Heartbeat: “%(field)s” must be a date and time (ISO 8601).") % {"field": name}
        )
    if timezone.is_naive(parsed):
        raise _bad(
            _("Heartbeat: “%(field)s” must carry its UTC offset (e.g. +03:00 or Z).")
            % {"field": name}
        )
    return parsed


def _check_time(value: Any, name: str) -> None:
    if not isinstance(value, dt.datetime):
        raise _bad(
            _("Heartbeat: “%(field)s” must be a date and time (ISO 8601).") % {"field": name}
        )
    _aware(value, name, required=True)


@dataclass(frozen=True)
class HeartbeatReport:
    """What a center node says about itself in each heartbeat.

    `parse` turns the JSON the node sent into a report (strings → datetimes); building one
    directly (the node's own sync loop) is checked the same way. Unknown keys are ignored, so
    a newer node can report more to an older central node.
    """

    power_source: str
    outbox_backlog: int
    last_sync_at: dt.datetime | None
    version: str
    reported_at: dt.datetime

    def __post_init__(self) -> None:
        if self.power_source not in PowerSource.values:
            raise _bad(
                _("Heartbeat: unknown power source “%(value)s” (expected %(choices)s).")
                % {"value": str(self.power_source)[:20], "choices": ", ".join(PowerSource.values)}
            )
        backlog = self.outbox_backlog
        if isinstance(backlog, bool) or not isinstance(backlog, int):
            raise _bad(_("Heartbeat: “outbox_backlog” must be a whole number."))
        if not 0 <= backlog <= MAX_BACKLOG:
            raise _bad(
                _("Heartbeat: “outbox_backlog” must be between 0 and %(max)d.")
                % {"max": MAX_BACKLOG}
            )
        if not isinstance(self.version, str) or not self.version.strip():
            raise _bad(_("Heartbeat: “version” is missing."))
        if len(self.version) > MAX_VERSION_CHARS or not self.version.isprintable():
            raise _bad(
                _("Heartbeat: “version” must be at most %(max)d printable characters.")
                % {"max": MAX_VERSION_CHARS}
            )
        _check_time(self.reported_at, "reported_at")
        if self.last_sync_at is not None:
            _check_time(self.last_sync_at, "last_sync_at")

    @classmethod
    def parse(cls, data: Any) -> HeartbeatReport:
        """A report from untrusted JSON; a DomainError (code `invalid_heartbeat`) says what is
        wrong, in the caller's language."""
        if not isinstance(data, Mapping):
            raise _bad(_("Heartbeat: expected a JSON object."))
        missing = [
            name
            for name in ("power_source", "outbox_backlog", "version", "reported_at")
            if name not in data
        ]
        if missing:
            raise _bad(_("Heartbeat: “%(field)s” is missing.") % {"field": ", ".join(missing)})
        reported_at = _aware(data["reported_at"], "reported_at", required=True)
        assert reported_at is not None  # required=True
        return cls(
            power_source=data["power_source"]
            if isinstance(data["power_source"], str)
            else repr(data["power_source"]),
            outbox_backlog=data["outbox_backlog"],
            last_sync_at=_aware(data.get("last_sync_at"), "last_sync_at", required=False),
            version=data["version"],
            reported_at=reported_at,
        )

    def as_dict(self) -> dict[str, Any]:
        """The JSON a node sends (`parse(report.as_dict()) == report`)."""
        return {
            "power_source": self.power_source,
            "outbox_backlog": self.outbox_backlog,
            "last_sync_at": self.last_sync_at.isoformat() if self.last_sync_at else None,
            "version": self.version,
            "reported_at": self.reported_at.isoformat(),
        }


# ---------------------------------------------------------------- heartbeats


def record_heartbeat(
    center: Center, report: HeartbeatReport, received_at: dt.datetime | None = None
) -> CenterStatus:
    """A heartbeat from `center`'s node arrived (at `received_at`, central clock; now if None).

    Updates the center's status, appends a `Heartbeat`, closes the open outage if there is one
    (it ends at `received_at`). Audited only when the state changes (first heartbeat ever,
    back online). Called by the sync endpoint; also safe to call again with the same
    arguments (a replayed request): the second call changes nothing. A heartbeat received
    before the last one (a late delivery) is logged but does not move the status back.
    """
    received_at = received_at or timezone.now()
    with transaction.atomic():
        status = CenterStatus.objects.select_for_update().filter(center=center).first()
        if status is None:
            return _first_heartbeat(center, report, received_at)
        if received_at == status.last_heartbeat_at and report.reported_at == status.reported_at:
            return status  # the same heartbeat again
        _log(center, report, received_at)
        if received_at < status.last_heartbeat_at:
            return status
        _apply(status, report, received_at)
        outage = (
            Outage.objects.select_for_update()
            .filter(center=center, ended_at__isnull=True, started_at__lte=received_at)
            .first()
        )
        status.online = True
        status.save()
        if outage is not None:
            _close(outage, center, received_at)
    return status


def _first_heartbeat(
    center: Center, report: HeartbeatReport, received_at: dt.datetime
) -> CenterStatus:
    status = CenterStatus(center=center, online=True, first_heartbeat_at=received_at)
    _apply(status, report, received_at)
    try:
        with transaction.atomic():  # two first heartbeats at once: the other one made it
            status.save(force_insert=True)
    except IntegrityError:
        return record_heartbeat(center, report, received_at)
    _log(center, report, received_at)
    audit.record(
        "center.watch_started",
        obj=status,
        center=center.code,
        version=report.version,
        power_source=report.power_source,
    )
    return status


def _apply(status: CenterStatus, report: HeartbeatReport, received_at: dt.datetime) -> None:
    status.last_heartbeat_at = received_at
    status.reported_at = report.reported_at
    status.power_source = report.power_source
    status.outbox_backlog = report.outbox_backlog
    status.last_sync_at = report.last_sync_at
    status.version = report.version


def _log(center: Center, report: HeartbeatReport, received_at: dt.datetime) -> None:
    Heartbeat.objects.create(
        center=center,
        received_at=received_at,
        power_source=report.power_source,
        outbox_backlog=report.outbox_backlog,
    )


def _close(outage: Outage, center: Center, received_at: dt.datetime) -> None:
    outage.ended_at = received_at
    outage.save(update_fields=["ended_at"])
    audit.record(
        "center.back_online",
        obj=outage,
        center=center.code,
        started_at=outage.started_at.isoformat(),
        seconds=int((received_at - outage.started_at).total_seconds()),
        cause=outage.cause,
        alerted=outage.alerted_at is not None,
    )


# ---------------------------------------------------------------- the watch job


def cause_for(power_source: str) -> str:
    """An outage's first guess at its cause, from the last power source the node reported."""
    return Outage.Cause.POWER if power_source in POWER_FAILING else Outage.Cause.UNKNOWN


def watched() -> QuerySet[CenterStatus]:
    """Statuses the watch job looks at: centers that have reported, are active, and are not
    the electronic center (C00 is the central node itself: it cannot be offline to itself)."""
    return CenterStatus.objects.filter(center__active=True).exclude(
        center__kind=Center.Kind.ELECTRONIC
    )


def detect_outages(now: dt.datetime | None = None) -> str:
    """The periodic watch (every minute, `core.periodic`); idempotent.

    1. A watched center silent longer than `CENTER_OFFLINE_AFTER_SECONDS` gets an open outage
       starting at its last heartbeat (at most one open per center), cause from its last
       reported power source; it is marked offline.
    2. An outage open longer than `CENTER_ALERT_AFTER_SECONDS` and not yet alerted: one SMS
       per number in `CENTER_ALERT_PHONES` through the outbox, `alerted_at` set (also with no
       number configured: the status page shows the alert).
    3. Heartbeat log rows older than `HEARTBEAT_KEEP_DAYS` are deleted.

    Runs only on the central node: a center node knows nothing reliable about the others.
    Returns a line for the pump's log ("" when nothing happened).
    """
    if getattr(settings, "BALADIYA_NODE", "central") != "central":
        return ""
    now = now or timezone.now()
    opened = sum(
        _open_outage(pk, now)
        for pk in watched()
        .filter(last_heartbeat_at__lt=now - offline_after())
        .exclude(center__in=Outage.objects.filter(ended_at__isnull=True).values("center"))
        .values_list("pk", flat=True)
    )
    alerted = sum(
        _alert(pk, now)
        for pk in Outage.objects.filter(
            ended_at__isnull=True,
            alerted_at__isnull=True,
            started_at__lt=now - alert_after(),
            center__in=watched().values("center"),
        ).values_list("pk", flat=True)
    )
    purged = purge_heartbeats(now)
    parts = [
        f"{opened} offline" if opened else "",
        f"{alerted} alerted" if alerted else "",
        f"{purged} old heartbeats purged" if purged else "",
    ]
    return ", ".join(p for p in parts if p)


def _open_outage(status_pk: Any, now: dt.datetime) -> int:
    """Open the outage of one silent center; 0 if a heartbeat or another pump came first."""
    with transaction.atomic():
        status = (
            CenterStatus.objects.select_for_update()
            .select_related("center")
            .filter(pk=status_pk, last_heartbeat_at__lt=now - offline_after())
            .first()
        )
        if status is None:
            return 0  # a heartbeat came in meanwhile
        if Outage.objects.filter(center_id=status.center_id, ended_at__isnull=True).exists():
            return 0  # another pump opened it while this one waited for the lock
        try:
            with transaction.atomic():
                outage = Outage.objects.create(
                    center_id=status.center_id,
                    started_at=status.last_heartbeat_at,
                    cause=cause_for(status.power_source),
                )
        except IntegrityError:  # the unique constraint: a twin got past the check above
            return 0
        status.online = False
        status.save(update_fields=["online"])
        audit.record(
            "center.offline",
            obj=outage,
            center=status.center.code,
            last_heartbeat_at=status.last_heartbeat_at.isoformat(),
            power_source=status.power_source,
            cause=outage.cause,
        )
    return 1


def _alert(outage_pk: Any, now: dt.datetime) -> int:
    from baladiya.notifications.services import queue_sms

    with transaction.atomic():
        outage = (
            Outage.objects.select_for_update()
            .select_related("center")
            .filter(pk=outage_pk, ended_at__isnull=True, alerted_at__isnull=True)
            .first()
        )
        if outage is None:
            return 0  # back online, or another pump alerted first
        outage.alerted_at = now
        outage.save(update_fields=["alerted_at"])
        phones = alert_phones()
        text = alert_text(outage)
        for phone in phones:
            queue_sms(phone, text, dedupe_key=f"center-outage:{outage.pk}:{phone}")
        audit.record(
            "center.alerted",
            obj=outage,
            center=outage.center.code,
            phones=len(phones),
            minutes_silent=int((now - outage.started_at).total_seconds() // 60),
        )
    return 1


def alert_text(outage: Outage) -> str:
    """The alert SMS, in Arabic (the directorate's phones), times in Damascus time."""
    since = timezone.localtime(outage.started_at)
    with translation.override("ar"):
        text = gettext(
            "Homs City Council: center %(code)s (%(name)s) has been offline since %(time)s"
            " (%(date)s). Likely cause: %(cause)s."
        ) % {
            "code": outage.center.code,
            "name": outage.center.name_ar,
            "time": since.strftime("%H:%M"),
            "date": since.strftime("%Y-%m-%d"),
            "cause": outage.get_cause_display(),
        }
    return str(text)


def purge_heartbeats(now: dt.datetime | None = None) -> int:
    cutoff = (now or timezone.now()) - dt.timedelta(days=HEARTBEAT_KEEP_DAYS)
    deleted, _counts = Heartbeat.objects.filter(received_at__lt=cutoff).delete()
    return deleted


# ---------------------------------------------------------------- the directorate's notes


def set_outage_cause(outage: Outage, actor: Any, cause: str, note: str = "") -> Outage:
    """The directorate corrects an outage's cause and notes what happened (audited)."""
    from baladiya.centers.permissions import require_directorate

    require_directorate(actor)
    if cause not in Outage.Cause.values:
        raise DomainError(_("Choose a cause from the list."), code="invalid_cause")
    note = note.strip()
    if len(note) > 2000:
        raise DomainError(_("The note is too long (at most 2000 characters)."))
    with transaction.atomic():
        locked = Outage.objects.select_for_update().select_related("center").get(pk=outage.pk)
        if (locked.cause, locked.note) == (cause, note):
            return locked  # nothing to change, nothing to audit
        before = locked.cause
        locked.cause, locked.note = cause, note
        locked.save(update_fields=["cause", "note"])
        audit.record(
            "center.outage_noted",
            actor=actor,
            obj=locked,
            center=locked.center.code,
            cause_before=before,
            cause=cause,
            note=note[:200],
        )
    return locked
