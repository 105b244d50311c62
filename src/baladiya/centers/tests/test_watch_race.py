"""Several pumps (or a pump and a heartbeat) at the same instant: still one outage per
silence, one alert, one status. Real parallel transactions need PostgreSQL (on SQLite the test
database has one writer at a time by design); the same paths run one after another in
`test_outage_detection.py`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import connection

from baladiya.centers.models import Center, CenterStatus, Outage
from baladiya.centers.status import detect_outages, record_heartbeat
from baladiya.centers.tests.conftest import T0, Beat, report
from baladiya.core.audit import verify_chain
from baladiya.core.models import AuditEvent
from baladiya.core.testing import in_threads, race
from baladiya.notifications.models import OutboxMessage

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="parallel writers need PostgreSQL"
    ),
]
MIN = dt.timedelta(minutes=1)


def test_four_pumps_at_once_open_one_outage_and_send_one_alert(
    center: Center, c04: Center, beat: Beat, settings: Any
) -> None:
    settings.CENTER_ALERT_PHONES = ["+963944000111"]
    beat(center, T0, "battery")
    beat(c04, T0, "grid")
    _results, errors = race(lambda: detect_outages(T0 + 10 * MIN))
    assert not errors
    assert Outage.objects.filter(ended_at=None).count() == 2
    assert AuditEvent.objects.filter(action="center.offline").count() == 2
    _results, errors = race(lambda: detect_outages(T0 + 45 * MIN))
    assert not errors
    assert Outage.objects.filter(alerted_at__isnull=False).count() == 2
    assert OutboxMessage.objects.count() == 2  # one SMS per outage and number
    assert AuditEvent.objects.filter(action="center.alerted").count() == 2
    assert verify_chain() == []


def test_four_first_heartbeats_at_once_make_one_status(center: Center) -> None:
    _results, errors = race(lambda: record_heartbeat(center, report(T0), received_at=T0))
    assert not errors
    assert CenterStatus.objects.filter(center=center).count() == 1
    assert AuditEvent.objects.filter(action="center.watch_started").count() == 1


@pytest.mark.parametrize("attempt", range(3))
def test_heartbeat_racing_the_watch_ends_online(center: Center, beat: Beat, attempt: int) -> None:
    beat(center, T0)
    later = T0 + 10 * MIN
    outcomes = in_threads(
        [
            lambda: detect_outages(later),
            lambda: record_heartbeat(center, report(later), received_at=later),
        ]
    )
    assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes
    # Whoever won, the center is online and no outage is left open.
    assert CenterStatus.objects.get(center=center).online
    assert not Outage.objects.filter(ended_at=None).exists()
    assert verify_chain() == []
