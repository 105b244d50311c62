"""Bills from readings (recorded once, refused when they contradict), looked up oldest
first, paid at the counter: one receipt for several, never twice."""

from __future__ import annotations

import datetime as dt

import pytest

from baladiya.accounts.models import Citizen, User
from baladiya.centers.models import Center
from baladiya.core.errors import Conflict, DomainError, NotAllowed
from baladiya.core.models import AuditEvent
from baladiya.payments import services as pay
from baladiya.payments.models import Receipt
from baladiya.water.models import Bill, BillPayment, Category, Subscription
from baladiya.water.seed import seed_tariffs
from baladiya.water.services import find_subscriptions, pay_bills, record_bill, unpaid_bills

pytestmark = pytest.mark.django_db


@pytest.fixture
def meter(citizen: Citizen) -> Subscription:
    seed_tariffs()
    return Subscription.objects.create(
        meter_number="HMS-0042117",
        subscriber=citizen,
        address="حي الإنشاءات، شارع الحضارة 12",
        category=Category.HOUSEHOLD,
        active_since=dt.date(2015, 3, 1),
    )


def _bills(meter: Subscription) -> list[Bill]:
    made = []
    for cycle, end, prev, cur in (
        ("2026-02", dt.date(2026, 4, 30), 1200, 1260),  # 60 m³ at 400 = 24,000
        ("2026-01", dt.date(2026, 2, 28), 1160, 1200),  # 40 m³ at 150 = 6,000
    ):
        bill, _ = record_bill(meter, cycle, end, prev, cur)
        made.append(bill)
    return made


def test_a_bill_is_priced_from_its_readings_and_recorded_once(meter: Subscription) -> None:
    bill, created = record_bill(meter, "2026-01", dt.date(2026, 2, 28), 1160, 1200)
    assert created and bill.consumption == 40 and bill.amount == 40 * 150
    again, created_again = record_bill(meter, "2026-01", dt.date(2026, 2, 28), 1160, 1200)
    assert again.pk == bill.pk and not created_again
    with pytest.raises(Conflict):
        record_bill(meter, "2026-01", dt.date(2026, 2, 28), 1160, 1300)
    with pytest.raises(DomainError) as backwards:
        record_bill(meter, "2026-02", dt.date(2026, 4, 30), 1200, 1100)
    assert backwards.value.code == "reading_backwards"
    assert Bill.objects.count() == 1
    assert AuditEvent.objects.filter(action="water.bill_recorded").count() == 1


def test_found_by_meter_or_national_number_with_the_oldest_debt_first(
    meter: Subscription, citizen: Citizen
) -> None:
    _bills(meter)
    assert list(find_subscriptions(" HMS-0042117 ")) == [meter]
    assert list(find_subscriptions(citizen.national_number)) == [meter]
    assert list(find_subscriptions("")) == []
    assert [b.cycle for b in unpaid_bills(meter)] == ["2026-01", "2026-02"]


def test_paying_several_bills_makes_one_receipt_and_never_twice(
    meter: Subscription, cashier: User, center: Center
) -> None:
    pay.open_session(cashier, 0)
    bills = _bills(meter)
    receipt = pay_bills(bills, cashier, center)
    assert receipt.amount == 6_000 + 24_000
    assert receipt.number.startswith("C03-R")
    assert not unpaid_bills(meter).exists()
    assert BillPayment.objects.filter(receipt=receipt).count() == 2

    with pytest.raises(Conflict) as twice:  # a double click, or a second cashier
        pay_bills(bills, cashier, center)
    assert twice.value.code == "bill_paid"
    assert Receipt.objects.count() == 1
    assert BillPayment.objects.count() == 2


def test_wrong_role_or_center_pays_nothing(
    meter: Subscription, clerk: User, other_cashier: User, center: Center
) -> None:
    bills = _bills(meter)
    with pytest.raises(NotAllowed):
        pay_bills(bills, clerk, center)
    pay.open_session(other_cashier, 0)
    with pytest.raises(NotAllowed):
        pay_bills(bills, other_cashier, center)  # a cashier of another center
    assert Receipt.objects.count() == 0
    assert unpaid_bills(meter).count() == 2
