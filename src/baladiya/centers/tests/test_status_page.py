"""The directorate's status page: what it shows, who may read it, who may note a cause."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from baladiya.accounts.models import User
from baladiya.centers.models import Center, CenterStatus, Outage
from baladiya.centers.status import detect_outages
from baladiya.centers.tests.conftest import Beat
from baladiya.core.models import AuditEvent
from baladiya.core.testing import logged_in

pytestmark = pytest.mark.django_db
MIN = dt.timedelta(minutes=1)


@pytest.fixture
def network(center: Center, c04: Center, other_center: Center, beat: Beat, settings: Any) -> Any:
    """C03 online on the grid, C04 (solar, 10 kW) offline for 40 min and alerted, C05 silent
    for ever (never reported); one closed outage at C03 yesterday evening."""
    settings.CENTER_ALERT_PHONES = []
    now = timezone.now()
    Center.objects.filter(pk=center.pk).update(solar_kw=None)
    beat(center, now - 2 * MIN, "grid", 7)
    beat(c04, now - 40 * MIN, "battery", 3)
    detect_outages(now)
    yesterday = timezone.localtime(now).replace(hour=19, minute=0) - dt.timedelta(days=1)
    closed = Outage.objects.create(
        center=center,
        started_at=yesterday,
        ended_at=yesterday + 90 * MIN,
        cause=Outage.Cause.UNKNOWN,
    )
    return {"closed": closed, "open": Outage.objects.get(center=c04, ended_at=None)}


def test_officer_sees_every_center_its_power_uptime_and_alerts(officer: User, network: Any) -> None:
    response = logged_in(officer).get(reverse("centers:status"))
    assert response.status_code == 200
    html = response.content.decode()
    c03 = html[html.index('id="center-C03"') : html.index('id="center-C04"')]
    assert "Online" in c03 and "Grid" in c03 and ">7<" in c03 and "0.4.2" in c03
    c04 = html[html.index('id="center-C04"') : html.index('id="center-C05"')]
    assert "Offline" in c04 and "Battery" in c04 and "10.0 kW" in c04 and "sent" in c04
    c05 = html[html.index('id="center-C05"') :]
    assert "No heartbeat yet" in c05
    assert 'id="alerts"' in html and "C04 offline since" in html
    assert "No alert number is configured" in html
    assert "<svg" in html and html.count("<rect") >= 3 * 30  # a bar per center and day
    assert "<script" not in html.split("<main", 1)[1]
    outages = html[html.index('id="outages"') :]
    assert "ongoing" in outages and "1 h 30 min" in outages and "Power cut" in outages
    assert reverse("centers:outage", args=[network["open"].pk]) in outages  # edit links


def test_page_is_arabic_by_default(officer: User, network: Any) -> None:
    html = logged_in(officer, "ar").get(reverse("centers:status")).content.decode()
    assert 'dir="rtl"' in html and "حالة المراكز" in html


def test_auditor_reads_without_edit_links(auditor: User, network: Any) -> None:
    response = logged_in(auditor).get(reverse("centers:status"))
    assert response.status_code == 200
    assert reverse("centers:outage", args=[network["closed"].pk]) not in response.content.decode()
    edit = logged_in(auditor).post(
        reverse("centers:outage", args=[network["closed"].pk]), {"cause": "network"}
    )
    assert edit.status_code == 403
    assert Outage.objects.get(pk=network["closed"].pk).cause == "unknown"


@pytest.mark.parametrize("who", ["clerk", "cashier", "supervisor", "agency_officer"])
def test_center_staff_and_agency_officers_get_403(
    who: str, request: pytest.FixtureRequest, network: Any
) -> None:
    user = request.getfixturevalue(who)
    response = logged_in(user).get(reverse("centers:status"))
    assert response.status_code == 403
    assert "informatics directorate" in response.content.decode()
    edit = logged_in(user).get(reverse("centers:outage", args=[network["closed"].pk]))
    assert edit.status_code == 403


def test_anonymous_is_sent_to_login(network: Any, client: Any) -> None:
    response = client.get(reverse("centers:status"))
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_officer_sets_cause_and_note_audited(officer: User, network: Any) -> None:
    outage = network["closed"]
    url = reverse("centers:outage", args=[outage.pk])
    page = logged_in(officer).get(url)
    assert page.status_code == 200 and 'name="csrfmiddlewaretoken"' in page.content.decode()
    response = logged_in(officer).post(
        url, {"cause": "network", "note": "ADSL line down; the provider fixed it."}
    )
    assert response.status_code == 302
    outage.refresh_from_db()
    assert (outage.cause, outage.note) == ("network", "ADSL line down; the provider fixed it.")
    event = AuditEvent.objects.get(action="center.outage_noted")
    assert event.actor == officer.username and event.data["cause_before"] == "unknown"
    html = logged_in(officer).get(response["Location"]).content.decode()
    assert "Network" in html and "ADSL line down" in html


def test_bad_cause_is_a_form_error_and_changes_nothing(officer: User, network: Any) -> None:
    outage = network["closed"]
    url = reverse("centers:outage", args=[outage.pk])
    response = logged_in(officer, "ar").post(url, {"cause": "aliens", "note": "x"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "errorlist" in html and "انتق خياراً صحيحاً" in html  # in Arabic
    too_long = logged_in(officer).post(url, {"cause": "power", "note": "x" * 2001})
    assert too_long.status_code == 200 and "at most 2000" in too_long.content.decode()
    outage.refresh_from_db()
    assert (outage.cause, outage.note) == ("unknown", "")
    assert not AuditEvent.objects.filter(action="center.outage_noted").exists()


def test_unknown_outage_is_404(officer: User, network: Any) -> None:
    url = reverse("centers:outage", args=["0190a1b2-0000-7000-8000-000000000000"])
    assert logged_in(officer).get(url).status_code == 404


def test_outage_log_filters_by_center(officer: User, network: Any) -> None:
    html = logged_in(officer).get(reverse("centers:status") + "?center=C03").content.decode()
    log = html[html.index('id="outages"') :]
    assert "C03" in log and "C04" not in log.split("<tbody>", 1)[1]
    junk = logged_in(officer).get(reverse("centers:status") + "?center=<b>X</b>")
    assert junk.status_code == 200  # an unknown code is ignored, all centers listed


def test_navigation_links_follow_the_roles(officer: User, clerk: User, auditor: User) -> None:
    status_url = reverse("centers:status")
    tickets_url = reverse("centers:tickets")
    nav = {
        u.username: logged_in(u).get(reverse("catalog:services")).content.decode()
        for u in (officer, clerk, auditor)
    }
    assert status_url in nav[officer.username] and status_url in nav[auditor.username]
    assert status_url not in nav[clerk.username] and tickets_url in nav[clerk.username]


def test_empty_network_renders(officer: User) -> None:
    response = logged_in(officer).get(reverse("centers:status"))
    assert response.status_code == 200 and "No center" in response.content.decode()


def test_solar_column_says_no_for_grid_centers(officer: User, center: Center, beat: Beat) -> None:
    Center.objects.filter(pk=center.pk).update(power_source="grid", solar_kw=None)
    beat(center, timezone.now())
    html = logged_in(officer).get(reverse("centers:status")).content.decode()
    row = html[html.index('id="center-C03"') :]
    assert ">No<" in row.split("</tr>", 1)[0]
    assert CenterStatus.objects.get(center=center).online
