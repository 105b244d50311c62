"""A center node's heartbeat: the report is checked, the status updated, an outage closed."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import translation

from baladiya.centers.models import Center, CenterStatus, Heartbeat, Outage
from baladiya.centers.status import HeartbeatReport, record_heartbeat
from baladiya.centers.tests.conftest import T0, Beat, report
from baladiya.core.errors import DomainError
from baladiya.core.models import AuditEvent

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)

GOOD: dict[str, Any] = {
    "power_source": "battery",
    "outbox_backlog": 12,
    "last_sync_at": "2026-11-10T13:58:00+03:00",
    "version": "0.4.2",
    "reported_at": "2026-11-10T14:00:05+03:00",
    "uptime_seconds": 3600,  # a newer node may say more: ignored
}


def test_parse_a_good_report_and_round_trip() -> None:
    parsed = HeartbeatReport.parse(GOOD)
    assert parsed.power_source == "battery" and parsed.outbox_backlog == 12
    assert parsed.reported_at == dt.datetime(2026, 11, 10, 11, 0, 5, tzinfo=dt.UTC)
    assert parsed.last_sync_at == dt.datetime(2026, 11, 10, 10, 58, tzinfo=dt.UTC)
    assert HeartbeatReport.parse(parsed.as_dict()) == parsed
    never_synced = HeartbeatReport.parse({**GOOD, "last_sync_at": None})
    assert never_synced.last_sync_at is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"power_source": "wind"}, "unknown power source “wind”"),
        ({"power_source": None}, "unknown power source"),
        ({"outbox_backlog": -1}, "between 0 and"),
        ({"outbox_backlog": "12"}, "“outbox_backlog” must be a whole number"),
        ({"outbox_backlog": 1.5}, "must be a whole number"),
        ({"outbox_backlog": True}, "must be a whole number"),
        ({"version": ""}, "“version” is missing"),
        ({"version": "x" * 41}, "at most 40 printable characters"),
        ({"version": "1.0\n"}, "printable"),
        ({"reported_at": "yesterday"}, "“reported_at” must be a date and time"),
        ({"reported_at": "2026-11-10T14:00:05"}, "must carry its UTC offset"),
        ({"reported_at": 1763000000}, "“reported_at” must be a date and time"),
        ({"last_sync_at": "2026-13-45T99:00:00Z"}, "“last_sync_at” must be a date and time"),
    ],
)
def test_parse_refuses_bad_input_with_a_clear_message(change: dict[str, Any], message: str) -> None:
    with pytest.raises(DomainError) as caught:
        HeartbeatReport.parse({**GOOD, **change})
    assert caught.value.code == "invalid_heartbeat"
    assert message in str(caught.value.message)


def test_parse_refuses_missing_fields_and_non_objects() -> None:
    without = {k: v for k, v in GOOD.items() if k not in ("version", "reported_at")}
    with pytest.raises(DomainError, match="“version, reported_at” is missing"):
        HeartbeatReport.parse(without)
    for junk in (None, [], "ok", 42):
        with pytest.raises(DomainError, match="expected a JSON object"):
            HeartbeatReport.parse(junk)


def test_parse_messages_follow_the_callers_language() -> None:
    with translation.override("ar"), pytest.raises(DomainError) as caught:
        HeartbeatReport.parse({**GOOD, "outbox_backlog": -3})
    with translation.override("ar"):
        text = str(caught.value.message)
    assert "outbox_backlog" in text and "between" not in text


def test_a_report_built_directly_is_checked_too() -> None:
    with pytest.raises(DomainError, match="must carry its UTC offset"):
        report(dt.datetime(2026, 11, 10, 14, 0))  # naive: which 14:00?


def test_first_heartbeat_creates_the_status_then_updates_it(center: Center, beat: Beat) -> None:
    first = beat(center, T0, "grid", 3)
    assert (first.online, first.first_heartbeat_at, first.last_heartbeat_at) == (True, T0, T0)
    second = beat(center, T0 + MIN, "solar", 0)
    status = CenterStatus.objects.get(center=center)
    assert status.pk == first.pk == second.pk
    assert (status.power_source, status.outbox_backlog) == ("solar", 0)
    assert (status.first_heartbeat_at, status.last_heartbeat_at) == (T0, T0 + MIN)
    assert Heartbeat.objects.filter(center=center).count() == 2


def test_node_clock_is_shown_but_liveness_uses_the_central_clock(center: Center) -> None:
    # A PC whose clock battery died thinks it is 2000; central received it at T0.
    confused = report(dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    status = record_heartbeat(center, confused, received_at=T0)
    assert status.last_heartbeat_at == T0
    assert status.reported_at.year == 2000


def test_heartbeats_are_not_audited_one_by_one(center: Center, beat: Beat) -> None:
    for i in range(10):
        beat(center, T0 + i * MIN)
    actions = list(AuditEvent.objects.values_list("action", flat=True))
    assert actions == ["center.watch_started"]  # the first one only


def test_heartbeat_closes_the_open_outage_at_its_arrival(center: Center, beat: Beat) -> None:
    beat(center, T0, "battery")
    CenterStatus.objects.filter(center=center).update(online=False)
    outage = Outage.objects.create(center=center, started_at=T0, cause="power")
    back = T0 + dt.timedelta(hours=2)
    status = beat(center, back, "grid")
    outage.refresh_from_db()
    assert outage.ended_at == back and status.online
    event = AuditEvent.objects.get(action="center.back_online")
    assert event.object_id == str(outage.pk) and event.center == "C03"
    assert event.data["seconds"] == 7200 and event.data["cause"] == "power"
    beat(center, back + MIN)  # already online: nothing more to audit
    assert AuditEvent.objects.filter(action="center.back_online").count() == 1


def test_the_same_heartbeat_twice_changes_nothing(center: Center, beat: Beat) -> None:
    beat(center, T0)
    beat(center, T0 + MIN)
    again = record_heartbeat(center, report(T0 + MIN), received_at=T0 + MIN)
    assert again.last_heartbeat_at == T0 + MIN
    assert Heartbeat.objects.filter(center=center).count() == 2


def test_a_late_heartbeat_is_logged_but_does_not_move_the_status_back(
    center: Center, beat: Beat
) -> None:
    beat(center, T0 + 5 * MIN, "grid", 0)
    record_heartbeat(center, report(T0, "battery", 40), received_at=T0)
    status = CenterStatus.objects.get(center=center)
    assert (status.last_heartbeat_at, status.power_source, status.outbox_backlog) == (
        T0 + 5 * MIN,
        "grid",
        0,
    )
    assert Heartbeat.objects.filter(center=center).count() == 2
