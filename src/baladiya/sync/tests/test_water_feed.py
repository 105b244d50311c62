"""Water bills go down to the centers that collect them (issue 4 point 3, issue 5 point 4):
a center gets the subscriptions of the neighbourhoods it serves, their subscribers, and
their bills; a first pull only the unpaid ones, later every change (a bill paid elsewhere
must show paid there). Another neighbourhood's meters stay away."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from baladiya.accounts.models import Citizen, User
from baladiya.centers.models import Center, Neighbourhood
from baladiya.sync import capture, central
from baladiya.sync.tests.nodes import FakeNode
from baladiya.water.models import Bill, Category, Subscription
from baladiya.water.seed import seed_tariffs
from baladiya.water.services import pay_bills, record_bill

pytestmark = pytest.mark.django_db(transaction=False)


def _meter(number: str, citizen: Citizen, where: Neighbourhood) -> Subscription:
    return Subscription.objects.create(
        meter_number=number,
        subscriber=citizen,
        address="شارع الحضارة",
        neighbourhood=where,
        category=Category.HOUSEHOLD,
        active_since=dt.date(2020, 1, 1),
    )


@pytest.fixture
def areas(center: Center) -> tuple[Neighbourhood, Neighbourhood]:
    served = Neighbourhood.objects.create(name_ar="الإنشاءات", name_en="al-Inshaat")
    elsewhere = Neighbourhood.objects.create(name_ar="الوعر", name_en="al-Waer")
    center.neighbourhoods.add(served)
    seed_tariffs()
    return served, elsewhere


def _rows(page: dict[str, Any], label: str) -> dict[str, dict[str, Any]]:
    return {str(r["pk"]): r for r in page["rows"] if r["model"] == label}


def _enrolled(center: Center, admin_user: User) -> FakeNode:
    node = FakeNode(Client(), center.code)
    assert node.enrol(central.create_enrolment_code(center.code, admin_user)).status_code == 200
    capture.forget_enrolled_cache()
    return node


def test_a_first_pull_brings_the_served_area_unpaid_bills_only(
    center: Center,
    admin_user: User,
    citizen: Citizen,
    areas: tuple[Neighbourhood, Neighbourhood],
    cashier: User,
) -> None:
    from baladiya.payments import services as pay

    served, elsewhere = areas
    here = _meter("HMS-100", citizen, served)
    away = _meter("HMS-200", citizen, elsewhere)
    old, _ = record_bill(here, "2026-01", dt.date(2026, 2, 28), 100, 130)
    due, _ = record_bill(here, "2026-02", dt.date(2026, 4, 30), 130, 170)
    record_bill(away, "2026-02", dt.date(2026, 4, 30), 10, 40)
    pay.open_session(cashier, 0)
    pay_bills([old], cashier, center)

    node = _enrolled(center, admin_user)
    page = node.changes(0).json()

    assert set(_rows(page, "water.subscription")) == {str(here.pk)}
    assert set(_rows(page, "water.bill")) == {str(due.pk)}  # the paid one is no debt
    assert str(citizen.pk) in _rows(page, "accounts.citizen")
    assert {"water.tariff", "water.slab"} <= {r["model"] for r in page["rows"]}


def test_later_bills_and_payments_elsewhere_come_through_the_feed(
    center: Center,
    admin_user: User,
    citizen: Citizen,
    areas: tuple[Neighbourhood, Neighbourhood],
    other_center: Center,
    other_cashier: User,
) -> None:
    from baladiya.payments import services as pay

    served, elsewhere = areas
    here = _meter("HMS-100", citizen, served)
    node = _enrolled(center, admin_user)
    cursor = node.changes(0).json()["cursor"]

    # The establishment's next cycle arrives centrally; a new meter in the area too.
    bill, _ = record_bill(here, "2026-03", dt.date(2026, 6, 30), 170, 200)
    neighbour = Citizen.objects.create(
        national_number="04011999888",
        first_name="هبة",
        father_name="سامر",
        last_name="الجندي",
        mother_name="رنا",
        birth_date=dt.date(1991, 1, 9),
    )
    new_meter = _meter("HMS-101", neighbour, served)
    _meter("HMS-201", neighbour, elsewhere)  # not this center's
    page = node.changes(cursor).json()
    assert set(_rows(page, "water.bill")) == {str(bill.pk)}
    assert set(_rows(page, "water.subscription")) == {str(new_meter.pk)}
    assert str(neighbour.pk) in _rows(page, "accounts.citizen")

    # Paid at C05 (online with central): C03 learns it is paid and will not take it again.
    pay.open_session(other_cashier, 0)
    pay_bills([bill], other_cashier, other_center)
    page = node.changes(page["cursor"]).json()
    assert _rows(page, "water.bill")[str(bill.pk)]["fields"]["state"] == "paid"


def test_an_import_written_in_bulk_still_feeds_the_center(
    center: Center,
    admin_user: User,
    citizen: Citizen,
    areas: tuple[Neighbourhood, Neighbourhood],
) -> None:
    """`bulk_create` sends no signal: the writer reports its rows (`capture.rows_changed`)."""
    served, elsewhere = areas
    node = _enrolled(center, admin_user)
    cursor = node.changes(0).json()["cursor"]
    meters = Subscription.objects.bulk_create(
        [
            Subscription(
                meter_number=f"HMS-3{i:02d}",
                subscriber=citizen,
                address="x",
                neighbourhood=served if i % 2 else elsewhere,
                category=Category.HOUSEHOLD,
                active_since=dt.date(2020, 1, 1),
            )
            for i in range(10)
        ]
    )
    capture.rows_changed(Subscription, [m.pk for m in meters])
    bills = Bill.objects.bulk_create(
        [
            Bill(
                subscription=m,
                cycle="2026-04",
                period_end=dt.date(2026, 8, 31),
                previous_reading=0,
                current_reading=20,
                consumption=20,
                amount=5000,
                due_date=dt.date(2026, 9, 30),
            )
            for m in meters
        ]
    )
    capture.rows_changed(Bill, [b.pk for b in bills])

    page = node.changes(cursor).json()
    served_meters = {str(m.pk) for m in meters if m.neighbourhood_id == served.pk}
    assert set(_rows(page, "water.subscription")) == served_meters
    billed = {str(r["fields"]["subscription"]) for r in _rows(page, "water.bill").values()}
    assert billed == served_meters


def test_a_neighbourhood_handed_to_a_center_brings_its_meters(
    center: Center,
    admin_user: User,
    citizen: Citizen,
    areas: tuple[Neighbourhood, Neighbourhood],
) -> None:
    """The directorate gives C03 al-Waer while its own center is closed for repairs."""
    _served, elsewhere = areas
    away = _meter("HMS-200", citizen, elsewhere)
    due, _ = record_bill(away, "2026-02", dt.date(2026, 4, 30), 10, 40)
    node = _enrolled(center, admin_user)
    cursor = node.changes(0).json()["cursor"]
    center.neighbourhoods.add(elsewhere)
    page = node.changes(cursor).json()
    assert set(_rows(page, "water.subscription")) == {str(away.pk)}
    assert set(_rows(page, "water.bill")) == {str(due.pk)}
    assert str(citizen.pk) in _rows(page, "accounts.citizen")
