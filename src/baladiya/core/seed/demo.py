"""A lived-in demo: a few hundred applications in every state across the Homs centers.

Everything goes through the real service functions (numbers, receipts, documents, audit), so
the demo is also a smoke test of the whole counter flow. One application in five comes through
the electronic center (C00) from a demo citizen's portal account: paid online at the sandbox
gateway (its signed webhook delivered through the outbox), fulfilled by the back office, then
collected at the center the citizen chose or sent by the sandbox post (delivered, or returned
to a center's pickup queue). The outbox is pumped in-process (no web server runs yet).

The work is spread over the last three working weeks and today's counter hours so far
(`_Simulation`): each step runs with the clock set to its moment, so drawers, receipts,
documents, SLA dates, water bill payments, the settlement imports and the audit log carry the
dates they would have. Made out of hours (evening, weekend, early morning), today has no
counter work, or the day's finished work. Deterministic for a given seed and moment (which
states, services, people, when; ids and gateway references are random).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import heapq
import random
import uuid
from collections import Counter as Tally
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import time_machine
from django.test.utils import override_settings
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, User
from baladiya.applications import hooks
from baladiya.applications import services as apps
from baladiya.applications.models import Application
from baladiya.applications.services import WEEKEND
from baladiya.applications.workflow import OPEN_STATES, Status
from baladiya.catalog.models import DeliveryMode, FieldType, Service
from baladiya.centers.demo import seed_status
from baladiya.centers.models import Center, Neighbourhood
from baladiya.core.errors import DomainError
from baladiya.core.models import AuditEvent
from baladiya.notifications.senders import PermanentFailure, TransientFailure

FIRST_NAMES = [
    "أحمد", "محمد", "خالد", "عمر", "يوسف", "سامر", "رامي", "حسان", "علي", "مازن",
    "فاطمة", "مريم", "رنا", "هبة", "لمى", "ريم", "سلمى", "نور", "ديما", "رهف",
]  # fmt: skip
FATHER_NAMES = ["محمود", "عبد الله", "إبراهيم", "حسن", "مصطفى", "سليمان", "فؤاد", "جميل"]
LAST_NAMES = [
    "الحمصي", "الأتاسي", "السباعي", "الدروبي", "الجندي", "الخوري", "الزهراوي",
    "الرفاعي", "الحسيني", "العطار", "الشامي", "الأيوبي", "المصري", "النحاس",
]  # fmt: skip
MOTHER_NAMES = ["فاطمة", "خديجة", "سعاد", "نجاح", "وفاء", "سميرة", "ليلى", "منى"]


@dataclass(frozen=True)
class _Staff:
    """Who takes each step of one demo application."""

    clerk: User
    cashier: User
    reviewer: User
    supervisor: User | None
    pickup_clerk: User  # at the center the citizen chose for pickup


# How far along each demo application goes (weights sum to 100).
TARGETS: list[tuple[str, int]] = [
    (Status.SUBMITTED, 10),
    (Status.PAID, 8),
    (Status.IN_REVIEW, 8),
    (Status.APPROVED, 5),
    (Status.RETURNED, 5),
    (Status.REJECTED, 4),
    (Status.ISSUED, 5),
    (Status.READY_FOR_PICKUP, 13),
    (Status.HANDED_OVER, 28),
    (Status.CANCELLED, 7),
    (Status.DISPATCHED, 3),
    (Status.DELIVERED, 4),
]


def _staff(center: Center, role: str) -> User:
    user = User.objects.filter(center=center, groups__name=role, is_active=True).first()
    if user is None:
        raise RuntimeError(f"the demo needs a {role} at {center.code}: run `seed homs --demo`")
    return user


def _officer() -> User:
    user = User.objects.filter(groups__name=roles.OFFICER, agency__isnull=True).first()
    user = user or User.objects.filter(groups__name=roles.OFFICER).first()
    if user is None:
        raise RuntimeError("the demo needs an officer: run `seed homs --demo`")
    return user


def _citizens(rng: random.Random, count: int) -> list[Citizen]:
    existing = list(Citizen.objects.all()[:count])
    serial = 1000000 + Citizen.objects.count()
    while len(existing) < count:
        serial += 1
        national = f"04{rng.randint(1, 30):02d}{serial:07d}"
        if Citizen.objects.filter(national_number=national).exists():
            continue
        existing.append(
            Citizen.objects.create(
                national_number=national,
                first_name=rng.choice(FIRST_NAMES),
                father_name=rng.choice(FATHER_NAMES),
                last_name=rng.choice(LAST_NAMES),
                mother_name=rng.choice(MOTHER_NAMES),
                birth_date=dt.date(rng.randint(1950, 2006), rng.randint(1, 12), rng.randint(1, 28)),
                phone=f"+9639{rng.randint(30, 99)}{rng.randint(100000, 999999)}",
            )
        )
    return existing


def _field_values(service: Service, citizen: Citizen, rng: random.Random) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for spec in service.fields.all():
        if spec.type == FieldType.NATIONAL_NUMBER:
            values[spec.name] = citizen.national_number
        elif spec.type == FieldType.PHONE:
            values[spec.name] = citizen.phone or "+963944000000"
        elif spec.type == FieldType.DATE:
            values[spec.name] = dt.date(2026, rng.randint(1, 10), rng.randint(1, 28)).isoformat()
        elif spec.type == FieldType.NUMBER:
            values[spec.name] = str(rng.randint(1, 500))
        elif spec.type == FieldType.CHOICE:
            values[spec.name] = str(rng.choice(spec.choices)) if spec.choices else ""
        else:
            values[spec.name] = rng.choice(["جهة عامة", "مصرف", "جامعة البعث", "سفارة"])
    return values


def _pdf_stub() -> Any:
    from baladiya.core.uploads import CheckedUpload

    content = b"%PDF-1.4\n% demo attachment\n%%EOF\n"
    return CheckedUpload(
        content=content,
        content_type="application/pdf",
        sha256=hashlib.sha256(content).hexdigest(),
        name="id.pdf",
    )


def generate_demo(
    count: int = 300, seed: int = 2026, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Create `count` applications spread over the neighbourhood and institutional centers,
    worked over the last HISTORY_DAYS business days and today (see `_Simulation`)."""
    rng = random.Random(seed)
    centers = list(Center.objects.exclude(kind=Center.Kind.ELECTRONIC).order_by("code"))
    # A service with rules of its own (a water meter that must exist, a field visit) cannot
    # be filled with random values: the random demo leaves it out (applications.hooks).
    services = [
        s
        for s in Service.objects.filter(active=True).prefetch_related("fields", "attachments")
        if not hooks.has_rules(s.code)
    ]
    citizens = _citizens(rng, max(60, count // 3))
    officer = _officer()
    clerks = {c.pk: _staff(c, roles.CLERK) for c in centers}
    cashiers = {c.pk: _staff(c, roles.CASHIER) for c in centers}
    supervisor = User.objects.filter(groups__name=roles.SUPERVISOR, center__isnull=True).first()
    desk = _online_desk(services, clerks, supervisor or officer)
    # The audit log is in time order: the history starts after whatever was recorded before
    # (a fresh demo node is seeded the day before it: `before_history`).
    last = AuditEvent.objects.order_by("-seq").values_list("at", flat=True).first()
    after = timezone.localtime(last).date() if last else None
    calendar = _Calendar.before(timezone.localdate(), HISTORY_DAYS, after)
    calendar.open_today(timezone.now(), last)
    made = _Made()
    sim = _Simulation(calendar, rng, progress, last)

    # Each past business day, every counter's drawer is opened before the doors open and
    # counted after they close; today's are opened in the morning, or when the demo is made.
    for center in centers:
        sim.add(_drawer_days(cashiers[center.pk], calendar, rng), calendar.first_drawer())
    finance = User.objects.filter(groups__name=roles.FINANCE, is_active=True).first()
    if finance is not None and len(calendar.days) > 1:
        sim.add(_settlements(finance, calendar), calendar.at(calendar.days[1], dt.time(9, 0)))
    today_from = count - count * TODAY_PERCENT // 100  # the last applications: today's
    for i in range(count):
        if i % ONLINE_EVERY == ONLINE_SLOT:
            if i >= today_from:
                plan, start = rng.choice(TODAY_PLANS), None
            else:
                plan = desk.next_plan(rng)
                # A late webhook must still be on its way when the demo ends: today's.
                today = plan == "confirming"
                start = None if today else calendar.start(rng, recent=plan in ONLINE_OPEN)
            sim.add(_online_work(desk, plan, made, rng), start, online=True, counted=True)
            continue
        center = centers[i % len(centers)]
        # Counters take in about as much every day; what an application has become depends
        # on how long ago it came in (the office's own queue is mostly recent).
        start = calendar.start_today(rng) if i >= today_from else calendar.start(rng, recent=False)
        target = _counter_target(calendar.working_days_since(start), rng)
        sub, pickup = _counter_submission(center, services, citizens, target, centers, rng)
        reviewer = officer if sub.service.approval == Service.Approval.BACK_OFFICE else None
        clerk = clerks[center.pk]
        staff = _Staff(
            clerk,
            cashiers[center.pk],
            reviewer or clerk,
            supervisor,
            clerks[pickup.pk] if pickup is not None else clerk,
        )
        sim.add(_counter_work(sub, target, staff, made, rng), start, counted=True)
    # Water subscriptions and bills, through the sandbox water establishment's files.
    water: dict[str, int] = {}
    sim.add(
        _water_work(citizens, cashiers, officer, seed, calendar, water),
        calendar.at(calendar.days[0], WATER_IMPORT) if calendar.days else calendar.drawers_today(),
    )
    sim.run(lambda: _open_drawers([cashiers[c.pk] for c in centers]))

    tally = Tally(
        Application.objects.filter(pk__in=made.applications).values_list("status", flat=True)
    )
    tally["online"] = made.online
    tally["revoked"] = made.revoked
    tally["days"] = len(calendar.days) + 1
    tally.update(seed_status(rng))  # the directorate's center status page (centers.demo)
    tally.update(water)
    return dict(tally)


def before_history() -> contextlib.AbstractContextManager[object]:
    """The clock to seed a fresh demo node with (`seed_homs(demo=True)`): the morning before
    the first of the demo's past days, so that staff, citizens and reference data exist
    before the history `generate_demo` writes. A node that has recorded anything already
    keeps the real time (its demo history then starts after that record)."""
    if AuditEvent.objects.exists():
        return contextlib.nullcontext()
    first = _Calendar.before(timezone.localdate(), HISTORY_DAYS).days[0]
    eve = _Calendar.at(first - dt.timedelta(days=1), dt.time(9, 0))
    return time_machine.travel(eve, tick=True)


def _open_drawers(cashiers: list[User]) -> None:
    """Today's drawers: opened when the simulation reaches today (unless one is open already:
    a demo generated again), left open for the demo."""
    from baladiya.payments import services as pay

    for cashier in cashiers:
        if pay.current_session(cashier) is None:
            pay.open_session(cashier, OPENING_FLOAT)


def _counter_submission(
    center: Center,
    services: list[Service],
    citizens: list[Citizen],
    target: str,
    centers: list[Center],
    rng: random.Random,
) -> tuple[apps.Submission, Center | None]:
    """What a citizen asks for at `center`'s counter (and where they will collect it)."""
    service = rng.choice(services)
    citizen = rng.choice(citizens)
    by_post = target in (Status.ISSUED, Status.DISPATCHED, Status.DELIVERED)
    mode = "post" if by_post and "post" in service.delivery_modes else "pickup"
    if mode not in service.delivery_modes:
        mode = service.delivery_modes[0]
    pickup = center if mode == "pickup" else None
    if pickup is not None and rng.random() < 0.15:  # collected nearer home, elsewhere
        pickup = rng.choice(centers)
    sub = apps.Submission(
        service=service,
        applicant=citizen,
        center=center,
        fields=_field_values(service, citizen, rng),
        delivery_mode=mode,
        pickup_center=pickup,
        delivery_address={"line": "شارع الحضارة، بناء 12", "neighbourhood": "الإنشاءات"}
        if mode == "post"
        else {},
        attachments={a.code: _pdf_stub() for a in service.attachments.all()},
    )
    return sub, pickup


# ---------------------------------------------------------------- the calendar

HISTORY_DAYS = 15  # business days of history before today (three working weeks)
TODAY_PERCENT = 5  # of the applications are made today (a day in progress)
OPENS, CLOSES = dt.time(8, 0), dt.time(15, 0)  # the counters' hours, Homs time
DRAWERS_OPEN, DRAWERS_CLOSE = dt.time(7, 45), dt.time(15, 15)
MIN_HOURS_TODAY = dt.timedelta(minutes=30)  # less, and today's counter work waits
OPENING_FLOAT = 50000  # piastres in each drawer in the morning

# What a piece of work yields between two steps: how long until the next one, or when.
Pause = dt.timedelta | dt.datetime
Work = Generator[Pause, None, None]


@dataclass
class _Calendar:
    """The business days before today (Sunday to Thursday in Syria), oldest first, and
    today's counter hours so far."""

    today: dt.date
    days: list[dt.date]
    # From the opening (or the last thing recorded, if later) to now or the closing: set when
    # today is a working day whose counters have been open a while. Today's counter work
    # happens in these hours; without them it happened on the last working days.
    hours_today: tuple[dt.datetime, dt.datetime] | None = None

    @classmethod
    def before(cls, today: dt.date, count: int, after: dt.date | None = None) -> _Calendar:
        """The last `count` business days before `today`, those after `after` only."""
        days: list[dt.date] = []
        day = today
        while len(days) < count:
            day -= dt.timedelta(days=1)
            if day.weekday() not in WEEKEND:
                days.append(day)
        return cls(today, [d for d in days[::-1] if after is None or d > after])

    def open_today(self, now: dt.datetime, since: dt.datetime | None) -> None:
        """Today's counter hours up to `now`, not before `since` (the last record)."""
        if self.today.weekday() in WEEKEND:
            return
        start = self.at(self.today, OPENS)
        if since is not None:
            start = max(start, since)
        end = min(now, self.at(self.today, CLOSES))
        if end - start >= MIN_HOURS_TODAY:
            self.hours_today = (start, end)

    @property
    def until(self) -> dt.datetime:
        """Where the simulated history ends: later steps run at the real time, or not at all."""
        return self.hours_today[1] if self.hours_today else self.at(self.today, dt.time(0))

    @staticmethod
    def at(day: dt.date, time: dt.time) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, time))

    def first_drawer(self) -> dt.datetime | None:
        if self.days:
            return self.at(self.days[0], DRAWERS_OPEN)
        return self.drawers_today()

    def drawers_today(self) -> dt.datetime | None:
        """When today's drawers were opened, if the counters are open today (None: they are
        opened when the demo is made, for a visitor to try the cash desk)."""
        if self.hours_today is None:
            return None
        return max(self.at(self.today, DRAWERS_OPEN), self.hours_today[0])

    def start(self, rng: random.Random, *, recent: bool) -> dt.datetime | None:
        """When a citizen comes in: a moment of the counters' hours on one of the past days;
        with `recent`, mostly the last three of them (a few are older: the overdue list).
        None: today."""
        if not self.days:
            return None
        pool = self.days[-3:] if recent and rng.random() < 0.8 else self.days
        minutes = rng.randint(0, (CLOSES.hour - OPENS.hour) * 60 - 60)
        return self.at(rng.choice(pool), OPENS) + dt.timedelta(minutes=minutes)

    def start_today(self, rng: random.Random) -> dt.datetime | None:
        """When a citizen came to a counter today: a moment of today's hours so far, but for
        the last quarter of an hour. Out of counter hours (a weekend, before opening), one
        of the last working days instead; None if there are none either (at the real time)."""
        if self.hours_today is None:
            return self.start(rng, recent=True)
        start, end = self.hours_today
        seconds = int((end - start - dt.timedelta(minutes=15)).total_seconds())
        return start + dt.timedelta(seconds=rng.randint(0, seconds))

    def counter_moments(self, rng: random.Random, count: int) -> list[dt.datetime | None]:
        """`count` moments of the counters' hours over the demo's days, today's hours so far
        included, in time order; all None if it has none (everything at the real time)."""
        if not self.days and self.hours_today is None:
            return [None] * count
        today = 1 / (len(self.days) + 1) if self.hours_today is not None else 0.0
        moments = [
            self.start_today(rng) if rng.random() < today else self.start(rng, recent=False)
            for _ in range(count)
        ]
        return sorted(moments, key=lambda moment: moment or self.until)

    def working_days_since(self, start: dt.datetime | None) -> int:
        """Working days from `start` (None: today) to today: 0 today, 1 the day before…"""
        if start is None:
            return 0
        day = timezone.localtime(start).date()
        return len(self.days) - self.days.index(day) if day in self.days else 0

    def business(self, moment: dt.datetime, rng: random.Random) -> dt.datetime | None:
        """`moment` if the counters are open then, else soon after the next opening; None
        when that is beyond the history (later today, or another day)."""
        local = timezone.localtime(moment)
        day, open_now = local.date(), OPENS <= local.time() < CLOSES
        if local.time() >= CLOSES:
            day += dt.timedelta(days=1)
        while day.weekday() in WEEKEND:
            day, open_now = day + dt.timedelta(days=1), False
        if day > self.today:
            return None
        when = moment if open_now else self.at(day, OPENS) + _minutes(rng, 0, 300)
        return when if when < self.until else None

    def soonest(self, after: dt.datetime, rng: random.Random) -> dt.datetime | None:
        """A moment of the counters' hours within the hour after `after` (or their next
        opening), before the history ends; None if no such hours are left."""
        day = timezone.localtime(after).date()
        while day <= self.today:
            if day.weekday() not in WEEKEND:
                start = max(self.at(day, OPENS), after)
                end = min(self.at(day, CLOSES), self.until)
                if end > start:
                    return start + min(end - start, dt.timedelta(hours=1)) * rng.random()
            day += dt.timedelta(days=1)
        return None


class _Simulation:
    """Runs pieces of work (one application's life, one drawer's days) step by step in time
    order, each step through the real service functions with the clock set to its moment
    (time-machine): numbers, receipts, business dates, SLA dates, the audit chain and the
    outbox all see that time, so the history is what the system would have recorded.
    Today's counter hours so far are part of that past. Work planned for the real time (the
    electronic center's applications of today, or everything on a node with no past to
    write) runs at the end, at the real time: the electronic center's first (they pump the
    outbox), then the counters'. A step due after the demo's moment is hurried into the
    counter hours left before it (the demo shows every state), or not taken if none are
    left: the application waits there, as it would."""

    def __init__(
        self,
        calendar: _Calendar,
        rng: random.Random,
        progress: Callable[[int], None] | None,
        since: dt.datetime | None,
    ) -> None:
        self.calendar = calendar
        self.rng = rng
        self.progress = progress
        self.past: list[tuple[dt.datetime, int, Work]] = []
        self.today: list[tuple[bool, dt.datetime, int, Work]] = []
        self.counted: set[int] = set()
        self.online: set[int] = set()
        self.added = 0
        self.done = 0
        self.latest = since  # the clock never goes back, not even before what is recorded

    def add(
        self,
        work: Work,
        start: dt.datetime | None,
        *,
        online: bool = False,
        counted: bool = False,
    ) -> None:
        self.added += 1
        seq = self.added  # ties in time go in the order the work was planned
        if counted:
            self.counted.add(seq)
        if online:
            self.online.add(seq)
        if start is None:
            self._for_today(work, seq, timezone.now())
        else:
            heapq.heappush(self.past, (start, seq, work))

    def _for_today(self, work: Work, seq: int, due: dt.datetime) -> None:
        self.today.append((seq not in self.online, due, seq, work))

    def run(self, open_today: Callable[[], None]) -> None:
        while self.past:
            at, seq, work = heapq.heappop(self.past)
            moment = max(at, self.latest) if self.latest else at
            with time_machine.travel(moment, tick=True):
                pause = next(work, None)
                self.latest = timezone.now()
            if pause is None:
                self._finished(seq)
                continue
            when: dt.datetime | None
            if isinstance(pause, dt.datetime):  # a step at a set time (a drawer's) keeps it
                due = when = pause
            else:  # others wait for the counters' hours; hurried if the demo ends first
                due = moment + pause
                when = self.calendar.business(due, self.rng) or self.calendar.soonest(
                    self.latest, self.rng
                )
            if when is not None and when < self.calendar.until:
                heapq.heappush(self.past, (when, seq, work))
            elif isinstance(pause, dt.datetime):
                self._for_today(work, seq, due)
            else:  # its next step is after the demo's moment: the work waits there
                work.close()
                self._finished(seq)
        open_today()
        for _, _, seq, work in sorted(self.today, key=lambda item: item[:3]):
            for _ in work:  # today: every remaining step, now
                pass
            self._finished(seq)

    def _finished(self, seq: int) -> None:
        if seq in self.counted:
            self.done += 1
            if self.progress:
                self.progress(self.done)


@dataclass
class _Made:
    """What the simulated work made, for the tally."""

    applications: list[Any] = field(default_factory=list)
    online: int = 0
    handed_over: int = 0
    revoked: int = 0


def _minutes(rng: random.Random, low: int, high: int) -> dt.timedelta:
    return dt.timedelta(minutes=rng.randint(low, high))


def _drawer_days(cashier: User, calendar: _Calendar, rng: random.Random) -> Work:
    """One counter's drawer over the past days: opened with the float, counted at closing
    (now and then a little short or over, as real drawers are); today's opened in the
    morning if the counters are open today, and left open."""
    from baladiya.payments import services as pay

    for n, day in enumerate(calendar.days):
        session = pay.open_session(cashier, OPENING_FLOAT)
        yield calendar.at(day, DRAWERS_CLOSE)
        expected = pay.session_totals(session).expected
        draw = rng.random()
        miscount = -500 if draw < 0.06 else 1000 if draw < 0.09 else 0
        pay.close_session(session, cashier, expected + miscount)
        if n + 1 < len(calendar.days):
            yield calendar.at(calendar.days[n + 1], DRAWERS_OPEN)
    opening = calendar.drawers_today()
    if opening is None:
        return  # opened when the demo is made (`_open_drawers`)
    if calendar.days:
        yield opening
    if pay.current_session(cashier) is None:  # a demo made again uses the open one
        pay.open_session(cashier, OPENING_FLOAT)


WATER_IMPORT = dt.time(7, 0)  # the establishment's files, fetched before the counters open


def _water_work(
    citizens: list[Citizen],
    cashiers: dict[Any, User],
    officer: User,
    seed: int,
    calendar: _Calendar,
    tally: dict[str, int],
) -> Work:
    """Water subscriptions and bills (the sandbox establishment's files, imported on the
    history's first morning), and the oldest bills of one demo meter in three paid at the
    counters over the days since."""
    from baladiya.water.demo import METERS, bills_to_collect, import_demo_water
    from baladiya.water.services import pay_bills

    own = random.Random(seed)  # leaves the demo's sequence alone
    if not import_demo_water(citizens, officer, own):
        return
    tally["water subscriptions"] = METERS
    tally["water bills paid"] = 0
    collections = bills_to_collect(own, cashiers)
    for moment, (bills, center, cashier) in zip(
        calendar.counter_moments(own, len(collections)), collections, strict=True
    ):
        if moment is not None:
            yield moment
        pay_bills(bills, cashier, center)
        tally["water bills paid"] += len(bills)


def _settlements(finance: User, calendar: _Calendar) -> Work:
    """Each working morning the finance officer imports the sandbox gateway's settlement
    files of the days since the last working day (the weekend's too, empty); the last
    working day's file is left for today, for the demo's finance officer to import."""
    from baladiya.payments.gateways.services import import_settlement

    for previous, day in zip(calendar.days, calendar.days[1:], strict=False):
        yield calendar.at(day, dt.time(9, 30))
        settled = previous
        while settled < day:
            import_settlement("sandbox", settled, finance)
            settled += dt.timedelta(days=1)


# ---------------------------------------------------------------- the counters

# Still open (OPEN_STATES, the SLA clock runs): mostly recent, and the few older ones are the
# overdue list. Handed over and delivered take days to reach.
TAKES_DAYS = frozenset({Status.HANDED_OVER, Status.DELIVERED, Status.DISPATCHED})


def _counter_target(age: int, rng: random.Random) -> str:
    """How far a counter application came in `age` working days (TARGETS, weighed by age)."""
    weights: list[float] = []
    for state, weight in TARGETS:
        factor = 1.0
        if state in OPEN_STATES:
            factor = 2.0 if age <= 1 else 1.0 if age <= 3 else 0.08
        elif state in TAKES_DAYS and age <= 1:
            factor = 0.2
        weights.append(weight * factor)
    return rng.choices([s for s, _ in TARGETS], weights)[0]


def _counter_work(
    sub: apps.Submission, target: str, staff: _Staff, made: _Made, rng: random.Random
) -> Work:
    """One counter application's life, along the happy path until it reaches `target`,
    with the hours and days a real one takes between its steps."""
    from baladiya.delivery.services import hand_over
    from baladiya.documents.services import issue_document, revoke_document
    from baladiya.payments import services as pay

    clerk, cashier, reviewer = staff.clerk, staff.cashier, staff.reviewer
    app = apps.submit_application(clerk, sub)
    made.applications.append(app.pk)
    if target == Status.SUBMITTED:
        return
    if target == Status.CANCELLED and rng.random() < 0.5:
        yield dt.timedelta(hours=rng.randint(1, 48))
        apps.cancel(app, clerk, "طلب المواطن الإلغاء")
        return
    yield _minutes(rng, 2, 15)  # from the clerk's desk to the cashier's window
    pay.record_cash_payment(app, cashier)
    if target == Status.CANCELLED:
        yield dt.timedelta(hours=rng.randint(1, 30))
        pay.cancel_with_refund(app, cashier, "طلب المواطن الإلغاء واسترداد الرسم")
        return
    if target == Status.PAID:
        return
    yield _minutes(rng, 10, 24 * 60)
    apps.start_review(app, reviewer)
    if target == Status.IN_REVIEW:
        return
    yield _minutes(rng, 30, 30 * 60)
    if target == Status.RETURNED:
        apps.return_for_correction(app, reviewer, "صورة الهوية غير واضحة")
        return
    if target == Status.REJECTED:
        apps.reject(app, staff.supervisor or reviewer, "الوثائق المقدمة لا تثبت الملكية")
        return
    apps.approve(app, reviewer)
    if target == Status.APPROVED:
        return
    yield _minutes(rng, 5, 20 * 60)
    issue_document(app, reviewer if reviewer.has_role(roles.OFFICER) else clerk)
    if target in (Status.ISSUED, Status.READY_FOR_PICKUP):
        return
    if app.status == Status.ISSUED:  # by post
        if target in _BY_POST:
            yield from _post(app, target, clerk, rng)
        return
    yield dt.timedelta(days=rng.randint(1, 6), minutes=rng.randint(0, 240))  # comes back
    holder = app.applicant
    hand_over(app, staff.pickup_clerk, holder.full_name, "national_id", holder.national_number)
    made.handed_over += 1
    # One document in twenty is revoked (a data error found later), so the verification
    # page and the revocation list have something to show.
    if made.handed_over % 20 == 5:
        yield dt.timedelta(days=rng.randint(1, 5))
        revoke_document(app.document, staff.supervisor or reviewer, "خطأ في البيانات — أعيد إصداره")
        made.revoked += 1


_BY_POST = (Status.DISPATCHED, Status.DELIVERED)


def _post(app: Application, target: str, clerk: User, rng: random.Random) -> Work:
    """Send by post (the issuing center's clerk); for `delivered`, the sandbox post office
    delivers it days later, or one time in four brings it back to a center's pickup queue.
    Its events are taken directly here (the outbox is pumped only for online applications)."""
    from baladiya.delivery.post import sandbox
    from baladiya.delivery.post.models import SandboxParcel
    from baladiya.delivery.post.services import dispatch, handle_postal_event

    yield _minutes(rng, 30, 24 * 60)
    shipment = dispatch(app, clerk)
    if target == Status.DISPATCHED:
        return
    yield dt.timedelta(days=rng.randint(1, 4))
    parcel = SandboxParcel.objects.get(tracking_number=shipment.tracking_number)
    own = random.Random(app.reference)  # deterministic, and leaves the demo's sequence alone
    outcome = "return" if own.random() < 0.25 else "deliver"
    for event in sandbox.advance(parcel, outcome, notify=False, rng=own):
        handle_postal_event(event)


def _carry(app: Application, outcome: str, rng: random.Random) -> None:
    """The sandbox post office delivers (or brings back) a dispatched parcel; its signed
    callbacks go through the outbox to our callback endpoint, as they would over HTTP."""
    from baladiya.delivery.post import sandbox
    from baladiya.delivery.post.models import SandboxParcel, Shipment

    shipment = Shipment.objects.get(application=app)
    parcel = SandboxParcel.objects.get(tracking_number=shipment.tracking_number)
    sandbox.advance(parcel, outcome, rng=rng)
    pump_outbox()


# ---------------------------------------------------------------- the outbox, in-process


def in_process_transport(url: str, body: str, headers: dict[str, str]) -> str:
    """`WEBHOOK_TRANSPORT` while the demo is generated: no web server runs yet, so each webhook
    is handed to the service behind the endpoint its URL names (the payment gateway's webhook,
    the post's callback), signature checks included. A refusal is retried, as a 4xx/5xx is."""
    from baladiya.delivery.post.interface import BadCallback
    from baladiya.delivery.post.services import receive_callback
    from baladiya.payments.gateways.services import handle_webhook

    try:
        match = resolve(urlsplit(url).path)
    except Resolver404:
        raise PermanentFailure(f"no such endpoint on this node: {url}") from None
    data = body.encode("utf-8")
    try:
        if match.view_name == "payments:gateway_webhook":
            return f"in-process {handle_webhook(match.kwargs['gateway'], headers, data)}"
        if match.view_name == "delivery:post_callback":
            return f"in-process {receive_callback(data, headers)}"
    except DomainError as exc:
        raise TransientFailure(f"{exc.code}: {exc.message}") from exc
    except BadCallback as exc:
        raise TransientFailure(str(exc)) from exc
    raise PermanentFailure(f"not a webhook endpoint: {url}")


def pump_outbox() -> int:
    """Deliver everything due (SMS to the sandbox gateway, webhooks in-process)."""
    from baladiya.notifications.services import deliver_due

    sent = 0
    with override_settings(WEBHOOK_TRANSPORT=f"{__name__}.in_process_transport"):
        for _ in range(50):  # failures are rescheduled later, so this ends; a bound anyway
            tally = deliver_due(limit=500)
            sent += tally.sent
            if not tally.handled:
                break
    return sent


# ---------------------------------------------------------------- the electronic center

ONLINE_EVERY, ONLINE_SLOT = 5, 2  # applications 2, 7, 12 … (the last ones stay at counters)
LATE_WEBHOOK_SECONDS = 2 * 3600
# What happens to each online application: every plan once first (so a small demo shows them
# all), then drawn by weight. `confirming`: paid at the gateway, whose webhook is late (the
# background pump or its payment sweep records it once the node runs): once only.
ONLINE_PLANS: list[tuple[str, int]] = [
    ("unpaid", 5),
    ("declined", 2),  # the gateway declined the card: still awaiting payment
    ("confirming", 0),
    ("paid", 8),
    ("in_review", 8),
    ("returned", 4),
    ("rejected", 3),
    ("approved", 4),
    ("ready_for_pickup", 10),  # waits at the center chosen in advance
    ("handed_over", 16),
    ("issued_post", 4),  # printed, on the back office's dispatch list
    ("dispatched", 6),
    ("delivered", 12),
    ("returned_to_center", 4),  # the post brought it back: a center's pickup queue
    ("cancelled", 2),  # before paying
    ("cancelled_refunded", 3),  # paid online: refunded through the gateway
]
# Today's online applications: a day in progress has had no time to review, print or post
# anything made on it (everything of today runs at the moment the demo is made).
TODAY_PLANS = ("unpaid", "declined", "paid")
BY_POST = frozenset({"issued_post", "dispatched", "delivered", "returned_to_center"})
# Plans that leave the application open (the SLA clock runs): mostly made in the last days
# (see `_Calendar.start`).
ONLINE_OPEN = frozenset(
    {"unpaid", "declined", "paid", "in_review", "returned", "approved", "issued_post"}
)
STREETS = [
    "شارع الحضارة، بناء 12",
    "شارع الدبلان، بناء 4",
    "شارع الغوطة، بناء 31",
    "حي الملعب، بناء 7",
]


@dataclass
class _Desk:
    """Who and what the online applications need."""

    accounts: list[User]  # citizen portal accounts
    services: list[Service]
    pickup_centers: list[Center]
    neighbourhoods: list[Neighbourhood]
    clerks: dict[Any, User]  # by center pk: hands documents over
    officers: dict[Any, User]  # by agency pk, else the general officer (key None)
    supervisor: User
    done: int = 0

    def officer_for(self, service: Service) -> User:
        return self.officers.get(service.agency_id) or self.officers[None]

    def next_plan(self, rng: random.Random) -> str:
        """Every plan once first (so a small demo shows them all), then drawn by weight."""
        if self.done < len(ONLINE_PLANS):
            plan = ONLINE_PLANS[self.done][0]
        else:
            plan = rng.choices([p for p, _ in ONLINE_PLANS], [w for _, w in ONLINE_PLANS])[0]
        self.done += 1
        return plan


def _online_desk(services: list[Service], clerks: dict[Any, User], supervisor: User) -> _Desk:
    from baladiya.accounts.permissions import citizen_of

    accounts = [
        u
        for u in User.objects.filter(citizen__isnull=False, is_active=True).order_by("username")
        if citizen_of(u) is not None
    ]
    if not accounts:
        raise RuntimeError("the demo needs citizen accounts: run `seed homs --demo`")
    officers: dict[Any, User] = {}
    for user in User.objects.filter(groups__name=roles.OFFICER, is_active=True).order_by("pk"):
        officers.setdefault(user.agency_id, user)
    officers.setdefault(None, _officer())
    return _Desk(
        accounts=accounts,
        services=services,
        pickup_centers=[
            c
            for c in Center.objects.filter(active=True, accepts_pickup=True).order_by("code")
            if c.pk in clerks
        ],
        neighbourhoods=list(Neighbourhood.objects.order_by("name_ar")),
        clerks=clerks,
        officers=officers,
        supervisor=supervisor,
    )


def _online_work(desk: _Desk, plan: str, made: _Made, rng: random.Random) -> Work:
    """One application made on the portal by a demo citizen, taken as far as its plan says,
    with the minutes, hours and days a real one takes between its steps."""
    from baladiya.portal.services import apply_online

    mode = DeliveryMode.POST if plan in BY_POST else DeliveryMode.PICKUP
    service = rng.choice([s for s in desk.services if mode in s.delivery_modes])
    user = rng.choice(desk.accounts)
    citizen: Citizen = user.citizen  # type: ignore[assignment]
    address: dict[str, Any] = {}
    pickup = None
    if mode == DeliveryMode.POST:
        hood = rng.choice(desk.neighbourhoods)
        address = {
            "line": rng.choice(STREETS),
            "neighbourhood": hood.name_ar,
            "phone": citizen.phone,
        }
    else:
        pickup = rng.choice(desk.pickup_centers)
    app = apply_online(
        user,
        service,
        fields=_field_values(service, citizen, rng),
        delivery_mode=mode,
        pickup_center=pickup,
        delivery_address=address,
        attachments={a.code: _pdf_stub() for a in service.attachments.all()},
        token=uuid.uuid4().hex,
    )
    made.applications.append(app.pk)
    made.online += 1
    yield from _online_steps(app, plan, user, desk, rng)


def _online_steps(app: Application, plan: str, user: User, desk: _Desk, rng: random.Random) -> Work:
    from baladiya.delivery.post.services import dispatch
    from baladiya.delivery.services import hand_over
    from baladiya.documents.services import issue_document
    from baladiya.payments import services as pay

    if plan == "unpaid":
        return
    if plan == "cancelled":
        yield dt.timedelta(hours=rng.randint(2, 40))
        apps.cancel(app, desk.supervisor, "طلب المواطن الإلغاء قبل الدفع")
        return
    yield _minutes(rng, 1, 20)  # the citizen goes on to pay
    if plan in ("declined", "confirming"):
        _pay_online(
            app, user, "decline" if plan == "declined" else "pay", late=plan == "confirming"
        )
        return
    _pay_online(app, user, "pay")
    if plan == "paid":
        return
    if plan == "cancelled_refunded":
        yield dt.timedelta(hours=rng.randint(2, 40))
        pay.cancel_with_refund(app, desk.supervisor, "تعذر تقديم الخدمة، أعيد الرسم إلكترونياً")
        pump_outbox()  # the gateway's refund notice: already recorded on our side
        return
    officer = desk.officer_for(app.service)
    yield _minutes(rng, 30, 24 * 60)
    apps.start_review(app, officer)
    if plan == "in_review":
        return
    yield _minutes(rng, 30, 30 * 60)
    if plan == "returned":
        apps.return_for_correction(app, officer, "صورة الهوية غير واضحة")
        return
    if plan == "rejected":
        apps.reject(app, officer, "البيانات المدخلة لا تطابق السجل")
        return
    apps.approve(app, officer)
    if plan == "approved":
        return
    yield _minutes(rng, 5, 20 * 60)
    issue_document(app, officer)  # a pickup goes to the chosen center's queue
    if plan in ("ready_for_pickup", "issued_post"):
        return
    if plan == "handed_over":
        yield dt.timedelta(days=rng.randint(1, 6), minutes=rng.randint(0, 240))
        holder = app.applicant
        clerk = desk.clerks[app.pickup_center_id]
        hand_over(app, clerk, holder.full_name, "national_id", holder.national_number)
        return
    yield _minutes(rng, 30, 24 * 60)
    dispatch(app, officer)
    if plan == "dispatched":
        return
    yield dt.timedelta(days=rng.randint(1, 4))
    _carry(app, "return" if plan == "returned_to_center" else "deliver", rng)


def _pay_online(app: Application, user: User, action: str, *, late: bool = False) -> None:
    """The citizen pays at the sandbox gateway's hosted page (`action`: pay or decline); the
    gateway's signed webhook comes back through the outbox (late: hours later)."""
    from baladiya.payments.gateways import sandbox
    from baladiya.payments.gateways.services import refresh_intent, start_online_payment

    back = reverse("portal:application", kwargs={"reference": app.reference})
    intent = start_online_payment(app, user, return_url=back).intent
    if late:
        with override_settings(SANDBOX_GATEWAY_WEBHOOK_DELAY_SECONDS=LATE_WEBHOOK_SECONDS):
            sandbox.act(intent.gateway_payment_id, action)
        return
    sandbox.act(intent.gateway_payment_id, action)
    pump_outbox()
    intent.refresh_from_db()
    if action == "pay" and intent.receipt_id is None:  # another pump took the webhook
        refresh_intent(intent, expire=False)
    app.refresh_from_db()
