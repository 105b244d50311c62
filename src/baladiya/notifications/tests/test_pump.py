"""The pump's loop: a queued message goes out at once, an idle pump sleeps (PostgreSQL: until
it is notified), a deferred message is waited for, and SIGTERM stops it promptly."""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

import pytest
from django.db import connection, connections
from django.utils import timezone

from baladiya.notifications import pump
from baladiya.notifications.models import OutboxMessage, SandboxSms
from baladiya.notifications.services import queue_sms

PHONE = "+963944123456"


def _run_passes(monkeypatch: pytest.MonkeyPatch, passes: int) -> list[float]:
    """Run the loop for `passes` passes; return the waits it asked for (not slept)."""
    waits: list[float] = []
    monkeypatch.setattr(pump.Wakeup, "wait", lambda self, seconds, stopping: waits.append(seconds))
    count = [0]

    def stopping() -> bool:
        count[0] += 1
        return count[0] > passes

    pump.run(10, stopping=stopping, report=lambda line: None)
    return waits


@pytest.mark.django_db
def test_a_due_message_is_sent_then_the_pump_waits(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.OUTBOX_POLL_SECONDS = 0.5
    queue_sms(PHONE, "رسالة")
    waits = _run_passes(monkeypatch, 2)
    assert SandboxSms.objects.get().text == "رسالة"
    # Pass 1 sent it and looked again at once; pass 2 found nothing and slept its interval
    # (longer when PostgreSQL can wake it).
    expected = pump.LISTENING_WAIT if connection.vendor == "postgresql" else 0.5
    assert waits == [expected]


@pytest.mark.django_db
def test_a_deferred_message_is_waited_for_not_polled(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.OUTBOX_POLL_SECONDS = 10
    message = queue_sms(PHONE, "later")
    assert message is not None
    OutboxMessage.objects.filter(pk=message.pk).update(
        next_attempt_at=timezone.now() + dt.timedelta(seconds=3)
    )
    waits = _run_passes(monkeypatch, 1)
    assert 2 < waits[0] <= 3
    assert not SandboxSms.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_postgresql_wakes_the_pump_when_a_message_is_committed() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's")
    wakeup = pump.Wakeup()
    assert wakeup.listen()

    def queue_from_another_connection() -> None:
        time.sleep(0.2)
        queue_sms(PHONE, "now")  # autocommit: the trigger notifies at this commit
        connections.close_all()

    writer = threading.Thread(target=queue_from_another_connection)
    started = time.monotonic()
    writer.start()
    wakeup.wait(5.0)
    waited = time.monotonic() - started
    writer.join()
    assert 0.15 < waited < 2.0  # woken by the commit, not by the 5 s timeout
    started = time.monotonic()
    wakeup.wait(0.3)  # nothing new (the notification was drained): the full wait
    assert time.monotonic() - started >= 0.25


@pytest.mark.django_db(transaction=True)
def test_a_stop_request_ends_the_wait_within_a_second() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("SQLite's wait is a plain sleep of at most OUTBOX_POLL_SECONDS")
    wakeup = pump.Wakeup()
    assert wakeup.listen()
    started = time.monotonic()
    wakeup.wait(30.0, stopping=lambda: time.monotonic() - started > 0.3)
    assert time.monotonic() - started < 1.5
