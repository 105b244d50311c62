"""Water collections per center and day (and month): the directorate sees every center, a
supervisor of a center that center only, other roles nothing; the figures are the receipts'."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

import pytest
from django.urls import reverse
from django.utils import timezone

from baladiya.accounts import roles
from baladiya.accounts.models import Citizen, User
from baladiya.centers.models import Center
from baladiya.core.testing import logged_in
from baladiya.payments import services as pay
from baladiya.water.collections import by_center, by_day, month_bounds, report_centers
from baladiya.water.models import Bill, Category, Subscription
from baladiya.water.services import pay_bills, record_bill

pytestmark = pytest.mark.django_db


@pytest.fixture
def collected(
    tariffs: None,
    citizen: Citizen,
    cashier: User,
    other_cashier: User,
    center: Center,
    other_center: Center,
) -> dt.date:
    """Today: C03 takes two receipts (three bills), C05 one receipt (one bill)."""
    meters = [
        Subscription.objects.create(
            meter_number=f"HMS-70{i}",
            subscriber=citizen,
            address="الوعر",
            category=Category.HOUSEHOLD,
            active_since=dt.date(2015, 3, 1),
        )
        for i in range(3)
    ]

    def bill(meter: Subscription, cycle: str, used: int) -> Bill:
        end = {"2026-01": dt.date(2026, 2, 28), "2026-02": dt.date(2026, 4, 30)}[cycle]
        return record_bill(meter, cycle, end, 100, 100 + used)[0]

    pay.open_session(cashier, 0)
    pay.open_session(other_cashier, 0)
    pay_bills([bill(meters[0], "2026-01", 40), bill(meters[0], "2026-02", 40)], cashier, center)
    pay_bills([bill(meters[1], "2026-01", 60)], cashier, center)  # 24,000
    pay_bills([bill(meters[2], "2026-01", 10)], other_cashier, other_center)  # 1,500
    return timezone.localdate()


def test_totals_per_center_day_and_month(
    collected: dt.date, center: Center, other_center: Center
) -> None:
    centers = [center, other_center]
    today = {
        t.center.code: (t.receipts, t.bills, t.amount)
        for t in by_center(centers, collected, collected)
    }
    assert today == {"C03": (2, 3, 12_000 + 24_000), "C05": (1, 1, 1_500)}
    first, last = month_bounds(collected)
    assert first.day == 1 and (last + dt.timedelta(days=1)).day == 1
    days = by_day(centers, first, last)
    assert len(days) == last.day
    assert [(d.receipts, d.amount) for d in days if d.amount] == [(3, 37_500)]
    yesterday = collected - dt.timedelta(days=1)
    assert all(t.amount == 0 for t in by_center(centers, yesterday, yesterday))


def test_the_directorate_sees_every_center_with_bars(
    collected: dt.date, officer: User, center: Center, other_center: Center
) -> None:
    response = logged_in(officer).get(reverse("water:exchange_collections"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "C03" in html and "C05" in html
    assert "360.00" in html and "15.00" in html and "375.00" in html  # C03, C05, total (SYP)
    main = html.split('<main id="main">')[1]
    assert (
        "<svg" in main
        and "<script" not in main
        and "http" not in main.replace('xmlns="http://www.w3.org/2000/svg"', "")
    )  # drawn here: no chart library, nothing fetched from elsewhere
    widths = re.findall(r"width:([0-9.]+)%", html)
    assert "100.0" in widths  # C03's bar is the longest
    assert "Send it to the establishment" in html


def test_a_center_supervisor_sees_only_that_center(
    collected: dt.date, supervisor: User, other_center: Center
) -> None:
    client = logged_in(supervisor)
    html = client.get(reverse("water:exchange_collections")).content.decode()
    assert "C03" in html and "C05" not in html and "15.00" not in html
    assert "Send it to the establishment" not in html
    refused = client.get(reverse("water:exchange_collections"), {"center": "C05"})
    assert refused.status_code == 403
    assert client.get(reverse("water:exchange_collections"), {"center": "C77"}).status_code == 404
    assert client.get(reverse("water:exchange_collections_file")).status_code == 403
    assert client.post(reverse("water:exchange_collections_send")).status_code == 403


def test_a_supervisor_of_no_center_and_an_auditor_see_the_network(
    collected: dt.date, make_user: Callable[..., User], auditor: User
) -> None:
    chief = make_user("chief", roles.SUPERVISOR)
    for user in (chief, auditor):
        assert [c.code for c in report_centers(user)] == ["C03", "C05"]
        html = logged_in(user).get(reverse("water:exchange_collections"), {"center": "C05"})
        assert html.status_code == 200 and "15.00" in html.content.decode()


@pytest.mark.parametrize("who", ["clerk", "cashier", "civil_officer"])
def test_other_roles_see_no_collections(
    request: pytest.FixtureRequest, collected: dt.date, who: str
) -> None:
    user = request.getfixturevalue(who)
    assert report_centers(user) == []
    assert logged_in(user).get(reverse("water:exchange_collections")).status_code == 403


def test_the_directorate_downloads_and_sends_the_days_file(
    collected: dt.date, officer: User
) -> None:
    client = logged_in(officer)
    download = client.get(
        reverse("water:exchange_collections_file"), {"date": collected.isoformat()}
    )
    assert download.status_code == 200
    assert download.content.decode().splitlines()[-1].startswith("TOTAL,4,,,,37500,")
    sent = client.post(
        reverse("water:exchange_collections_send"), {"date": collected.isoformat()}, follow=True
    )
    assert "the establishment&#x27;s receipt WE-" in sent.content.decode()
    assert "WE-" in sent.content.decode().split('id="send"')[1]


def test_a_bad_date_falls_back_to_today(collected: dt.date, officer: User) -> None:
    response = logged_in(officer).get(reverse("water:exchange_collections"), {"date": "2026-02-31"})
    assert response.status_code == 200
    assert collected.isoformat() in response.content.decode()


def test_the_demo_brings_subscriptions_and_bills_through_the_establishments_files(
    tariffs: None,
    citizen: Citizen,
    cashier: User,
    center: Center,
    officer: User,
    sandbox: object,
) -> None:
    from baladiya.water.demo import CYCLES, METERS, seed_water_demo
    from baladiya.water.models import ImportBatch

    pay.open_session(cashier, 0)
    tally = seed_water_demo([citizen], {center.pk: cashier}, officer)
    assert tally["water subscriptions"] == METERS == Subscription.objects.count()
    assert Bill.objects.count() == METERS * CYCLES
    assert set(ImportBatch.objects.values_list("source", flat=True)) == {"establishment"}
    paid = Bill.objects.filter(state="paid").count()
    assert paid == tally["water bills paid"] and 0 < paid < Bill.objects.count()
    today = by_center([center], timezone.localdate(), timezone.localdate())[0]
    assert today.bills == paid and today.amount > 0
    assert seed_water_demo([citizen], {center.pk: cashier}, officer) == {}  # once


def test_the_page_in_arabic_keeps_the_bars_geometry_latin(
    collected: dt.date, officer: User
) -> None:
    html = logged_in(officer, "ar").get(reverse("water:exchange_collections")).content.decode()
    assert 'dir="rtl"' in html
    assert re.search(r"width:100\.0%", html) and re.search(r'<rect class="bar" x="\d+"', html)


def test_the_navigation_filters_follow_the_page_rules(
    db: None, officer: User, supervisor: User, clerk: User, civil_officer: User
) -> None:
    from baladiya.water.templatetags.water_exchange import (
        exchanges_water_files,
        sees_water_collections,
    )

    assert [exchanges_water_files(u) for u in (officer, supervisor, clerk, civil_officer)] == [
        True,
        False,
        False,
        False,
    ]
    assert [sees_water_collections(u) for u in (officer, supervisor, clerk, civil_officer)] == [
        True,
        True,
        False,
        False,
    ]
