"""The demo made outside the counters' hours (its own module: test_demo's demo is made at
midday): `baladiya run` first runs whenever someone starts it, and the history it writes
must still look like a working council, not a burst of counter work at that moment."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.utils import timezone

from baladiya.applications.models import Application, ApplicationEvent, Channel
from baladiya.applications.services import WEEKEND
from baladiya.centers.models import Center
from baladiya.core.audit import verify_chain
from baladiya.core.models import AuditEvent
from baladiya.core.seed.demo import CLOSES, OPENS, before_history, generate_demo
from baladiya.core.seed.homs import seed_homs
from baladiya.core.tests.test_demo import last_working_day_at
from baladiya.payments.models import CashierSession, Receipt

pytestmark = pytest.mark.django_db


def _last_friday_at(time: dt.time) -> dt.datetime:
    moment = timezone.make_aware(dt.datetime.combine(timezone.localdate(), time))
    while moment.weekday() != 4 or moment > timezone.now():
        moment -= dt.timedelta(days=1)
    return moment


def _in_counter_hours(moment: dt.datetime) -> bool:
    local = timezone.localtime(moment)
    return local.weekday() not in WEEKEND and OPENS <= local.time() < CLOSES


@pytest.mark.parametrize(
    "made_at",
    [
        pytest.param(lambda: last_working_day_at(dt.time(18, 17)), id="after-closing"),
        pytest.param(lambda: last_working_day_at(dt.time(6, 30)), id="before-opening"),
        pytest.param(lambda: _last_friday_at(dt.time(11, 0)), id="weekend"),
    ],
)
def test_a_demo_made_out_of_hours_worked_in_counter_hours(made_at: Any, settings: Any) -> None:
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # speed only
    moment = made_at()
    with time_machine.travel(moment):
        with before_history():
            seed_homs(demo=True)
        generate_demo(count=40, seed=3)
        now, today = timezone.now(), timezone.localdate()

    # Counter work (and the back office's steps on online applications) happened in the
    # counters' hours of working days, before the demo was made.
    staff_steps = ApplicationEvent.objects.exclude(
        application__channel=Channel.ONLINE, application__created_at__date=today
    )
    assert staff_steps.count() > 100
    for event in staff_steps:
        assert _in_counter_hours(event.created_at), (event, timezone.localtime(event.created_at))
        assert event.created_at <= now
    for receipt in Receipt.objects.filter(method="cash"):  # counter fees and water bills
        assert _in_counter_hours(receipt.issued_at), (receipt.number, receipt.issued_at)
    assert Receipt.objects.filter(method="cash", bill_payments__isnull=False).exists()

    made_today = Application.objects.filter(channel=Channel.COUNTER, created_at__date=today)
    if timezone.localtime(moment).time() > CLOSES and today.weekday() not in WEEKEND:
        assert made_today.count() >= 1  # the day's work is done: its counters were open
    else:
        assert not made_today.exists()  # the counters have not opened today
    # A visitor may try the cash desk at once: every counter has an open drawer.
    counters = Center.objects.exclude(kind=Center.Kind.ELECTRONIC).count()
    assert CashierSession.objects.filter(state="open", business_date=today).count() == counters
    stamps = list(AuditEvent.objects.order_by("seq").values_list("at", flat=True))
    assert stamps == sorted(stamps) and verify_chain() == []
