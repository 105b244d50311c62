"""The watch job: a silent center gets one open outage, an alert once, and comes back."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction

from baladiya.centers.models import Center, CenterStatus, Heartbeat, Outage
from baladiya.centers.status import detect_outages, purge_heartbeats
from baladiya.centers.tests.conftest import T0, Beat
from baladiya.core.audit import verify_chain
from baladiya.core.models import AuditEvent
from baladiya.core.periodic import default_jobs
from baladiya.notifications.models import OutboxMessage

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)
PHONES = ["+963944000111", "+963955000222"]


@pytest.fixture(autouse=True)
def _watch_settings(settings: Any) -> None:
    settings.CENTER_OFFLINE_AFTER_SECONDS = 180
    settings.CENTER_ALERT_AFTER_SECONDS = 1800
    settings.CENTER_ALERT_PHONES = PHONES


def test_silent_center_gets_exactly_one_outage_idempotently(center: Center, beat: Beat) -> None:
    beat(center, T0)
    assert detect_outages(T0 + 3 * MIN) == ""  # exactly at the limit: not yet
    assert detect_outages(T0 + 3 * MIN + dt.timedelta(seconds=1)) == "1 offline"
    for minutes in (4, 5, 10, 20):  # every minute the pump runs again
        detect_outages(T0 + minutes * MIN)
    outage = Outage.objects.get(center=center)
    assert (outage.started_at, outage.ended_at, outage.alerted_at) == (T0, None, None)
    assert not CenterStatus.objects.get(center=center).online
    assert AuditEvent.objects.filter(action="center.offline").count() == 1
    assert verify_chain() == []


def test_a_center_that_keeps_beating_stays_online(center: Center, beat: Beat) -> None:
    for minutes in range(0, 30, 1):
        beat(center, T0 + minutes * MIN)
        detect_outages(T0 + minutes * MIN + dt.timedelta(seconds=30))
    assert not Outage.objects.exists()
    assert CenterStatus.objects.get(center=center).online


def test_alert_goes_out_once_after_the_threshold(center: Center, beat: Beat) -> None:
    beat(center, T0, "battery")
    detect_outages(T0 + 5 * MIN)
    assert detect_outages(T0 + 30 * MIN) == ""  # open 30 min exactly: not yet
    assert not OutboxMessage.objects.exists()
    assert detect_outages(T0 + 31 * MIN) == "1 alerted"
    for minutes in (32, 45, 120):
        assert detect_outages(T0 + minutes * MIN) == ""
    outage = Outage.objects.get(center=center)
    assert outage.alerted_at == T0 + 31 * MIN
    sms = OutboxMessage.objects.filter(kind="sms").order_by("recipient")
    assert [m.recipient for m in sms] == PHONES
    text = sms[0].body
    assert "C03" in text and "14:00" in text and "انقطاع الكهرباء" in text  # Arabic SMS
    assert AuditEvent.objects.filter(action="center.alerted").count() == 1


def test_without_alert_numbers_the_alert_is_still_recorded(
    center: Center, beat: Beat, settings: Any
) -> None:
    settings.CENTER_ALERT_PHONES = []
    beat(center, T0)
    detect_outages(T0 + 5 * MIN)
    assert detect_outages(T0 + 40 * MIN) == "1 alerted"
    assert Outage.objects.get(center=center).alerted_at == T0 + 40 * MIN
    assert not OutboxMessage.objects.exists()


def test_back_online_before_the_threshold_sends_no_alert(center: Center, beat: Beat) -> None:
    beat(center, T0)
    detect_outages(T0 + 5 * MIN)
    beat(center, T0 + 20 * MIN)
    detect_outages(T0 + 60 * MIN + dt.timedelta(seconds=10))  # silent again since T0+20
    outages = list(Outage.objects.filter(center=center).order_by("started_at"))
    assert [(o.started_at, o.ended_at) for o in outages] == [
        (T0, T0 + 20 * MIN),
        (T0 + 20 * MIN, None),
    ]
    assert outages[0].alerted_at is None
    # The second silence is 40 min old at T0+60: its alert goes out, the first never had one.
    assert outages[1].alerted_at is not None
    assert OutboxMessage.objects.count() == len(PHONES)


@pytest.mark.parametrize(
    ("power", "cause"),
    [("battery", "power"), ("generator", "power"), ("grid", "unknown"), ("solar", "unknown")],
)
def test_cause_from_the_last_reported_power_source(
    center: Center, beat: Beat, power: str, cause: str
) -> None:
    beat(center, T0 - MIN, "grid")
    beat(center, T0, power)
    detect_outages(T0 + 10 * MIN)
    assert Outage.objects.get(center=center).cause == cause


def test_only_centers_that_ever_reported_are_watched_never_c00(
    center: Center, other_center: Center, electronic_center: Center, c04: Center, beat: Beat
) -> None:
    beat(electronic_center, T0)  # even if something sent one for C00
    beat(c04, T0)
    Center.objects.filter(pk=c04.pk).update(active=False)  # a closed center
    assert detect_outages(T0 + dt.timedelta(hours=5)) == ""
    assert not Outage.objects.exists()  # C03, C05: never reported; C00: itself; C04: closed


def test_a_center_node_does_not_watch_the_network(
    center: Center, beat: Beat, settings: Any
) -> None:
    beat(center, T0)
    settings.BALADIYA_NODE = "center:C05"
    assert detect_outages(T0 + dt.timedelta(hours=1)) == ""
    assert not Outage.objects.exists()


def test_two_pumps_at_once_open_one_outage(center: Center, beat: Beat) -> None:
    beat(center, T0)
    # The second run finds the outage the first one opened (same transaction order on any
    # engine); the unique constraint refuses a twin even if both passed the check.
    detect_outages(T0 + 10 * MIN)
    with pytest.raises(IntegrityError), transaction.atomic():
        Outage.objects.create(center=center, started_at=T0 + MIN)
    detect_outages(T0 + 10 * MIN)
    assert Outage.objects.filter(center=center, ended_at=None).count() == 1


def test_old_heartbeats_are_purged_by_the_job(center: Center, beat: Beat) -> None:
    beat(center, T0 - dt.timedelta(days=63))
    beat(center, T0 - dt.timedelta(days=61))
    beat(center, T0)
    assert purge_heartbeats(T0) == 1
    assert Heartbeat.objects.count() == 2
    beat(center, T0 - dt.timedelta(days=70) + MIN)  # a late one, already too old
    assert "1 old heartbeats purged" in detect_outages(T0 + MIN)


def test_the_watch_runs_every_minute_from_the_pump() -> None:
    job = next(j for j in default_jobs() if j.name == "center watch")
    assert job.every == 60
    assert job.run() == ""  # an empty node: nothing to say
