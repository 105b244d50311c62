"""Proving the audit log intact, for an auditor who cannot run `baladiya audit verify`: the
walk runs daily by itself and on request (in the background pump), and its result is on a
page in their language."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from baladiya.accounts import roles
from baladiya.accounts.models import User
from baladiya.core import audit
from baladiya.core.integrity import CHECK_EVERY, request_check, run_due_check
from baladiya.core.models import AuditEvent, ChainCheck
from baladiya.core.periodic import default_jobs

pytestmark = pytest.mark.django_db
PAGE = "/audit/integrity/"


@pytest.fixture
def auditor(make_user: Any) -> User:
    return make_user("auditor1", roles.AUDITOR)


def _some_events() -> None:
    for n in range(5):
        audit.record("test.event", actor="someone", n=n)


def test_a_daily_walk_finds_the_chain_intact_then_waits_a_day() -> None:
    _some_events()
    check = run_due_check()
    assert check is not None and check.intact
    assert check.events == 5 and check.chains == 1 and check.finished_at is not None
    assert run_due_check() is None  # done today
    assert run_due_check(timezone.now() + CHECK_EVERY + dt.timedelta(minutes=1)) is not None
    assert AuditEvent.objects.filter(action="audit.chain_checked").count() == 2


def test_a_changed_event_is_found_and_named() -> None:
    _some_events()
    AuditEvent.objects.filter(seq=3).update(actor="someone else")  # behind the service's back
    check = run_due_check()
    assert check is not None and not check.intact
    assert list(check.problems) == ["central"]
    assert any(problem.startswith("seq 3") for problem in check.problems["central"])


def test_asking_twice_makes_one_request_that_the_pump_takes(auditor: User) -> None:
    _some_events()
    run_due_check()  # today's daily walk is done
    first, second = request_check(auditor), request_check(auditor)
    assert first.pk == second.pk and first.state == ChainCheck.State.REQUESTED
    assert AuditEvent.objects.filter(action="audit.check_requested").count() == 1
    job = next(j for j in default_jobs() if j.name == "audit chain check")
    assert "intact" in job.run()
    first.refresh_from_db()
    assert first.intact and first.requested_by == "auditor1"
    assert job.run() == ""  # nothing asked, nothing due


def test_the_auditor_reads_the_result_in_arabic_and_asks_for_a_walk(auditor: User) -> None:
    _some_events()
    client = Client()  # Arabic
    client.force_login(auditor)
    assert reverse("core:audit_integrity") in client.get("/", follow=True).content.decode()
    page = client.get(PAGE).content.decode()
    assert "لم يُفحص سجل التدقيق بعد" in page
    assert "اليوم الأول" in page and "اليوم الأخير" in page  # the download's days
    asked = client.post(PAGE, follow=True).content.decode()
    assert "طُلب الفحص" in asked
    run_due_check()
    page = client.get(PAGE).content.decode()
    assert "سليم في" in page and "auditor1" in page
    # Counted as Arabic counts: five test events and the request, in one chain.
    assert "6 أحداث، كل منها مربوط" in page and "في سلسلة واحدة." in page

    AuditEvent.objects.filter(seq=2).delete()  # a missing event
    request_check(auditor)
    run_due_check()
    page = client.get(PAGE).content.decode()
    assert "مكسور في" in page and "seq 2" in page


def test_only_auditors_and_administrators_may_see_or_ask(clerk: User, make_user: Any) -> None:
    client = Client()
    client.force_login(clerk)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE).status_code == 403
    assert not ChainCheck.objects.exists()
    supervisor = make_user("sup1", roles.SUPERVISOR)
    client.force_login(supervisor)
    assert client.get(PAGE).status_code == 403
    anonymous = Client().get(PAGE)
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]


# ---------------------------------------------------------------- downloading the log

EXPORT = "/audit/export.csv"


def _events_on(day: dt.date, action: str) -> None:
    moment = timezone.make_aware(dt.datetime.combine(day, dt.time(10, 0)))
    with time_machine.travel(moment):
        audit.record(action, actor="c03.clerk", note="بيان قيد")


def test_the_auditor_downloads_the_days_asked_and_the_download_is_recorded(
    auditor: User,
) -> None:
    today = timezone.localdate()
    _events_on(today - dt.timedelta(days=10), "payments.session_opened")
    _events_on(today - dt.timedelta(days=3), "payments.receipt_issued")
    _events_on(today - dt.timedelta(days=1), "document.revoked")
    client = Client()  # Arabic
    client.force_login(auditor)
    start, end = today - dt.timedelta(days=4), today - dt.timedelta(days=1)
    response = client.get(EXPORT, {"start": start.isoformat(), "end": end.isoformat()})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    raw = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["الرقم التسلسلي", "الوقت", "المنفّذ", "ما جرى"]
    assert [row[4] for row in rows[1:]] == ["payments.receipt_issued", "document.revoked"]
    assert rows[1][3] == "صدر إيصال" and "بيان قيد" in rows[1][8]
    event = AuditEvent.objects.get(pk=AuditEvent.objects.get(seq=rows[2][0]).pk)
    assert rows[2][9:] == [event.prev_hash, event.hash]
    taken = AuditEvent.objects.get(action="audit.exported")
    assert taken.actor == "auditor1" and taken.data["events"] == 2
    assert taken.data["start"] == start.isoformat() and taken.data["end"] == end.isoformat()


def test_a_period_that_ends_before_it_starts_is_refused_in_arabic(auditor: User) -> None:
    client = Client()
    client.force_login(auditor)
    response = client.get(EXPORT, {"start": "2026-12-05", "end": "2026-12-01"})
    assert response.status_code == 400
    assert "تنتهي الفترة قبل أن تبدأ" in response.content.decode()
    assert client.get(EXPORT, {"start": "يوم", "end": ""}).status_code == 400
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_only_auditors_and_administrators_may_download(clerk: User) -> None:
    client = Client()
    client.force_login(clerk)
    assert client.get(EXPORT, {"start": "2026-12-01", "end": "2026-12-05"}).status_code == 403
    assert not AuditEvent.objects.filter(action="audit.exported").exists()


def test_a_walk_under_way_in_another_pump_is_not_started_twice() -> None:
    _some_events()
    ChainCheck.objects.create(state=ChainCheck.State.RUNNING, started_at=timezone.now())
    assert run_due_check() is None
    later = timezone.now() + dt.timedelta(hours=3)  # that pump died: its walk is taken again
    check = run_due_check(later)
    assert check is not None and check.intact and ChainCheck.objects.count() == 1
