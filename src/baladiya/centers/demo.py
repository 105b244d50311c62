"""Demo data for the directorate's status page: a month in the life of the Homs centers.

Homs lives with scheduled power cuts, mostly in the evening. A center on the grid alone keeps
going on its UPS battery for half an hour or so, then its node falls silent until the power
comes back; a solar center rides through most cuts on its panels and batteries and only goes
dark when a long night cut empties them. Any center loses its link now and then. The refinery
center has the refinery's own supply.

The month is simulated in Python (a heartbeat an hour is kept in the log, where real nodes
send one a minute), the outages are derived from the simulated silences with the same rule as
the watch job (`status.cause_for`), and the present goes through the real service functions:
each node's first and last heartbeat (`record_heartbeat`), the watch job (`detect_outages`,
which finds two centers silent now and alerts for the longer silence), the directorate's
notes on a few outages, and a few support tickets. Deterministic for a given random state.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from django.utils import timezone

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.centers.models import (
    Center,
    CenterStatus,
    Heartbeat,
    Outage,
    PowerSource,
)
from baladiya.centers.status import (
    HeartbeatReport,
    alert_after,
    cause_for,
    detect_outages,
    record_heartbeat,
    set_outage_cause,
)
from baladiya.centers.tickets import close_ticket, open_ticket, reply_to_ticket

DAYS = 30
VERSION = "0.4.2"
OLD_VERSION = "0.4.1"  # one center has not been updated yet
SILENT_NOW = {"C08": 50, "C09": 6}  # minutes: offline and alerted; offline, not yet alerted
OWN_SUPPLY = {"C11"}  # the refinery's own power plant: no city power cuts


@dataclass(frozen=True)
class Silence:
    start: dt.datetime  # the last heartbeat before it
    end: dt.datetime  # the first heartbeat after it
    last_power: str


@dataclass(frozen=True)
class Cut:
    """A power cut at a center, and what the node ran on meanwhile."""

    start: dt.datetime
    end: dt.datetime
    backup: str  # PowerSource the node ran on during the cut


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


def _month(
    center: Center, rng: random.Random, days: list[dt.date], until: dt.datetime
) -> tuple[list[Cut], list[Silence]]:
    """The simulated cuts and silences of one center over `days`, all ended before `until`."""
    solar = center.power_source == Center.Power.SOLAR
    cuts: list[Cut] = []
    silences: list[Silence] = []
    for day in days:
        if center.code not in OWN_SUPPLY and rng.random() < (0.6 if not solar else 0.5):
            start = _at(day, rng.randint(17, 21), rng.choice([0, 15, 30, 45]))
            end = start + dt.timedelta(minutes=rng.randint(80, 240))
            backup = PowerSource.SOLAR if solar and start.hour < 18 else PowerSource.BATTERY
            cuts.append(Cut(start, end, backup))
            # A UPS battery lasts half an hour; panels and batteries, a few hours.
            battery = dt.timedelta(minutes=rng.randint(120, 360) if solar else rng.randint(20, 45))
            if start + battery < end:  # the battery ran out before the power came back
                silences.append(Silence(start + battery, end, PowerSource.BATTERY))
        elif not solar and center.code not in OWN_SUPPLY and rng.random() < 0.2:
            # A daytime cut: the generator takes over; now and then it runs out of fuel.
            start = _at(day, rng.randint(9, 12), rng.choice([0, 20, 40]))
            end = start + dt.timedelta(minutes=rng.randint(60, 180))
            cuts.append(Cut(start, end, PowerSource.GENERATOR))
            if rng.random() < 0.3:
                silent = start + dt.timedelta(minutes=rng.randint(30, 50))
                silences.append(Silence(silent, end, PowerSource.GENERATOR))
        if rng.random() < 0.07:  # the link drops: the node runs, nobody hears it
            start = _at(day, rng.randint(8, 15), rng.randint(0, 59))
            end = start + dt.timedelta(minutes=rng.randint(10, 90))
            if not any(s.start < end and start < s.end for s in silences):
                silences.append(Silence(start, end, _normal_power(center, start)))
    ended = [s for s in silences if s.end < until]
    return cuts, sorted(ended, key=lambda s: s.start)


def _normal_power(center: Center, when: dt.datetime) -> str:
    hour = timezone.localtime(when).hour
    if center.power_source == Center.Power.SOLAR and 8 <= hour < 17:
        return PowerSource.SOLAR
    return PowerSource.GRID


def _power_at(center: Center, cuts: list[Cut], when: dt.datetime) -> str:
    for cut in cuts:
        if cut.start <= when < cut.end:
            return cut.backup
    return _normal_power(center, when)


def _report(
    power: str, backlog: int, synced: dt.datetime | None, when: dt.datetime, version: str
) -> HeartbeatReport:
    return HeartbeatReport(
        power_source=power,
        outbox_backlog=backlog,
        last_sync_at=synced,
        version=version,
        reported_at=when,
    )


def seed_status(rng: random.Random, now: dt.datetime | None = None) -> dict[str, int]:
    """Statuses, a month of heartbeats and outages, and a few support tickets (once: a node
    that already has statuses is left alone). Returns counts for the demo's summary."""
    if CenterStatus.objects.exists():
        return {}
    now = now or timezone.now()
    today = timezone.localdate(now)
    days = [today - dt.timedelta(days=DAYS - i) for i in range(DAYS + 1)]
    watch_start = _at(days[0], 0, 0)
    centers = list(
        Center.objects.filter(active=True).exclude(kind=Center.Kind.ELECTRONIC).order_by("code")
    )
    outages = 0
    for center in centers:
        outages += _seed_center(center, rng, days, watch_start, now)
    detect_outages(now)  # the two centers silent right now: outages opened, one alerted
    notes = _seed_notes()
    tickets = _seed_tickets()
    return {"center outages": outages + len(SILENT_NOW), "outage notes": notes, "tickets": tickets}


def keep_demo_centers_alive(now: dt.datetime | None = None) -> str:
    """On a demo node, the demo's centers run no node of their own: each sends the heartbeat
    its node would (the periodic jobs call this every minute), repeating its last report, so
    the status page does not show the whole network gone dark ten minutes after `make run`.
    The centers the demo keeps silent (`SILENT_NOW`: a power cut, a lost link) stay silent;
    a center enrolled with a real node reports for itself. A demo stopped for a while shows,
    once running again, the outage every center had meanwhile, as a real network would."""
    from baladiya.sync.models import CenterNode

    now = now or timezone.now()
    real_nodes = CenterNode.objects.filter(revoked_at=None).values("center")
    statuses = (
        CenterStatus.objects.select_related("center")
        .exclude(center__code__in=SILENT_NOW)
        .exclude(center__in=real_nodes)
    )
    for status in statuses:
        report = _report(
            status.power_source,
            status.outbox_backlog,
            now - dt.timedelta(seconds=30),
            now,
            status.version,
        )
        record_heartbeat(status.center, report, received_at=now)
    return ""  # every minute: nothing worth a line in the log


def _seed_center(
    center: Center, rng: random.Random, days: list[dt.date], start: dt.datetime, now: dt.datetime
) -> int:
    version = OLD_VERSION if center.code == "C10" else VERSION
    record_heartbeat(
        center, _report(_normal_power(center, start), 0, None, start, version), received_at=start
    )
    silent_for = SILENT_NOW.get(center.code)
    last = (
        now - dt.timedelta(minutes=silent_for)
        if silent_for
        else now - dt.timedelta(seconds=rng.randint(5, 55))
    )
    cuts, silences = _month(center, rng, days, last - dt.timedelta(hours=1))
    _log_heartbeats(center, cuts, silences, start, last)
    late = alert_after()
    Outage.objects.bulk_create(
        Outage(
            center=center,
            started_at=s.start,
            ended_at=s.end,
            cause=cause_for(s.last_power),
            alerted_at=s.start + late if s.end - s.start > late else None,
        )
        for s in silences
    )
    power = PowerSource.BATTERY if center.code == "C08" else _power_at(center, cuts, last)
    backlog = {"C08": 37, "C05": 140}.get(center.code, rng.randint(0, 4))
    synced = last - dt.timedelta(minutes=1 if center.code != "C05" else 25)
    record_heartbeat(center, _report(power, backlog, synced, last, version), received_at=last)
    return len(silences)


def _log_heartbeats(
    center: Center, cuts: list[Cut], silences: list[Silence], start: dt.datetime, last: dt.datetime
) -> None:
    """One heartbeat an hour where the node was heard (the real log has one a minute)."""
    rows = []
    when = start + dt.timedelta(hours=1)
    while when < last:
        if not any(s.start < when < s.end for s in silences):
            rows.append(
                Heartbeat(
                    center=center,
                    received_at=when,
                    power_source=_power_at(center, cuts, when),
                    outbox_backlog=0,
                )
            )
        when += dt.timedelta(hours=1)
    Heartbeat.objects.bulk_create(rows, batch_size=500)


def _directorate() -> User | None:
    officer = User.objects.filter(
        groups__name=roles.OFFICER, agency__isnull=True, is_active=True
    ).first()
    return officer or User.objects.filter(groups__name=roles.ADMIN, is_active=True).first()


def _seed_notes() -> int:
    """The directorate found out what a few silences were."""
    officer = _directorate()
    if officer is None:
        return 0
    unknown = list(
        Outage.objects.filter(cause=Outage.Cause.UNKNOWN, ended_at__isnull=False).order_by(
            "started_at"
        )
    )
    if not unknown:
        return 0
    set_outage_cause(
        unknown[0],
        officer,
        Outage.Cause.MAINTENANCE,
        "تحديث نظام التشغيل وتبديل قرص الحاسوب — صيانة مخطط لها.",
    )
    for outage in unknown[1:][-2:]:
        set_outage_cause(
            outage,
            officer,
            Outage.Cause.NETWORK,
            "انقطع خط الإنترنت في الحي؛ أبلغنا مزود الخدمة وعاد الاتصال.",
        )
    return 1 + len(unknown[1:][-2:])


def _center_staff(code: str, role: str) -> User | None:
    return User.objects.filter(center__code=code, groups__name=role, is_active=True).first()


def _seed_tickets() -> int:
    """An open ticket, an answered one and a closed one."""
    officer = _directorate()
    printer = _center_staff("C06", roles.CLERK)
    power = _center_staff("C08", roles.CLERK)
    sync = _center_staff("C03", roles.CASHIER)
    if officer is None or printer is None or power is None or sync is None:
        return 0
    open_ticket(
        printer,
        "الطابعة لا تطبع الإيصالات",
        "منذ صباح اليوم تظهر رسالة «ورق عالق» ولا يوجد ورق عالق. أعدنا تشغيلها دون فائدة.",
    )
    cuts = open_ticket(
        power,
        "انقطاع الكهرباء المسائي يوقف المركز",
        "بطارية جهاز UPS لا تكفي أكثر من نصف ساعة، ويتوقف الحاسوب قبل عودة الكهرباء.",
    )
    reply_to_ticket(
        cuts, officer, "سنرسل بطارية إضافية هذا الأسبوع، ونبحث ربط المركز بالطاقة الشمسية."
    )
    slow = open_ticket(
        sync,
        "المزامنة بطيئة بعد الظهر",
        "تبقى الإيصالات في قائمة الانتظار أكثر من ساعة بعد الظهر.",
    )
    reply_to_ticket(slow, officer, "رفعنا سرعة الخط لدى المزود؛ أخبرونا إن تكرر ذلك.")
    reply_to_ticket(slow, sync, "تمت المزامنة بسرعة اليوم، شكراً.")
    close_ticket(slow, officer)
    return 3
